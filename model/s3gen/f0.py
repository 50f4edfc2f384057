"""F0 predictor of HiFT (``mel2wav.f0_predictor``): weight-normed k3 convs with ELU, a linear head, |.|.

Legend: B rows, M mel bins (80), C channels (512), T mel frames. ``mask (B, 1, T)`` zeroes padded frames
before every conv, so each row sees the zero padding it would see alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class F0Predictor(nn.Module):
    def __init__(self, mel_bins: int = 80, channels: int = 512, n_layers: int = 5):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n_layers):
            layers += [weight_norm(nn.Conv1d(mel_bins if i == 0 else channels, channels, 3, padding=1)), nn.ELU()]
        self.condnet = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, 1)

    def forward(self, mel: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, M, T)`` -> f0 in Hz ``(B, T)``."""
        x = mel
        for conv in self.condnet[0::2]:
            x = F.elu(conv(x if mask is None else x * mask))
        return torch.abs(self.classifier(x.transpose(1, 2)).squeeze(-1))
