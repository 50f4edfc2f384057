"""HiFT vocoder (``mel2wav``): mel -> 24 kHz waveform through an NSF harmonic source and an iSTFT head.

Legend: B rows, M mel bins, T mel frames (50 Hz), L = 480·T samples, C channels per stage
(512 -> 256 -> 128 -> 64), H = n_harmonics + 1 sinusoids (9), S = n_fft + 2 spectral channels (18).

Batched rows are padded mels with per-row frame counts: every convolution input is multiplied by the
row mask at its resolution (zero padding, as if the row were alone), and the per-row parts (noise,
source STFT, iSTFT) run on each row's true length, so row i gives exactly its one-by-one waveform.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from model.s3gen.config import SAMPLE_RATE, SAMPLES_PER_FRAME, HiFTConfig
from model.s3gen.f0 import F0Predictor
from model.s3gen.runtime import autocast


def snake(x: torch.Tensor, alpha: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Snake, then the row mask of the conv that follows: (x + sin²(αx)/(α + 1e-9)) · mask, α ``(C,)``."""
    a = alpha[None, :, None]
    return torch.addcmul(x, torch.sin(x * a).square(), 1.0 / (a + 1e-9)) * mask


Activation = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def fused_snake() -> Activation:
    """``snake`` as one kernel (inductor, dynamic shapes: one compile serves every stage and length; one more
    for a single row). Eager, it is five passes over x: HiFT's Snakes and masks were ~40% of its kernel time at
    64 rows. Pass α detached: a Parameter's shape would be static (a compile per channel count)."""
    return torch.compile(snake, dynamic=True)


FUSED_MIN_ROWS = 4   # below it eager Snakes (H200, Turbo HiFT: one row 12.4 ms eager, 14.4 ms fused)


class Snake(nn.Module):
    """Holds a Snake's per-channel α (linear scale); the activation itself is ``snake`` (or its fused form)."""

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(channels))


