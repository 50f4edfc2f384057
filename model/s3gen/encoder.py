"""Upsampling conformer encoder (``flow.encoder``): 25 Hz token embeddings -> 50 Hz hidden frames.

Legend: B batch, T frames (tokens before the up-sampling, mel frames after), D model width (512),
H heads, K head width (D / H). Masks are bool ``(B, T)``, True on real frames.

Layout: Linear+LN embed, x·√D -> pre-lookahead convs (each frame sees 3 future tokens) -> N
rel-pos conformer layers (pre-LN attention + SiLU feed-forward, no conv module) -> nearest x2 and a
causal k5 conv -> Linear+LN embed again -> M layers -> final LN. Padded frames are zeroed before the
look-ahead conv and masked as attention keys, so a padded row gives its unpadded result.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.s3gen.config import EncoderConfig


def rel_positions(T: int, d: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Sinusoids for relative positions T-1 down to -(T-1): ``(1, 2T-1, d)``."""
    pos = torch.arange(0, T, dtype=torch.float32, device=device).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32, device=device) * -(math.log(10000.0) / d))
    ang = pos * freq                                            # (T, d/2)
    pe_pos = torch.zeros(T, d, device=device)
    pe_neg = torch.zeros(T, d, device=device)
    pe_pos[:, 0::2], pe_pos[:, 1::2] = torch.sin(ang), torch.cos(ang)
    pe_neg[:, 0::2], pe_neg[:, 1::2] = torch.sin(-1 * ang), torch.cos(-1 * ang)
    return torch.cat([pe_pos.flip(0), pe_neg[1:]], dim=0).unsqueeze(0).to(dtype)


class LinearEmbed(nn.Module):
    """Linear, LayerNorm (eps 1e-5), then x·√D (the official ``LinearNoSubsampling``)."""

    def __init__(self, d: int):
        super().__init__()
        self.out = nn.Sequential(nn.Linear(d, d), nn.LayerNorm(d, eps=1e-5))
        self.scale = math.sqrt(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x) * self.scale


class RelPosAttention(nn.Module):
    """Transformer-XL relative-position self-attention with learned biases u and v."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.h, self.k = heads, d // heads
        self.linear_q = nn.Linear(d, d)
        self.linear_k = nn.Linear(d, d)
        self.linear_v = nn.Linear(d, d)
        self.linear_out = nn.Linear(d, d)
        self.linear_pos = nn.Linear(d, d, bias=False)
        self.pos_bias_u = nn.Parameter(torch.empty(heads, self.k))
        self.pos_bias_v = nn.Parameter(torch.empty(heads, self.k))

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        q = self.linear_q(x).view(B, T, self.h, self.k)                          # (B, T, H, K)
        k = self.linear_k(x).view(B, T, self.h, self.k).transpose(1, 2)          # (B, H, T, K)
        v = self.linear_v(x).view(B, T, self.h, self.k).transpose(1, 2)
        p = self.linear_pos(pos).view(1, -1, self.h, self.k).transpose(1, 2)     # (1, H, 2T-1, K)
        ac = torch.matmul((q + self.pos_bias_u).transpose(1, 2), k.transpose(-2, -1))   # (B, H, T, T)
        bd = torch.matmul((q + self.pos_bias_v).transpose(1, 2), p.transpose(-2, -1))   # (B, H, T, 2T-1)
        # relative shift: score[i, j] uses position i - j, stored at column (T-1) - i + j
        bd = bd.contiguous()
        n = 2 * T - 1
        bd = bd.as_strided((B, self.h, T, T), (self.h * T * n, T * n, n - 1, 1), bd.storage_offset() + T - 1)
        scores = (ac + bd) / math.sqrt(self.k)
        scores = scores.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(B, T, self.h * self.k)     # (B, T, D)
        return self.linear_out(out)


class FeedForward(nn.Module):
    def __init__(self, d: int, ff: int):
        super().__init__()
        self.w_1 = nn.Linear(d, ff)
        self.w_2 = nn.Linear(ff, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(F.silu(self.w_1(x)))


class ConformerLayer(nn.Module):
    """Pre-LN: x += attn(LN(x)); x += ff(LN(x)) (LN eps 1e-12)."""

    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.self_attn = RelPosAttention(d, heads)
        self.feed_forward = FeedForward(d, ff)
        self.norm_mha = nn.LayerNorm(d, eps=1e-12)
        self.norm_ff = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.norm_mha(x), key_mask, pos)
        return x + self.feed_forward(self.norm_ff(x))


class PreLookahead(nn.Module):
    """Conv over the next ``lookahead`` frames, leaky ReLU, causal k3 conv, residual."""

    def __init__(self, d: int, lookahead: int):
        super().__init__()
        self.lookahead = lookahead
        self.conv1 = nn.Conv1d(d, d, lookahead + 1)
        self.conv2 = nn.Conv1d(d, d, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.pad(x.transpose(1, 2), (0, self.lookahead))                # (B, D, T + look)
        h = F.leaky_relu(self.conv1(h))
        h = self.conv2(F.pad(h, (2, 0)))
        return h.transpose(1, 2) + x


class Upsample(nn.Module):
    """Nearest up-sampling by ``stride`` then a causal conv of width 2·stride+1."""

    def __init__(self, d: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv1d(d, d, 2 * stride + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:                 # (B, D, T) -> (B, D, sT)
        x = x.repeat_interleave(self.stride, dim=2)
        return self.conv(F.pad(x, (2 * self.stride, 0)))


class UpsampleEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.embed = LinearEmbed(d)
        self.pre_lookahead_layer = PreLookahead(d, cfg.lookahead)
        self.encoders = nn.ModuleList(ConformerLayer(d, cfg.heads, cfg.ff_dim) for _ in range(cfg.n_blocks))
        self.up_layer = Upsample(d, cfg.up_stride)
        self.up_embed = LinearEmbed(d)
        self.up_encoders = nn.ModuleList(ConformerLayer(d, cfg.heads, cfg.ff_dim) for _ in range(cfg.n_up_blocks))
        self.after_norm = nn.LayerNorm(d, eps=1e-5)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, T, D)`` with ``lengths (B,)`` -> hidden ``(B, sT, D)`` and its bool mask ``(B, sT)``."""
        B, T, D = x.shape
        mask = torch.arange(T, device=x.device)[None, :] < lengths[:, None]        # (B, T)
        x = self.embed(x) * mask[..., None]
        pos = rel_positions(T, D, x.device, x.dtype)
        x = self.pre_lookahead_layer(x)
        for layer in self.encoders:
            x = layer(x, mask, pos)
        x = self.up_layer(x.transpose(1, 2)).transpose(1, 2)                      # (B, sT, D)
        T2 = x.shape[1]
        mask = torch.arange(T2, device=x.device)[None, :] < (lengths * self.cfg.up_stride)[:, None]
        x = self.up_embed(x)
        pos = rel_positions(T2, D, x.device, x.dtype)
        for layer in self.up_encoders:
            x = layer(x, mask, pos)
        return self.after_norm(x), mask
