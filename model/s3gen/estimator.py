"""CFM estimator (``flow.decoder.estimator``): a 1-D U-Net of causal ResNet blocks and transformer blocks.

Legend: B batch, C channels (256), T mel frames, E time-embedding width (1024), M mel bins (80).
Inputs x, mu, cond ``(B, M, T)``, spks ``(B, M)``, t (and r for meanflow) ``(B,)``, mask ``(B, 1, T)``
float (1 on real frames). Convolutions are causal (left padding only) and every block multiplies by the
mask, attention hides padded keys: a padded row gives its unpadded result on its real frames.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.attention import PaddedKeys, key_padded_attention
from model.s3gen.config import EstimatorConfig


def time_sinusoids(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """``(B,)`` -> ``(B, dim)``: [sin, cos] of scale·t·exp(-m·ln(1e4)/(dim/2 - 1))."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, device=t.device).float() * -(math.log(10000) / (half - 1)))
    ang = scale * t.unsqueeze(1) * freq.unsqueeze(0)
    return torch.cat((ang.sin(), ang.cos()), dim=-1)


class TimeMLP(nn.Module):
    def __init__(self, d_in: int, d: int):
        super().__init__()
        self.linear_1 = nn.Linear(d_in, d)
        self.linear_2 = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class CausalConv1d(nn.Conv1d):
    """Conv1d with ``kernel - 1`` zeros on the left only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.kernel_size[0] - 1, 0)))


class CausalBlock(nn.Module):
    """x·mask -> causal conv k3 -> LayerNorm over channels -> Mish -> ·mask (keys ``block.0``, ``block.2``)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.block = nn.ModuleList([CausalConv1d(c_in, c_out, 3), nn.Identity(), nn.LayerNorm(c_out)])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.block[0](x * mask)
        h = self.block[2](h.transpose(1, 2)).transpose(1, 2)
        return F.mish(h) * mask


class ResnetBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, time_dim: int):
        super().__init__()
        self.mlp = nn.ModuleList([nn.Mish(), nn.Linear(time_dim, c_out)])
        self.block1 = CausalBlock(c_in, c_out)
        self.block2 = CausalBlock(c_out, c_out)
        self.res_conv = nn.Conv1d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x, mask)
        h = h + self.mlp[1](F.mish(t_emb)).unsqueeze(-1)
        h = self.block2(h, mask)
        return h + self.res_conv(x * mask)


class SelfAttention(nn.Module):
    def __init__(self, c: int, heads: int, head_dim: int):
        super().__init__()
        self.h, self.k = heads, head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(c, inner, bias=False)
        self.to_k = nn.Linear(c, inner, bias=False)
        self.to_v = nn.Linear(c, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, c)])

    def forward(self, x: torch.Tensor, keys: PaddedKeys | None) -> torch.Tensor:
        B, T, _ = x.shape
        # one GEMM for q, k and v: x is read (and, under autocast, cast to bf16) once instead of three times
        w = torch.cat([self.to_q.weight, self.to_k.weight, self.to_v.weight])     # (3·H·K, C)
        q, k, v = F.linear(x, w).view(B, T, 3, self.h, self.k).unbind(2)         # (B, T, H, K) each
        o = key_padded_attention(q, k, v, keys)
        return self.to_out[0](o.reshape(B, T, self.h * self.k))