class ResBlock(nn.Module):
    """Three (Snake, dilated conv, Snake, conv) residual units; convs see masked inputs."""

    def __init__(self, c: int, k: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(weight_norm(nn.Conv1d(c, c, k, dilation=d, padding=(k * d - d) // 2))
                                    for d in dilations)
        self.convs2 = nn.ModuleList(weight_norm(nn.Conv1d(c, c, k, padding=(k - 1) // 2)) for _ in dilations)
        self.activations1 = nn.ModuleList(Snake(c) for _ in dilations)
        self.activations2 = nn.ModuleList(Snake(c) for _ in dilations)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, act: Activation = snake) -> torch.Tensor:
        for c1, c2, a1, a2 in zip(self.convs1, self.convs2, self.activations1, self.activations2, strict=True):
            xt = c1(act(x, a1.alpha.detach(), mask))
            xt = c2(act(xt, a2.alpha.detach(), mask))
            x = xt + x
        return x


class HarmonicSource(nn.Module):
    """NSF source: sines at f0·h (h = 1..H) with random phases, noise where unvoiced, merged by Linear+tanh."""

    def __init__(self, cfg: HiFTConfig):
        super().__init__()
        self.cfg = cfg
        self.l_linear = nn.Linear(cfg.n_harmonics + 1, 1)

    def forward(self, f0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One row's f0 ``(T,)`` -> source ``(L,)`` (float32). Draws: uniform phases (1,H,1), then N(0,1) (1,H,L)."""
        cfg = self.cfg
        H = cfg.n_harmonics + 1
        f = f0.float().repeat_interleave(SAMPLES_PER_FRAME)[None, None, :]                  # (1, 1, L)
        harm = torch.arange(1, H + 1, device=f.device, dtype=torch.float32)[None, :, None]
        # phase in cycles, accumulated in float64 (float32 drifts on long outputs), wrapped to [0, 1); harmonic h
        # is h times the fundamental's sum (one scan instead of H)
        cycles = torch.cumsum((f / SAMPLE_RATE).double(), dim=-1) * harm.double() % 1          # (1, H, L)
        theta = (2 * math.pi * cycles).float()
        gen_dev = generator.device if generator is not None else f.device
        lo, hi = torch.tensor(-math.pi), torch.tensor(math.pi)
        phase = (lo + torch.rand((1, H, 1), generator=generator, device=gen_dev) * (hi - lo)).to(f.device)
        phase[:, 0, :] = 0
        sines = cfg.sine_amp * torch.sin(theta + phase)
        uv = (f > cfg.voiced_threshold).float()
        noise_amp = uv * cfg.noise_std + (1 - uv) * cfg.sine_amp / 3
        noise = noise_amp * torch.randn(sines.shape, generator=generator, device=gen_dev).to(f.device)
        e = sines * uv + noise                                                              # (1, H, L)
        return torch.tanh(self.l_linear(e.transpose(1, 2))).reshape(-1)


class HiFT(nn.Module):
    def __init__(self, cfg: HiFTConfig, mel_bins: int = 80):
        super().__init__()
        self.cfg = cfg
        c0 = cfg.base_channels
        self.m_source = HarmonicSource(cfg)
        self.conv_pre = weight_norm(nn.Conv1d(mel_bins, c0, 7, padding=3))
        self.ups = nn.ModuleList()
        self.source_downs = nn.ModuleList()
        self.source_resblocks = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        n = len(cfg.upsample_rates)
        down_cum = [math.prod(cfg.upsample_rates[::-1][:n - 1 - i]) for i in range(n)]  # e.g. 15, 3, 1
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernels, strict=True)):
            c_in, c_out = c0 // 2 ** i, c0 // 2 ** (i + 1)
            self.ups.append(weight_norm(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2)))
            d = down_cum[i]
            self.source_downs.append(nn.Conv1d(cfg.n_fft + 2, c_out, 1) if d == 1
                                     else nn.Conv1d(cfg.n_fft + 2, c_out, 2 * d, d, padding=d // 2))
            self.source_resblocks.append(ResBlock(c_out, cfg.source_resblock_kernels[i], cfg.dilations))
            for kr in cfg.resblock_kernels:
                self.resblocks.append(ResBlock(c_out, kr, cfg.dilations))
        self.conv_post = weight_norm(nn.Conv1d(c0 // 2 ** n, cfg.n_fft + 2, 7, padding=3))
        self.f0_predictor = F0Predictor(mel_bins, cfg.f0_channels, cfg.f0_layers)
        self.activation: Activation = snake     # a function, not a module: nothing joins the state dict

    def use_fused(self, fused: bool) -> None:
        """Snake activations as one compiled kernel each (CUDA) in passes of ``FUSED_MIN_ROWS`` rows or more,
        or eager ``snake`` always."""
        self.activation = fused_snake() if fused else snake

    def _window(self, device: torch.device) -> torch.Tensor:
        return torch.hann_window(self.cfg.n_fft, periodic=True, dtype=torch.float64, device=device).float()

    def source_spectrum(self, s: torch.Tensor) -> torch.Tensor:
        """Source ``(L,)`` -> [real ; imag] STFT ``(S, L/hop + 1)``."""
        spec = torch.stft(s[None], self.cfg.n_fft, self.cfg.hop, self.cfg.n_fft, window=self._window(s.device),
                          return_complex=True)[0]
        return torch.cat([spec.real, spec.imag], dim=0)

    def istft(self, x: torch.Tensor) -> torch.Tensor:
        """Head output ``(S, F)`` of one row -> waveform ``((F-1)·hop,)``, clamped."""
        half = self.cfg.n_fft // 2 + 1
        mag = torch.clip(torch.exp(x[:half]), max=1e2)
        phase = torch.sin(x[half:])
        spec = torch.complex(mag * torch.cos(phase), mag * torch.sin(phase))
        wav = torch.istft(spec[None], self.cfg.n_fft, self.cfg.hop, self.cfg.n_fft, window=self._window(x.device))[0]
        return torch.clamp(wav, -self.cfg.audio_limit, self.cfg.audio_limit)

    def decode(self, mel: torch.Tensor, spec: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Padded mel ``(B, M, T)``, padded source spectrum ``(B, S, hopT+1)`` -> head output ``(B, S, hopT+1)``."""
        cfg = self.cfg

        def mask(n_per_row: torch.Tensor, width: int) -> torch.Tensor:
            return (torch.arange(width, device=mel.device)[None, :] < n_per_row[:, None])[:, None, :].to(mel.dtype)

        # a compiled call's guards cost ~25 us each, 72 a pass: more than the passes over x it saves at one row
        act = self.activation if mel.shape[0] >= FUSED_MIN_ROWS else snake
        x = self.conv_pre(mel * mask(frames, mel.shape[-1]))
        scale = frames
        n = len(cfg.upsample_rates)
        spec = spec * mask(frames * SAMPLES_PER_FRAME // cfg.hop + 1, spec.shape[-1])
        for i in range(n):
            x = F.leaky_relu(x, cfg.lrelu_slope)
            x = self.ups[i](x * mask(scale, x.shape[-1]))
            scale = scale * cfg.upsample_rates[i]
            if i == n - 1:
                x = F.pad(x, (1, 0), mode="reflect")
                scale = scale + 1
            m = mask(scale, x.shape[-1])
            x = x + self.source_resblocks[i](self.source_downs[i](spec), m, act)
            k = len(cfg.resblock_kernels)
            xs = self.resblocks[i * k](x, m, act)
            for j in range(1, k):
                xs = xs + self.resblocks[i * k + j](x, m, act)
            x = xs / k
        x = F.leaky_relu(x)
        return self.conv_post(x * m)

    def forward(self, mels: list[torch.Tensor], generators: list[torch.Generator | None],
                dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
        """Mels ``(M, T_i)`` -> waveforms ``(480·T_i,)`` float32, one batch through the network.

        ``dtype`` bf16/fp16 runs the decoder's convolutions under autocast; the F0 predictor, the source,
        its STFT and the iSTFT stay float32 (the phase of the source integrates f0 over the whole row)."""
        device = self.conv_pre.weight.device
        frames = torch.tensor([m.shape[-1] for m in mels]).to(device, non_blocking=True)   # no host sync
        T = max(m.shape[-1] for m in mels)
        mel = torch.zeros(len(mels), mels[0].shape[0], T, device=device)
        for i, m in enumerate(mels):
            mel[i, :, :m.shape[-1]] = m.float()
        fmask = (torch.arange(T, device=device)[None, :] < frames[:, None])[:, None, :].float()
        f0 = self.f0_predictor(mel, fmask)                                                 # (B, T)
        hop_frames = T * SAMPLES_PER_FRAME // self.cfg.hop + 1
        spec = torch.zeros(len(mels), self.cfg.n_fft + 2, hop_frames, device=device)
        for i, m in enumerate(mels):
            s = self.m_source(f0[i, :m.shape[-1]], generators[i])
            sp = self.source_spectrum(s)
            spec[i, :, :sp.shape[-1]] = sp
        with autocast(device, dtype):
            head = self.decode(mel, spec, frames).float()
        out = []
        for i, m in enumerate(mels):
            n_hop = m.shape[-1] * SAMPLES_PER_FRAME // self.cfg.hop + 1
            out.append(self.istft(head[i, :, :n_hop]))
        return out
