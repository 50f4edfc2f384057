"""Band-limited resampling, with the two filters the official voice path uses.

* ``"hq"`` — libsoxr's HQ mode through the ``soxr`` package, exactly as ``librosa.resample`` (soxr_hq) calls it:
  the official path loads a clip at 24 kHz this way and derives the 16 kHz audio of the VoiceEncoder and the
  T3 prompt tokens from it. The output length is fixed to ``ceil(len * new / orig)`` as librosa does.
* ``"kaldi"`` — Hann-windowed sinc, 6 zero crossings, cut-off at 99 % of the lower Nyquist: torchaudio's
  ``Resample`` with its defaults, which the official path uses from 24 kHz to 16 kHz for the CAMPPlus
  x-vector and the S3Gen prompt tokens. torchaudio is not a dependency, so it is rebuilt here sample for
  sample (kernel built in float64, applied in float32): a bank of ``new`` phases over ``orig`` input samples
  (rates divided by their gcd) applied as one strided ``conv1d``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import soxr
import torch
import torch.nn.functional as F

QUALITIES = ("hq", "kaldi")
_ZEROS, _ROLLOFF = 6, 0.99  # torchaudio's defaults (lowpass_filter_width, rolloff)


@lru_cache(maxsize=32)
def _kaldi_kernel(orig: int, new: int) -> tuple[torch.Tensor, int]:
    """Polyphase kernel (new, 1, 2*width + orig) in float32 and the one-sided width, for reduced rates."""
    cutoff = min(orig, new) * _ROLLOFF                 # in units of the reduced rates
    width = math.ceil(_ZEROS * orig / cutoff)          # input samples on each side
    taps = torch.arange(-width, width + orig, dtype=torch.float64)[None, None] / orig   # (1, 1, K)
    # torchaudio computes the phase offsets j/new in float32
    phase = (torch.arange(0, -new, -1, dtype=torch.float32)[:, None, None] / new).to(torch.float64)   # (new, 1, 1)
    t = ((phase + taps) * cutoff).clamp(-_ZEROS, _ZEROS)                                # (new, 1, K)
    win = torch.cos(t * math.pi / _ZEROS / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    return (sinc * win * (cutoff / orig)).to(torch.float32), width


def _kaldi(x: torch.Tensor, orig: int, new: int) -> torch.Tensor:
    """x (N, L) -> (N, ceil(L * new / orig))."""
    kernel, width = _kaldi_kernel(orig, new)
    length = x.shape[-1]
    x = F.pad(x, (width, width + orig))
    y = F.conv1d(x[:, None], kernel.to(device=x.device, dtype=x.dtype), stride=orig)   # (N, new, L/orig)
    y = y.transpose(1, 2).reshape(x.shape[0], -1)                                       # (N, L*new/orig)
    return y[:, : math.ceil(new * length / orig)]


def _soxr_hq(x: torch.Tensor, orig_sr: int, new_sr: int) -> torch.Tensor:
    """x (N, L) -> (N, ceil(L * new / orig)), each row through soxr on the CPU in float32 (librosa's call)."""
    target = math.ceil(x.shape[-1] * new_sr / orig_sr)
    rows = x.detach().to("cpu", torch.float32).numpy()
    out = np.zeros((rows.shape[0], target), dtype=np.float32)
    for i, row in enumerate(rows):
        y = soxr.resample(row, orig_sr, new_sr, quality="soxr_hq")[:target]
        out[i, : y.shape[0]] = y  # librosa.util.fix_length: trim or zero-pad to the target length
    return torch.from_numpy(out).to(x.device)


def resample(wav: torch.Tensor, orig_sr: int, new_sr: int, quality: str = "hq") -> torch.Tensor:
    """Resample the last axis of ``wav`` from ``orig_sr`` to ``new_sr`` Hz.

    The output has ``ceil(len * new_sr / orig_sr)`` samples; float32 in, float32 out.
    """
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {QUALITIES}, got {quality!r}")
    if orig_sr == new_sr:
        return wav
    if int(orig_sr) != orig_sr or int(new_sr) != new_sr or orig_sr <= 0 or new_sr <= 0:
        raise ValueError(f"sample rates must be positive integers, got {orig_sr} -> {new_sr}")
    shape = wav.shape
    x = wav.reshape(-1, shape[-1])                                       # (N, L)
    if quality == "hq":
        y = _soxr_hq(x, int(orig_sr), int(new_sr))
    else:
        g = math.gcd(int(orig_sr), int(new_sr))
        y = _kaldi(x, int(orig_sr) // g, int(new_sr) // g)
    return y.reshape(*shape[:-1], -1)
