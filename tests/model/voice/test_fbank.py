"""Kaldi fbank: frame count with snip_edges, a tone lands in its mel bin, mean normalisation, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from model.voice.fbank import campplus_features, kaldi_fbank
from model.voice.melfilters import kaldi_mel_filters


def test_frames_and_tone_bin():
    sr, n = 16000, 16000
    t = torch.arange(n, dtype=torch.float64) / sr
    wav = (0.5 * torch.sin(2 * math.pi * 1000 * t)).float()
    feats = kaldi_fbank(wav)
    assert feats.shape == (1 + (n - 400) // 160, 80)
    best = int(feats.mean(0).argmax())
    bank = kaldi_mel_filters(80, 512, 16000.0)
    assert float(bank[best, round(1000 * 512 / sr)]) > 0.5        # the loudest bin covers 1 kHz


def test_cmn_and_floor():
    wav = torch.randn(8000) * 0.1
    feats = campplus_features(wav)
    assert float(feats.mean(0).abs().max()) < 1e-4
    silent = kaldi_fbank(torch.zeros(4000))
    assert torch.allclose(silent, torch.full_like(silent, math.log(torch.finfo(torch.float32).eps)))


def test_bad_input():
    with pytest.raises(ValueError, match="shorter than one"):
        kaldi_fbank(torch.zeros(399))
    with pytest.raises(ValueError, match="1-D"):
        kaldi_fbank(torch.zeros(2, 1000))
