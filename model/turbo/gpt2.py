"""Our GPT-2 backbone for the Turbo T3, with the checkpoint's module names (``h.N.attn.c_attn`` ...).

Dimensions: B rows, T new positions, S attended positions (cache slots), D width, H heads, Dh head width,
F MLP width. Inputs are embeddings; ``wte`` exists only so the checkpoint's key set is complete (the loader
checks it and does not keep it). Positions are learned (``wpe``) and explicit per row, so ragged rows each
count from 0. GPT-2's ``Conv1D`` stores weights ``[in, out]``; ``Conv1D`` below keeps that layout.
Attention (``model.attention``) has scale 1/sqrt(Dh); a boolean mask ``(B, 1, T, S)`` (True = attend) carries
causality and ragged lengths. With a ``KVCache`` the prefill stores keys/values and a decode step (T = 1) writes
slot ``pos`` of each row and attends over its filled slots, as ``model.llama`` does; optionally after a shared
prefix cache.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from model.attention import decode_attention, prefill_attention
from model.kv_cache import KVCache
from model.turbo.config import GPT2Config


class Conv1D(nn.Module):
    """GPT-2's linear layer: ``y = x @ weight + bias`` with ``weight`` stored ``[in, out]``."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight.t(), self.bias)


class Attention(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.c_attn = Conv1D(cfg.dim, 3 * cfg.dim)  # q | k | v
        self.c_proj = Conv1D(cfg.dim, cfg.dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None, layer: int,
                pos: torch.Tensor | None, kv_len: int | None, prefix: KVCache | None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (y.view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, Dh)
                   for y in self.c_attn(x).split(d, dim=-1))
        if cache is not None and pos is not None:
            cache.write_step(layer, k, v, pos)
            out = decode_attention(q, cache, layer, kv_len, mask, prefix)
        else:
            if cache is not None:
                cache.write_prefix(layer, k, v)
            out = prefill_attention(q, k, v, mask, prefix, layer)
        return self.c_proj(out.transpose(1, 2).reshape(b, t, d))  # (B, T, D)


class MLP(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(cfg.dim, cfg.intermediate)
        self.c_proj = Conv1D(cfg.intermediate, cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # GPT-2's "gelu_new"


class Block(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None, layer: int,
                pos: torch.Tensor | None, kv_len: int | None, prefix: KVCache | None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask, cache, layer, pos, kv_len, prefix)
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    """The backbone: ``wte`` (unused, dropped at load), ``wpe``, ``h``, final ``ln_f``."""

    def __init__(self, cfg: GPT2Config, with_wte: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        if with_wte:
            self.wte = nn.Embedding(cfg.token_vocab, cfg.dim)
        self.wpe = nn.Embedding(cfg.positions, cfg.dim)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None, pos: torch.Tensor | None = None,
                kv_len: int | None = None, prefix: KVCache | None = None) -> torch.Tensor:
        """Normed hidden states (B, T, D) of input embeddings ``x`` (B, T, D) at ``positions`` (B, T).

        Without a cache, or with one and ``pos=None`` (prefill), the T inputs attend to each other (causal
        if ``mask`` is None). With ``pos`` (B,) (a decode step, T = 1) each row writes cache slot ``pos``
        and attends over its slots ``0..pos`` (``mask`` (B, 1, 1, kv_len) off the flash path). A ``prefix``
        cache (one row, C slots) is attended first by every row and position: the voice prompt shared by a
        batch, stored once.
        """
        x = x + self.wpe(positions)
        if cache is not None and pos is not None:
            cache.begin_step(pos)
        for i, block in enumerate(self.h):
            x = block(x, mask, cache, i, pos, kv_len, prefix)
        return self.ln_f(x)
