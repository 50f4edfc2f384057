"""Sinc resampling: lengths, pass-band accuracy on tones, anti-aliasing, shapes and bad rates."""

from __future__ import annotations

import math

import pytest
import torch

from model.voice.resample import resample


def tone(freq: float, sr: int, seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(int(sr * seconds), dtype=torch.float64) / sr
    return torch.sin(2 * math.pi * freq * t).float()


@pytest.mark.parametrize("orig,new", [(22050, 24000), (44100, 24000), (48000, 24000), (24000, 16000),
                                      (16000, 24000), (8000, 24000)])
@pytest.mark.parametrize("quality", ["hq", "kaldi"])
def test_tone_is_preserved(orig, new, quality):
    y = resample(tone(1000.0, orig), orig, new, quality)
    assert y.shape[-1] == new                                      # one second in, one second out
    ref = tone(1000.0, new)
    edge = new // 20                     # the ends see the zero padding
    err = float((y[edge:-edge] - ref[edge:-edge]).abs().max())
    assert err < (1e-4 if quality == "hq" else 5e-3), err


def test_length_is_ceil_and_batch_dims_kept():
    x = torch.randn(2, 3, 1001)
    y = resample(x, 22050, 16000)
    assert y.shape == (2, 3, math.ceil(1001 * 16000 / 22050))
    assert torch.allclose(y[1, 2], resample(x[1, 2], 22050, 16000), atol=1e-6)


@pytest.mark.parametrize("quality", ["hq", "kaldi"])
def test_content_above_new_nyquist_is_removed(quality):
    y = resample(tone(10000.0, 24000), 24000, 16000, quality)   # 10 kHz > 8 kHz Nyquist
    assert float(y[800:-800].abs().max()) < (1e-4 if quality == "hq" else 0.05)


def test_same_rate_is_identity_and_bad_rates_raise():
    x = torch.randn(100)
    assert resample(x, 16000, 16000) is x
    with pytest.raises(ValueError, match="positive integers"):
        resample(x, 16000.5, 24000)
    with pytest.raises(ValueError, match="positive integers"):
        resample(x, 0, 24000)


def test_hq_is_soxr_hq_fixed_to_librosa_length():
    """``hq`` is exactly the call librosa.resample(res_type="soxr_hq") makes, length fixed to ceil."""
    import numpy as np
    import soxr

    x = torch.randn(2, 22050 + 7, generator=torch.Generator().manual_seed(0))
    y = resample(x, 22050, 24000, "hq")
    for row, out in zip(x, y, strict=True):
        ref = soxr.resample(row.numpy(), 22050, 24000, quality="soxr_hq")
        n = math.ceil(x.shape[-1] * 24000 / 22050)
        ref = np.pad(ref, (0, max(0, n - ref.shape[0])))[:n]
        assert torch.equal(out, torch.from_numpy(ref))


def test_unknown_quality_raises():
    with pytest.raises(ValueError, match="quality"):
        resample(torch.randn(100), 16000, 24000, "best")
