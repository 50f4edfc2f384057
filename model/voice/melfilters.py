"""Mel filter banks: the Slaney-style bank (librosa's default) and Kaldi's triangular bank.

Slaney bank: linear below 1 kHz, logarithmic above, each triangle area-normalised; built in float64 and
rounded to float32 in the same two steps librosa takes (triangle, then normalisation), so our banks are
bit-identical to librosa's. Kaldi bank: triangles evenly spaced on ``1127 ln(1 + f/700)``, built in
float32 as Kaldi/torchaudio do.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

_F_SP = 200.0 / 3          # Hz per mel below the break
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    lin = f / _F_SP
    log = _MIN_LOG_MEL + torch.log(f.clamp(min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return torch.where(f >= _MIN_LOG_HZ, log, lin)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    lin = m * _F_SP
    log = _MIN_LOG_HZ * torch.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return torch.where(m >= _MIN_LOG_MEL, log, lin)


def slaney_mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                       fmax: float | None = None) -> torch.Tensor:
    """(n_mels, 1 + n_fft // 2) float32 bank, equal to ``librosa.filters.mel`` with its defaults."""
    with torch.device("cpu"):
        return _slaney(sample_rate, n_fft, n_mels, float(fmin), None if fmax is None else float(fmax)).clone()


@lru_cache(maxsize=8)
def _slaney(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
            fmax: float | None = None) -> torch.Tensor:
    fmax = sample_rate / 2 if fmax is None else fmax
    fft_freqs = torch.arange(1 + n_fft // 2, dtype=torch.float64) * (sample_rate / n_fft)
    edges = torch.tensor([fmin, fmax], dtype=torch.float64)
    m_lo, m_hi = _hz_to_mel(edges).tolist()
    mel_f = _mel_to_hz(torch.linspace(m_lo, m_hi, n_mels + 2, dtype=torch.float64))     # (n_mels + 2,)
    fdiff = mel_f[1:] - mel_f[:-1]
    ramps = mel_f[:, None] - fft_freqs[None, :]                                          # (n_mels + 2, F)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    tri = torch.clamp(torch.minimum(lower, upper), min=0.0).to(torch.float32)            # first rounding
    enorm = 2.0 / (mel_f[2:] - mel_f[:-2])
    return (tri.to(torch.float64) * enorm[:, None]).to(torch.float32)                    # second rounding


def _kaldi_mel(f: torch.Tensor | float) -> torch.Tensor | float:
    if isinstance(f, torch.Tensor):
        return 1127.0 * (1.0 + f / 700.0).log()
    return 1127.0 * math.log(1.0 + f / 700.0)


def kaldi_mel_filters(n_mels: int, n_fft: int, sample_rate: float, low_freq: float = 20.0,
                      high_freq: float = 0.0) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) float32 Kaldi bank; the Nyquist column is zero, as in Kaldi."""
    with torch.device("cpu"):
        return _kaldi(n_mels, n_fft, float(sample_rate), float(low_freq), float(high_freq)).clone()


@lru_cache(maxsize=8)
def _kaldi(n_mels: int, n_fft: int, sample_rate: float, low_freq: float, high_freq: float) -> torch.Tensor:
    nyquist = 0.5 * sample_rate
    high = high_freq + nyquist if high_freq <= 0.0 else high_freq
    mel_lo, mel_hi = _kaldi_mel(low_freq), _kaldi_mel(high)
    delta = (mel_hi - mel_lo) / (n_mels + 1)
    b = torch.arange(n_mels).unsqueeze(1)
    left = mel_lo + b * delta                                                           # (n_mels, 1) float32
    center = mel_lo + (b + 1.0) * delta
    right = mel_lo + (b + 2.0) * delta
    mel = _kaldi_mel((sample_rate / n_fft) * torch.arange(n_fft // 2)).unsqueeze(0)     # (1, n_fft / 2)
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    bank = torch.max(torch.zeros(1), torch.min(up, down))
    return torch.nn.functional.pad(bank, (0, 1))
