"""What the pipeline needs of a speech model: the ``Speech`` and ``SpeechEngine`` protocols.

The pipeline never loads a model itself: the caller passes a ``SpeechEngine`` (``worker.engine.Engine`` adapts
``model.tts.TTS``; tests pass small fakes or the real engine on tiny random weights). A new backend plugs in by
implementing these two protocols; nothing in the pipeline changes.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

from model.params import SynthesisParams

__all__ = ["Purpose", "Speech", "SpeechEngine", "VoiceLike"]


class Purpose(StrEnum):
    SYNTHESIS = "synthesis"   # the whole model
    VOICE = "voice"           # only preparing voices: an engine may load just the voice networks


class VoiceLike(Protocol):
    key: str   # content key of the conditioning (the voice cache's file name)

    def save(self, path) -> None: ...


class Speech(Protocol):
    """A loaded model as the pipeline sees it. It may also say how many texts it synthesizes at once
    (``batch_size``, e.g. from a GPU's free memory) and how many it takes best in one call (``call_size``: more
    when it refills finished slots from the call's other texts): embedded mode then fills its calls to that size."""

    model_id: str      # identity for the caches: different audio, different id
    sample_rate: int

    def prepare_voice(self, clip: Path | None) -> VoiceLike: ...           # None: the model's built-in voice
    def load_voice(self, path: Path) -> VoiceLike: ...
    def synthesize(self, texts: list[str], voice: VoiceLike, params: SynthesisParams,
                   seeds: list[int]) -> list[np.ndarray]: ...              # float32 mono at sample_rate, one per text


class SpeechEngine(Protocol):
    def speech(self, model: str, revision: str | None, purpose: Purpose = Purpose.SYNTHESIS) -> Speech:
        """The loaded model; ``Purpose.VOICE`` needs only ``prepare_voice``/``load_voice``, ``model_id`` and
        ``sample_rate`` (an engine may then load just the voice networks)."""
        ...
