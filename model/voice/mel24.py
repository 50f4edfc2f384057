"""The 24 kHz, 80-band log-mel of S3Gen's prompt (Matcha/CosyVoice features, §5.4).

Reflect-pad 720 samples each side, STFT (n_fft 1920, hop 480, periodic Hann, no centring), magnitude
sqrt(re^2 + im^2 + 1e-9), Slaney mel bank 0-8 kHz, natural log floored at 1e-5. L samples give L // 480
frames at 50 Hz — the mel space everything S3Gen generates lives in.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from model.voice.melfilters import slaney_mel_filters

SAMPLE_RATE = 24000
N_FFT = 1920
HOP = 480
N_MELS = 80
FMAX = 8000.0


def prompt_mel(wav24: torch.Tensor) -> torch.Tensor:
    """(L,) or (B, L) float 24 kHz -> (B, L // 480, 80) log-mel, frames first as S3Gen takes it."""
    y = wav24.float()
    if y.dim() == 1:
        y = y[None]
    pad = (N_FFT - HOP) // 2
    y = F.pad(y[:, None], (pad, pad), mode="reflect")[:, 0]                  # (B, L + 1440)
    window = torch.hann_window(N_FFT, device=y.device)
    spec = torch.view_as_real(torch.stft(y, N_FFT, hop_length=HOP, win_length=N_FFT, window=window,
                                         center=False, return_complex=True))      # (B, 961, F, 2)
    mag = torch.sqrt(spec.pow(2).sum(-1) + 1e-9)
    bank = slaney_mel_filters(SAMPLE_RATE, N_FFT, N_MELS, 0.0, FMAX).to(y.device)
    return torch.log(torch.clamp(bank @ mag, min=1e-5)).transpose(1, 2)      # (B, F, 80)
