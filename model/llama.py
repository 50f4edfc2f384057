"""Our Llama backbone for T3, with the checkpoint's module names (``layers.N.self_attn.q_proj`` ...).

Dimensions: B rows, T new positions, S attended positions (cache slots), D width, H heads, Dh head width,
F MLP width. Inputs are embeddings (T3 never uses the token table ``embed_tokens``; it exists only so the
checkpoint loads strictly). Attention is SDPA; a boolean mask ``(B, 1, T, S)`` (True = attend) carries
causality and ragged row lengths. With a ``KVCache`` the prefill stores its keys/values and a decode step
(T = 1) writes one slot per row and attends over its filled slots (``model.attention``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.attention import decode_attention
from model.config import LlamaConfig
from model.kv_cache import KVCache


def llama3_inv_freq(cfg: LlamaConfig) -> torch.Tensor:
    """RoPE inverse frequencies (Dh/2,) in fp32 with the llama3 long-context rescaling."""
    exponents = torch.arange(0, cfg.head_dim, 2, dtype=torch.int64, device="cpu").float() / cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** exponents)
    wavelength = 2 * math.pi / inv
    long_wave = cfg.rope_original_max_positions / cfg.rope_low_freq_factor
    short_wave = cfg.rope_original_max_positions / cfg.rope_high_freq_factor
    scaled = torch.where(wavelength > long_wave, inv / cfg.rope_factor, inv)
    # between the two wavelengths, blend the scaled and the original frequency
    blend = (cfg.rope_original_max_positions / wavelength - cfg.rope_low_freq_factor) / (
        cfg.rope_high_freq_factor - cfg.rope_low_freq_factor)
    blended = (1 - blend) * scaled / cfg.rope_factor + blend * scaled
    middle = (wavelength >= short_wave) & (wavelength <= long_wave)
    return torch.where(middle, blended, scaled)


class Rope:
    """Cos/sin tables for explicit positions; the frequencies stay fp32 whatever the model dtype."""

    def __init__(self, cfg: LlamaConfig) -> None:
        self.inv_freq = llama3_inv_freq(cfg)

    def __call__(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """positions (B, T) -> cos, sin (B, 1, T, Dh) in ``dtype``."""
        if self.inv_freq.device != positions.device:
            self.inv_freq = self.inv_freq.to(positions.device)
        angles = positions.float()[..., None] * self.inv_freq  # (B, T, Dh/2)
        angles = torch.cat((angles, angles), dim=-1)  # (B, T, Dh)
        return angles.cos().to(dtype)[:, None], angles.sin().to(dtype)[:, None]


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + _rotate_half(x) * sin


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)
        self.capture_head: int | None = None  # set by the alignment guard: keep this head's q and k
        self.captured: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                cache: KVCache | None, layer: int, pos: torch.Tensor | None, kv_len: int | None) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, Dh)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None and pos is None:
            cache.write_prefix(layer, k, v)
        elif cache is not None and self.capture_head is None and self.n_kv_heads == self.n_heads:
            cache.write_step(layer, k, v, pos)
            out = decode_attention(q, cache, layer, kv_len, mask)  # (B, H, 1, Dh)
            return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))
        elif cache is not None:
            cache.write_step(layer, k, v, pos)
            k, v = cache.view(layer, kv_len)  # (B, H, S, Dh)
        if self.capture_head is not None:
            kv_head = self.capture_head // (self.n_heads // self.n_kv_heads)
            self.captured = (q[:, self.capture_head], k[:, kv_head])  # (B, T, Dh), (B, S, Dh)
        if self.n_kv_heads != self.n_heads:
            rep = self.n_heads // self.n_kv_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        if mask is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))  # (B, T, D)


class MLP(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.dim, cfg.intermediate, bias=False)
        self.up_proj = nn.Linear(cfg.dim, cfg.intermediate, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                cache: KVCache | None, layer: int, pos: torch.Tensor | None, kv_len: int | None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, layer, pos, kv_len)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """The backbone: ``embed_tokens`` (unused), ``layers``, final ``norm``."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.dummy_vocab, cfg.dim)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.rope = Rope(cfg)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None = None,
                cache: KVCache | None = None, pos: torch.Tensor | None = None,
                kv_len: int | None = None) -> torch.Tensor:
        """Normed hidden states (B, T, D) of input embeddings ``x`` (B, T, D) at ``positions`` (B, T).

        Without a cache, or with a cache and ``pos=None`` (prefill), the T inputs attend to each other
        (causal if ``mask`` is None). With ``pos`` (B,) (a decode step, T = 1) each row writes slot
        ``pos`` and attends over the first ``kv_len`` cache slots under ``mask`` (B, 1, 1, kv_len).
        """
        cos, sin = self.rope(positions, x.dtype)
        if cache is not None and pos is not None:
            cache.begin_step(pos)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, cache, i, pos, kv_len)
        return self.norm(x)
