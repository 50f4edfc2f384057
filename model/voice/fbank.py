"""Kaldi-style log mel filter-bank features in torch (the CAMPPlus front end, §5.5).

Settings are Kaldi's ``compute-fbank-feats`` defaults at 16 kHz: 25 ms frames every 10 ms with
``snip_edges`` (frames = 1 + (L - 400) // 160), no dither, per-frame DC removal, pre-emphasis 0.97
(first sample replicated), Povey window (Hann ** 0.85), FFT zero-padded to 512, power spectrum,
triangular mel bins from 20 Hz to Nyquist, natural log floored at float32 epsilon. The waveform is taken
as is, in [-1, 1] (no int16 scaling), as the official x-vector path does.
"""

from __future__ import annotations

import torch

from model.voice.melfilters import kaldi_mel_filters

SAMPLE_RATE = 16000
FRAME = 400            # 25 ms
SHIFT = 160            # 10 ms
N_FFT = 512
PREEMPHASIS = 0.97


def kaldi_fbank(wav: torch.Tensor, n_mels: int = 80) -> torch.Tensor:
    """(L,) float waveform at 16 kHz -> (frames, n_mels) log mel energies."""
    if wav.dim() != 1:
        raise ValueError(f"kaldi_fbank expects a 1-D waveform, got shape {tuple(wav.shape)}")
    if wav.numel() < FRAME:
        raise ValueError(f"waveform of {wav.numel()} samples is shorter than one {FRAME}-sample frame")
    eps = torch.tensor(torch.finfo(torch.float32).eps, dtype=wav.dtype, device=wav.device)
    n = 1 + (wav.numel() - FRAME) // SHIFT
    frames = wav.as_strided((n, FRAME), (SHIFT * wav.stride(0), wav.stride(0)))           # (n, 400)
    frames = frames - frames.mean(dim=1, keepdim=True)
    prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)                             # x[t-1], x[-1] = x[0]
    frames = frames - PREEMPHASIS * prev
    window = torch.hann_window(FRAME, periodic=False, dtype=wav.dtype, device=wav.device).pow(0.85)
    frames = torch.nn.functional.pad(frames * window, (0, N_FFT - FRAME))                # (n, 512)
    power = torch.fft.rfft(frames).abs().pow(2.0)                                        # (n, 257)
    bank = kaldi_mel_filters(n_mels, N_FFT, float(SAMPLE_RATE)).to(device=wav.device, dtype=wav.dtype)
    return torch.max(torch.mm(power, bank.T), eps).log()                                 # (n, n_mels)


def campplus_features(wav: torch.Tensor, n_mels: int = 80) -> torch.Tensor:
    """Fbank minus its mean over time (per-utterance CMN): (frames, n_mels)."""
    feats = kaldi_fbank(wav, n_mels)
    return feats - feats.mean(dim=0, keepdim=True)
