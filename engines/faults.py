"""A fault-planting wrapper engine: the failures long-form TTS is known for, planted on chosen chunks.

``FaultySpeech(inner, ...)`` speaks like ``inner`` (same model_id and voices, so jobs and caches match) but on
chosen chunks — by speech text, by call order index, or at a seeded rate — returns a faulty take and records
what it planted in ``planted``. A fault is planted on the first take of a text only (a re-take with a new seed is
clean, as a real bad take usually is) unless ``sticky`` is set, which makes every take of it faulty (to test
accepted-with-failure).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

__all__ = ["Fault", "FaultySpeech", "Planted", "plant"]

OTHER_SENTENCE = "The committee will meet again on Tuesday to discuss the harbour repairs and the new budget."


class Fault(StrEnum):
    TRUNCATE = "truncate"              # the take stops at 55% of its audio
    DROP_WORDS = "drop_words"          # a third of the words (at least one) are not said
    OTHER_SENTENCE = "other_sentence"  # a different sentence is said
    PAD_SILENCE = "pad_silence"        # 3 s of silence after the speech
    INNER_SILENCE = "inner_silence"    # 3 s of silence inside the speech
    NOISE_TAIL = "noise_tail"          # 1.5 s of hiss after the speech
    MURMUR_TAIL = "murmur_tail"        # 1.5 s of murmur (reversed, muffled speech) after the speech
    CLIP = "clip"                      # 18 dB too loud, clipped
    SILENCE = "silence"                # nothing but silence
    RUNAWAY = "runaway"                # babbles on until the token cap


@dataclass(frozen=True)
class Planted:
    index: int        # order of the text among all texts this wrapper synthesized
    text: str
    seed: int
    fault: Fault


def _drop_words(text: str) -> str:
    w = text.split()
    n = max(1, len(w) // 3)
    start = max(0, (len(w) - n) // 2)
    return " ".join(w[:start] + w[start + n:])


def _lowpass(x: np.ndarray, width: int) -> np.ndarray:
    return np.convolve(x, np.ones(width, np.float32) / width, mode="same").astype(np.float32)


def plant(fault: Fault, audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The audio-level part of a fault (text-level ones, words dropped and another sentence, change the text)."""
    x = np.asarray(audio, np.float32)
    sr = sample_rate
    if fault == Fault.TRUNCATE:
        return x[: int(len(x) * 0.55)].copy()
    if fault == Fault.PAD_SILENCE:
        return np.concatenate([x, np.zeros(3 * sr, np.float32)])
    if fault == Fault.INNER_SILENCE:
        mid = len(x) // 2
        return np.concatenate([x[:mid], np.zeros(3 * sr, np.float32), x[mid:]])
    if fault == Fault.NOISE_TAIL:
        return np.concatenate([x, (rng.standard_normal(int(1.5 * sr)) * 0.03).astype(np.float32)])
    if fault == Fault.MURMUR_TAIL:
        src = x[::-1][: int(1.5 * sr)]
        murmur = _lowpass(src, max(1, sr // 2000)) * 0.5
        return np.concatenate([x, murmur])
    if fault == Fault.CLIP:
        return np.clip(x * 8.0, -1.0, 1.0)
    if fault == Fault.SILENCE:
        return np.zeros_like(x)
    if fault == Fault.RUNAWAY:
        babble = _lowpass(x[::-1], max(1, sr // 3000)) * 0.6
        return np.concatenate([x, babble, x, babble])
    return x


class FaultySpeech:
    """``Speech`` wrapper; see the module docstring. ``faults`` maps a speech text or a call index to a fault."""

    def __init__(self, inner, faults: Mapping[str | int, Fault] | None = None, rate: float = 0.0, seed: int = 0,
                 kinds: Sequence[Fault] = tuple(Fault), sticky: bool = False):
        self.inner = inner
        self.model_id = inner.model_id
        self.sample_rate = inner.sample_rate
        self.faults = dict(faults or {})
        self.rate, self.seed, self.kinds, self.sticky = rate, seed, tuple(kinds), sticky
        self.planted: list[Planted] = []
        self._seen: set[str] = set()
        self._count = 0
        self._lock = threading.Lock()

    def prepare_voice(self, clip):
        return self.inner.prepare_voice(clip)

    def load_voice(self, path):
        return self.inner.load_voice(path)

    def _choose(self, index: int, text: str) -> Fault | None:
        if text in self.faults:
            return self.faults[text]
        if index in self.faults:
            return self.faults[index]
        if self.rate > 0:
            h = int.from_bytes(hashlib.sha256(f"{self.seed}:{text}".encode()).digest()[:8], "big")
            if (h % 1_000_000) / 1_000_000 < self.rate:
                return self.kinds[(h // 1_000_000) % len(self.kinds)]
        return None

    def synthesize_takes(self, texts: list[str], voice, params=None, seeds: list[int] | None = None) -> list:
        """Takes (``qa.types.Take``) so a runaway can say it hit its cap, as the model facade does."""
        from qa.types import Take

        seeds = list(seeds) if seeds is not None else [0] * len(texts)
        with self._lock:
            chosen = []
            for text, seed in zip(texts, seeds, strict=True):
                fault = self._choose(self._count, text)
                if fault is not None and (self.sticky or text not in self._seen):
                    self.planted.append(Planted(self._count, text, seed, fault))
                else:
                    fault = None
                self._seen.add(text)
                self._count += 1
                chosen.append(fault)
        said = [_drop_words(t) if f == Fault.DROP_WORDS else OTHER_SENTENCE if f == Fault.OTHER_SENTENCE else t
                for t, f in zip(texts, chosen, strict=True)]
        audios = self.inner.synthesize(said, voice, params, seeds)
        takes = []
        for text, seed, fault, audio in zip(texts, seeds, chosen, audios, strict=True):
            cap = params.token_cap(text) if hasattr(params, "token_cap") else 1000
            tokens = int(len(audio) / self.sample_rate * 25)  # Chatterbox makes 25 speech tokens per second
            if fault is None:
                takes.append(Take(np.asarray(audio, np.float32), min(tokens, cap), cap, False))
                continue
            rng = np.random.default_rng(seed)
            bad = plant(fault, audio, self.sample_rate, rng)
            runaway = fault == Fault.RUNAWAY
            takes.append(Take(bad, cap if runaway else min(tokens, cap), cap, runaway))
        return takes

    def synthesize(self, texts: list[str], voice, params=None, seeds: list[int] | None = None) -> list[np.ndarray]:
        return [t.audio for t in self.synthesize_takes(texts, voice, params, seeds)]
