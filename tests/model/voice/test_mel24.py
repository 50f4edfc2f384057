"""24 kHz prompt mel: 50 frames per second, tone placement, floor, batch rows independent."""

from __future__ import annotations

import math

import torch

from model.voice.mel24 import prompt_mel
from model.voice.melfilters import slaney_mel_filters


def test_shape_and_tone():
    sr = 24000
    t = torch.arange(2 * sr + 123, dtype=torch.float64) / sr
    wav = (0.3 * torch.sin(2 * math.pi * 2000 * t)).float()
    mel = prompt_mel(wav)
    assert mel.shape == (1, (2 * sr + 123) // 480, 80)
    band = int(mel[0].mean(0).argmax())
    bank = slaney_mel_filters(24000, 1920, 80, 0.0, 8000.0)
    assert int(bank[:, round(2000 * 1920 / sr)].argmax()) == band


def test_floor_and_batch():
    mel = prompt_mel(torch.zeros(4800))
    assert float(mel.min()) >= math.log(1e-5) - 1e-6
    a, b = torch.randn(9600) * 0.1, torch.randn(9600) * 0.2
    both = prompt_mel(torch.stack([a, b]))
    assert torch.allclose(both[1], prompt_mel(b)[0], atol=1e-5)
