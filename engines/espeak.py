"""An espeak-ng speech engine behind the pipeline's ``Speech`` protocol: intelligible, instant, deterministic.

For integration tests (real words that ASR can check, faults planted by ``engines.faults``) and for proof-
listening a whole book (pronunciation, chapter structure) in minutes before spending GPU time. It cannot clone
a voice: ``prepare_voice(clip)`` ignores the clip and returns the engine's espeak voice. The seed varies pitch and
rate a little, so a re-take with a new seed is a different (still deterministic) take.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines.errors import EspeakUnavailableError

__all__ = ["EspeakEngine", "EspeakSpeech", "EspeakVoice", "espeak_available"]

SAMPLE_RATE = 22050


def espeak_available(binary: str = "espeak-ng") -> bool:
    return shutil.which(binary) is not None


@dataclass(frozen=True)
class EspeakVoice:
    name: str = "en-us"
    speed: int = 165     # words per minute
    pitch: int = 50      # 0-99

    @property
    def key(self) -> str:
        ident = json.dumps({"engine": "espeak-ng", **asdict(self)}, sort_keys=True)
        return "espeak-" + hashlib.sha256(ident.encode()).hexdigest()[:24]

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self)), "utf-8")

    @classmethod
    def load(cls, path) -> EspeakVoice:
        return cls(**json.loads(Path(path).read_text("utf-8")))


class EspeakSpeech:
    """``Speech`` protocol: model_id, sample_rate, prepare_voice, load_voice, synthesize."""

    def __init__(self, voice: str = "en-us", speed: int = 165, binary: str = "espeak-ng", workers: int | None = None):
        if not espeak_available(binary):
            raise EspeakUnavailableError(f"{binary} is not installed (Debian: apt-get install espeak-ng)")
        self.binary = binary
        self.voice = EspeakVoice(voice, speed)
        self.model_id = f"espeak-ng:{voice}"
        self.sample_rate = SAMPLE_RATE
        self.workers = workers or min(4, os.cpu_count() or 1)

    def prepare_voice(self, clip: Path | None) -> EspeakVoice:  # a clip cannot be cloned; the espeak voice is used
        return self.voice

    def load_voice(self, path: Path) -> EspeakVoice:
        return EspeakVoice.load(path)

    def synthesize(self, texts: list[str], voice: EspeakVoice, params=None, seeds: list[int] | None = None
                   ) -> list[np.ndarray]:
        """One float32 array per text; ``params`` (the model's SynthesisParams) does not apply and is ignored."""
        seeds = list(seeds) if seeds is not None else [0] * len(texts)
        if len(seeds) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(seeds)} seeds")
        jobs = list(zip(texts, seeds, strict=True))
        if len(jobs) <= 1:
            return [self._one(t, voice, s) for t, s in jobs]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(lambda j: self._one(j[0], voice, j[1]), jobs))

    def _one(self, text: str, voice: EspeakVoice, seed: int) -> np.ndarray:
        pitch = min(99, max(0, voice.pitch + seed % 7 - 3))
        speed = max(80, voice.speed + (seed // 7) % 9 - 4)
        cmd = [self.binary, "--stdout", "-v", voice.name, "-s", str(speed), "-p", str(pitch), "-b", "1"]
        r = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True)
        if r.returncode != 0:
            raise EspeakUnavailableError(f"{self.binary} failed: {r.stderr.decode(errors='replace').strip()[:200]}")
        return _wav_samples(r.stdout)


def _wav_samples(raw: bytes) -> np.ndarray:
    """Samples of espeak's streamed WAV (its header sizes are placeholders, so find the data chunk by name)."""
    at = raw.find(b"data")
    if raw[:4] != b"RIFF" or at < 0:
        raise EspeakUnavailableError("espeak-ng wrote no WAV data")
    pcm = raw[at + 8:]
    pcm = pcm[: len(pcm) // 2 * 2]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


class EspeakEngine:
    """``SpeechEngine``: every model name gives the espeak speech (``--engine espeak``; model = espeak voice)."""

    def __init__(self, voice: str = "en-us", speed: int = 165):
        self._speech = EspeakSpeech(voice, speed)

    def speech(self, model: str | None = None, revision: str | None = None, purpose: str = "synthesis"
               ) -> EspeakSpeech:
        return self._speech
