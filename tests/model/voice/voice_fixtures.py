"""Helpers shared by the voice tests: reading the LJ clips, full-size and tiny random voice models."""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
VOICES = REPO.parent / "shared" / "voices"
GOLDEN = REPO / "tests" / "golden" / "voice"
CLIPS = ("LJ001-0001", "LJ001-0003")


def read_clip(name: str) -> tuple[np.ndarray, int]:
    path = VOICES / f"{name}.wav"
    if not path.is_file():
        pytest.skip(f"reference clip not found: {path} (../shared/voices is needed)")
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
    return data, rate


@lru_cache(maxsize=2)
def voice_models(preset: str):
    from model.testing.voice_checkpoint import s3gen_voice_tensors, ve_state_dict
    from model.voice.prepare import VoiceModels

    sd = s3gen_voice_tensors(preset, 0)
    tok = {k[len("tokenizer."):]: v for k, v in sd.items() if k.startswith("tokenizer.")}
    spk = {k[len("speaker_encoder."):]: v for k, v in sd.items() if k.startswith("speaker_encoder.")}
    return VoiceModels.from_state_dicts(ve_state_dict(preset, 0), tok, spk)
