"""The model's lifetime in a worker process: loaded lazily on first use (so after any fork), one per process
(run one GPU worker process per device), per-task memory released after every task, weights kept.

``Engine.speech(model, revision)`` returns a ``TTSSpeech``: ``model.tts.TTS`` adapted to the pipeline's
``pipeline.speech.Speech`` protocol (voice from a clip file, a batch synthesized with ``SynthesisParams``).
torch is imported only when a model is loaded.

``speech(..., purpose="voice")`` is for preparing voices: it returns the full model if this process has it, and
otherwise loads (once) only the voice networks, so a CPU worker that prepares jobs never loads T3 or S3Gen.
A later ``purpose="synthesis"`` call loads the rest of the model (T3, S3Gen) and adopts the voice networks
already loaded (``TTS.adopt_voice_networks``), so a process that does both (embedded mode) loads every part once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from model.params import SynthesisParams
from pipeline.clips import load_clip_native
from pipeline.errors import TransientError
from pipeline.speech import Purpose
from worker.settings import Settings

__all__ = ["ESPEAK_MODEL", "PURPOSES", "Engine", "TTSSpeech", "current_engine", "engine_batch_size", "release_loaded"]

log = logging.getLogger(__name__)

PURPOSES = tuple(Purpose)
ESPEAK_MODEL = "espeak"   # the model name of jobs made with --engine espeak (engines.EspeakEngine)


# texts per engine call, in batches: T3 gives a finished text's slot the call's next text, so a call of several
# batches keeps the slots full where a call of one batch runs on with its longest text alone. Measured on a book
# (bench/results, stop 21): Turbo 367x real time in calls of 1 batch, 455x in 4, 459x in 8; the original model
# 123x in 2, 135x in 8 (embedded mode gathers whole chapters into a call, so a call must hold several)
CALL_BATCHES = 8


class TTSSpeech:
    """One loaded ``model.tts.TTS`` seen through the pipeline's ``Speech`` protocol."""

    def __init__(self, tts, batch_size: int):
        self.tts = tts
        self.batch_size = batch_size                   # texts decoding at once (slots)
        self.call_size = CALL_BATCHES * batch_size     # texts per call when the caller leaves it to the model

    @property
    def model_id(self) -> str:
        """The model's identity for caches; watermarked audio differs, so it counts as another model."""
        marked = getattr(self.tts, "watermarker", None) is not None
        return self.tts.model_id + ("+perth" if marked else "")

    @property
    def sample_rate(self) -> int:
        return self.tts.sample_rate

    def prepare_voice(self, clip: Path | None):
        if clip is None:
            return self.tts.builtin_voice()
        wav, rate = load_clip_native(clip)   # the model resamples with its own filters
        return self.tts.prepare_voice(wav, rate)

    def load_voice(self, path: Path):
        return self.tts.load_voice(path)

    def synthesize(self, texts: list[str], voice, params: SynthesisParams, seeds: list[int]) -> list[np.ndarray]:
        return [t.audio for t in self.synthesize_takes(texts, voice, params, seeds)]

    def synthesize_takes(self, texts: list[str], voice, params: SynthesisParams, seeds: list[int]) -> list:
        """``model.tts.Take`` per text: its audio and token run (QA's runaway check reads ``hit_cap``)."""
        try:
            return self.tts.synthesize_takes(texts, voice, params, seeds, batch_size=self.batch_size)
        except Exception as exc:
            if _is_out_of_memory(exc):
                self.release()
                raise TransientError(f"device out of memory on a batch of {len(texts)}: {exc}") from exc
            raise

    def release(self) -> None:
        self.tts.release()


def engine_batch_size(settings: Settings, tts) -> int:
    """Texts per engine batch: the one given (--batch-size, TOMECAST_BATCH_SIZE); when none was, on CUDA the
    loaded model's suggestion for the device's free memory, elsewhere ``settings.batch_size`` (8)."""
    if not settings.auto_batch or tts.device.type != "cuda" or tts.t3 is None:
        return settings.batch_size
    batch = tts.suggested_batch_size()
    log.info("batch size %d chosen for %s (free memory; --batch-size sets it)", batch, tts.device)
    return batch


