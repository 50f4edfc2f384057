"""Mel filter banks: Slaney triangles (area-normalised) and Kaldi triangles (zero Nyquist column)."""

from __future__ import annotations

import torch

from model.voice.melfilters import kaldi_mel_filters, slaney_mel_filters


def test_slaney_bank_shape_and_triangles():
    bank = slaney_mel_filters(16000, 400, 128, 0.0, 8000.0)
    assert bank.shape == (128, 201) and bank.dtype == torch.float32
    assert float(bank.min()) >= 0.0
    peaks = bank.argmax(dim=1)
    assert bool((peaks[1:] >= peaks[:-1]).all())                # centres rise with the band index
    df = 16000 / 400
    wide = bank[(bank > 0).sum(dim=1) >= 8]                       # triangles spanning many bins
    area = wide.sum(dim=1) * df
    assert bool(((area - 1.0).abs() < 0.05).all())               # Slaney norm: unit area in Hz


def test_slaney_is_cached_but_returned_as_a_copy():
    a = slaney_mel_filters(24000, 1920, 80, 0.0, 8000.0)
    a.zero_()
    b = slaney_mel_filters(24000, 1920, 80, 0.0, 8000.0)
    assert float(b.sum()) > 0
    assert float(b[:, 1920 * 8000 // 24000 + 2:].abs().max()) == 0.0      # nothing above fmax


def test_kaldi_bank():
    bank = kaldi_mel_filters(80, 512, 16000.0)
    assert bank.shape == (80, 257)
    assert float(bank[:, -1].abs().max()) == 0.0
    assert float(bank.min()) >= 0.0 and float(bank.max()) <= 1.0
    assert float(bank[:, 0].max()) == 0.0                         # DC is below the 20 Hz low edge
