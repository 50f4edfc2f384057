"""Speech recognition for the ASR check: faster-whisper (CTranslate2), an optional extra (``tomecast[asr]``).

``load_transcriber`` returns None (and logs once that ASR is off) when faster-whisper is not installed, so the
signal checks still run. The model is a hub id ("base.en", "small.en", "large-v3", ...) or a local folder of a
CTranslate2 Whisper model (loaded with ``local_files_only``).

Throughput: Whisper pads every input to a 30 s window, so a 6 s chunk costs as much encoder time as a 30 s one.
``transcribe`` packs consecutive chunks into one window (1 s of silence between them, up to ``pack_seconds``) and
gives each chunk back the words whose midpoints fall in its span: ~4x fewer windows for typical chunks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import AsrUnavailableError
from qa.settings import QASettings

__all__ = ["ASR_RATE", "Transcriber", "Transcript", "Word", "asr_available", "default_model", "load_transcriber",
           "resample"]

log = logging.getLogger(__name__)
ASR_RATE = 16000
GAP_SECONDS = 1.0


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()


def asr_available() -> bool:
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _notice_off(reason: str) -> None:
    log.warning("ASR check is off: %s (signal checks still run)", reason)


def default_model(language: str) -> str:
    """English books use the English-only model; others the multilingual one of the same size."""
    return "base.en" if language.lower().split("-")[0] == "en" else "base"


def resample(audio: np.ndarray, rate: int, target: int = ASR_RATE) -> np.ndarray:
    if rate == target:
        return np.asarray(audio, dtype=np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(audio, target // g, rate // g).astype(np.float32)


class Transcriber:
    """A loaded Whisper model; ``transcribe`` takes many chunks at once."""

    def __init__(self, model: str, device: str = "cpu", compute_type: str = "int8", threads: int = 0,
                 pack_seconds: float = 28.0):
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise AsrUnavailableError("faster-whisper is not installed (pip install 'tomecast[asr]')") from None
        local = Path(model).expanduser()
        try:
            if local.is_dir():
                self.model = WhisperModel(str(local), device=device, compute_type=compute_type, cpu_threads=threads,
                                          local_files_only=True)
            else:
                if os.sep in model or model.startswith("."):
                    raise AsrUnavailableError(f"ASR model folder {model} does not exist")
                self.model = WhisperModel(model, device=device, compute_type=compute_type, cpu_threads=threads)
        except AsrUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - hub or file errors of many kinds: one line for the user
            raise AsrUnavailableError(f"cannot load ASR model {model!r}: {type(exc).__name__}: {exc}") from None
        self.name = model
        self.english_only = model.rstrip("/").endswith(".en") or self.model.model.is_multilingual is False
        self.pack_seconds = pack_seconds

    def transcribe(self, audios: Sequence[tuple[np.ndarray, int]], language: str = "en") -> list[Transcript]:
        """Words heard in each (audio, sample_rate), with times in seconds from that audio's start."""
        lang = language.lower().split("-")[0] or "en"
        if self.english_only:
            lang = "en"
        clips = [resample(a, sr) for a, sr in audios]
        out: list[Transcript | None] = [None] * len(clips)
        for pack in _packs([len(c) / ASR_RATE for c in clips], self.pack_seconds):
            gap = np.zeros(int(GAP_SECONDS * ASR_RATE), np.float32)
            parts, offsets, t = [], [], 0.0
            for i in pack:
                offsets.append(t)
                parts += [clips[i], gap]
                t += len(clips[i]) / ASR_RATE + GAP_SECONDS
            heard = self._words(np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32), lang)
            for i, off in zip(pack, offsets, strict=True):
                end = off + len(clips[i]) / ASR_RATE
                lo, hi = off - GAP_SECONDS / 2, end + GAP_SECONDS / 2
                mine = [w for w in heard if lo <= (w.start + w.end) / 2 < hi]
                out[i] = Transcript(tuple(Word(w.text, max(0.0, w.start - off), min(end, w.end) - off, w.probability)
                                          for w in mine))
        return out  # type: ignore[return-value]

    def _words(self, audio: np.ndarray, lang: str) -> list[Word]:
        if audio.size == 0:
            return []
        # greedy at temperature 0 only: the default fallback to sampling at higher temperatures turns a hard
        # passage into random words (measured: twice the false alarms on espeak speech) and is not repeatable
        segments, _ = self.model.transcribe(audio, language=lang, word_timestamps=True, beam_size=1,
                                            temperature=0.0, condition_on_previous_text=False, vad_filter=False,
                                            without_timestamps=False)
        return [Word(w.word, float(w.start), float(w.end), float(w.probability))
                for s in segments for w in (s.words or [])]


def _packs(durations: list[float], limit: float) -> list[list[int]]:
    """Consecutive chunk indices whose audio plus gaps fits ``limit`` seconds (a longer chunk goes alone)."""
    packs, cur, t = [], [], 0.0
    for i, d in enumerate(durations):
        need = d + (GAP_SECONDS if cur else 0.0)
        if cur and t + need > limit:
            packs.append(cur)
            cur, t = [], 0.0
            need = d
        cur.append(i)
        t += need
    if cur:
        packs.append(cur)
    return packs


def load_transcriber(settings: QASettings, model: str | None = None) -> Transcriber | None:
    """The configured transcriber, or None when ASR is off by setting or faster-whisper is missing (noticed once).
    A model that cannot be loaded is an ``AsrUnavailableError``: the user asked for it."""
    if not settings.asr:
        return None
    if not asr_available():
        _notice_off("faster-whisper is not installed (pip install 'tomecast[asr]')")
        return None
    return Transcriber(model or settings.asr_model, settings.asr_device, settings.asr_compute_type,
                       settings.asr_threads, settings.asr_pack_seconds)