def _is_out_of_memory(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower() and type(exc).__name__ in ("OutOfMemoryError", "RuntimeError")


class Engine:
    """Holds at most one loaded model; loads it on first ``speech()`` call, swaps it if a job asks another.

    Until synthesis is asked for, ``purpose="voice"`` calls get a voice-only model (no T3, no S3Gen)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._speech: TTSSpeech | None = None      # the full model
        self._voice: TTSSpeech | None = None       # a voice-only model, while there is no full one
        self._source: tuple[str, str | None] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether a full (synthesis) model is loaded."""
        return self._speech is not None

    def speech(self, model: str | None = None, revision: str | None = None,
               purpose: Purpose | str = Purpose.SYNTHESIS) -> TTSSpeech:
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
        if model is None:
            model, revision = self.settings.model, self.settings.revision
        if model == ESPEAK_MODEL:   # a job submitted with --engine espeak: any worker speaks it (espeak-ng only)
            from engines import EspeakEngine

            return EspeakEngine().speech(model, revision, purpose)  # type: ignore[return-value]
        with self._lock:
            if self._source != (model, revision):
                if self._source is not None:
                    log.info("switching model %s -> %s", self._source[0], model)
                self._drop()
            if self._speech is not None:
                return self._speech
            if purpose == Purpose.VOICE:
                if self._voice is None:
                    self._voice = self._load(model, revision, ("voice",))
                    self._source = (model, revision)
                return self._voice
            voice, self._voice = self._voice, None
            if voice is None:
                self._speech = self._load(model, revision, ("voice", "synthesis"))
            else:  # voices were prepared here first (embedded mode): keep their networks, load only the rest
                self._speech = self._load(model, revision, ("synthesis",))
                if self._speech.tts.model_id == voice.tts.model_id:
                    self._speech.tts.adopt_voice_networks(voice.tts)
                else:  # the checkpoint changed on disk meanwhile
                    self._speech = self._load(model, revision, ("voice", "synthesis"))
            self._source = (model, revision)
            return self._speech

    def _load(self, model: str, revision: str | None, parts: tuple[str, ...]) -> TTSSpeech:
        import torch

        from model.tts import TTS

        s = self.settings
        if s.threads:
            torch.set_num_threads(s.threads)
        log.info("loading %s%s (%s) on %s (pid %d)", model, f"@{revision}" if revision else "", " and ".join(parts),
                 s.device, os.getpid())
        tts = TTS.load(model, revision=revision, device=s.device, dtype=s.dtype, watermark=s.watermark,
                       batch_size=s.batch_size, parts=parts, compile=s.compile)
        batch = engine_batch_size(s, tts)
        tts.default_batch_size = batch
        return TTSSpeech(tts, batch)

    def _drop(self) -> None:
        if self._speech is not None:
            self._speech.release()
        self._speech = self._voice = None
        self._source = None

    def release(self) -> None:
        if self._speech is not None:
            self._speech.release()


_ENGINE: Engine | None = None
_ENGINE_PID: int | None = None


def _engine_fields(s: Settings) -> tuple:
    return (s.model, s.revision, s.device, s.dtype, s.batch_size, s.auto_batch, s.watermark, s.threads, s.compile)


def current_engine(settings: Settings) -> Engine:
    """This process's engine (a forked child never inherits its parent's: it makes its own, lazily).

    Settings that change the loaded model (model, revision, device, dtype, batch size, watermark, threads,
    compile) get a new engine; the old one is dropped with its model. A job whose model is ``ESPEAK_MODEL``
    (``--engine espeak``) is spoken by ``engines.EspeakEngine`` whatever this process loads."""
    global _ENGINE, _ENGINE_PID
    if (_ENGINE is None or _ENGINE_PID != os.getpid()
            or _engine_fields(_ENGINE.settings) != _engine_fields(settings)):
        _ENGINE, _ENGINE_PID = Engine(settings), os.getpid()
    return _ENGINE


def release_loaded() -> None:
    """Release per-task memory if this process has loaded a model (a no-op on pure CPU workers)."""
    if _ENGINE is not None and _ENGINE_PID == os.getpid():
        _ENGINE.release()