class GeluProj(nn.Module):
    def __init__(self, c: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(c, inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.proj(x))


class FeedForward(nn.Module):
    def __init__(self, c: int, inner: int):
        super().__init__()
        self.net = nn.ModuleList([GeluProj(c, inner), nn.Identity(), nn.Linear(inner, c)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class TransformerBlock(nn.Module):
    """h += attn(LN1(h)); h += FF(LN3(h)) (the diffusers BasicTransformerBlock without cross-attention)."""

    def __init__(self, c: int, heads: int, head_dim: int, ff: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(c)
        self.attn1 = SelfAttention(c, heads, head_dim)
        self.norm3 = nn.LayerNorm(c)
        self.ff = FeedForward(c, ff)

    def forward(self, x: torch.Tensor, keys: PaddedKeys | None) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x), keys)
        return x + self.ff(self.norm3(x))


def _blocks(cfg: EstimatorConfig) -> nn.ModuleList:
    return nn.ModuleList(TransformerBlock(cfg.channels, cfg.heads, cfg.head_dim, cfg.ff_dim)
                         for _ in range(cfg.n_blocks))


class Estimator(nn.Module):
    """Velocity field v(x, t | mu, spks, cond) of the conditional flow matching."""

    def __init__(self, cfg: EstimatorConfig, mel_bins: int = 80):
        super().__init__()
        self.cfg = cfg
        c, e = cfg.channels, cfg.time_dim
        self.time_mlp = TimeMLP(cfg.in_channels, e)
        self.time_embed_mixer = nn.Linear(2 * e, e, bias=False) if cfg.meanflow else None
        self.down_blocks = nn.ModuleList([nn.ModuleList([ResnetBlock(cfg.in_channels, c, e), _blocks(cfg),
                                                         CausalConv1d(c, c, 3)])])
        self.mid_blocks = nn.ModuleList(nn.ModuleList([ResnetBlock(c, c, e), _blocks(cfg)]) for _ in range(cfg.n_mid))
        self.up_blocks = nn.ModuleList([nn.ModuleList([ResnetBlock(2 * c, c, e), _blocks(cfg), CausalConv1d(c, c, 3)])])
        self.final_block = CausalBlock(c, c)
        self.final_proj = nn.Conv1d(c, mel_bins, 1)

    def _stage(self, x: torch.Tensor, mask: torch.Tensor, keys: PaddedKeys | None, t_emb: torch.Tensor,
               resnet: ResnetBlock, blocks: nn.ModuleList) -> torch.Tensor:
        # contiguous once per stage: a transposed view would keep the residual stream channel-strided
        # through every block (each LayerNorm copying it, each residual add writing it strided)
        x = resnet(x, mask, t_emb).transpose(1, 2).contiguous()           # (B, T, C)
        for blk in blocks:
            x = blk(x, keys)
        return x.transpose(1, 2).contiguous()                             # (B, C, T)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, t: torch.Tensor,
                spks: torch.Tensor, cond: torch.Tensor, r: torch.Tensor | None = None, *,
                padded: bool = True) -> torch.Tensor:
        """Velocity ``(B, M, T)``; ``padded=False`` promises an all-ones mask (attention then hides no keys)."""
        t_emb = self.time_mlp(time_sinusoids(t, self.cfg.in_channels).to(t.dtype))      # (B, E)
        if self.time_embed_mixer is not None:
            r_emb = self.time_mlp(time_sinusoids(r, self.cfg.in_channels).to(t.dtype))
            t_emb = self.time_embed_mixer(torch.cat([t_emb, r_emb], dim=1))
        T = x.shape[-1]
        h = torch.cat([x, mu, spks[:, :, None].expand(-1, -1, T), cond], dim=1)      # (B, 4M, T)
        keys = PaddedKeys(mask) if padded else None
        resnet, blocks, conv = self.down_blocks[0]
        h = self._stage(h, mask, keys, t_emb, resnet, blocks)
        skip = h
        h = conv(h * mask)
        for resnet, blocks in self.mid_blocks:
            h = self._stage(h, mask, keys, t_emb, resnet, blocks)
        resnet, blocks, conv = self.up_blocks[0]
        h = torch.cat([h[:, :, :skip.shape[-1]], skip], dim=1)
        h = self._stage(h, mask, keys, t_emb, resnet, blocks)
        h = conv(h * mask)
        h = self.final_block(h, mask)
        return self.final_proj(h * mask) * mask
