"""Perth watermark: the torch.stft stand-ins for torchaudio's three modules, a real watermark applied and read
back (with the ``watermark`` extra), and a plain message when the extra is missing."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest
import torch

from model import watermark
from model.watermark import Watermarker


def test_stand_in_stft_round_trips_like_torchaudio():
    t = watermark._stft_transforms()
    spec_mod = t.Spectrogram(n_fft=512, win_length=512, hop_length=128, power=None, window_fn=torch.hann_window)
    inv_mod = t.InverseSpectrogram(n_fft=512, win_length=512, hop_length=128, window_fn=torch.hann_window)
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    spec = spec_mod(x)
    assert spec.shape == (2, 257, 8000 // 128 + 1) and spec.is_complex()
    assert torch.allclose(inv_mod(spec, length=8000), x, atol=1e-5)
    assert set(dict(spec_mod.named_buffers())) == {"window"}   # the names Perth's checkpoint holds
    assert dict(t.TimeStretch(n_freq=1025, hop_length=320).named_buffers())["phase_advance"].shape == (1025, 1)
    if watermark._torchaudio_loads():   # where a matching torchaudio exists, the stand-in equals it
        import torchaudio

        ref = torchaudio.transforms.Spectrogram(n_fft=512, win_length=512, hop_length=128, power=None)
        assert torch.allclose(ref(x), spec, atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(Watermarker.available() is not None, reason=str(Watermarker.available()))
def test_a_real_watermark_is_applied_and_read_back(voice_clip):
    from pipeline.clips import load_clip

    marker = Watermarker.create()
    assert marker is not None
    clean = load_clip(voice_clip, 24000)[: 24000 * 3]
    marked = marker.apply(clean, 24000)
    assert marked.shape == clean.shape and marked.dtype == np.float32
    assert 1e-4 < np.abs(marked - clean).max() < 0.5          # changed, and still the same speech
    assert marker.detect(marked, 24000) > 0.9 and marker.detect(clean, 24000) < 0.1


def test_a_missing_extra_is_one_plain_warning(monkeypatch, caplog):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "perth" else real(name, *a))
    assert "perth" in Watermarker.available() and "scripts/install.sh watermark" in Watermarker.available()
    with caplog.at_level(logging.WARNING, logger="model.watermark"):
        assert Watermarker.create() is None
    (record,) = caplog.records
    assert "audio is not watermarked" in record.getMessage() and "\n" not in record.getMessage()
