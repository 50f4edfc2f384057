"""Helpers shared by the Turbo tests: paths, reading the LJ clips, golden files (skipping clearly if absent)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "golden" / "turbo"
VOICES = REPO.parent / "shared" / "voices"
CLIPS = ("LJ001-0001", "LJ001-0003")


def read_clip(name: str) -> tuple[np.ndarray, int]:
    path = VOICES / f"{name}.wav"
    if not path.is_file():
        pytest.skip(f"reference clip not found: {path} (../shared/voices is needed)")
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
    return data, rate


def golden_file(name: str) -> Path:
    path = GOLDEN / name
    if not path.is_file():
        pytest.skip(f"golden file absent: {path} (run scripts/golden_turbo.py in the official venv)")
    return path
