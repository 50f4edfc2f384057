"""T3 conditioning encoder: speaker projection, perceiver resampler over the speech prompt, exaggeration.

Dimensions: B rows, P prompt tokens, Q perceiver queries (32), D width, E speaker embedding (256).
Output per voice: ``(B, 1 + Q + 1, D)`` = [speaker | perceiver(prompt) | exaggeration]; without a prompt
the perceiver segment is empty. Module names follow the checkpoint (``cond_enc.spkr_enc`` ...).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PerceiverAttention(nn.Module):
    """One pre-norm attention block with a residual; a single LayerNorm serves queries and keys alike."""

    def __init__(self, dim: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.proj_out = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # (B, h, T, D/h)

    def forward(self, queries: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        qn, cn = self.norm(queries), self.norm(context)
        q, k, v = self._heads(self.to_q(qn)), self._heads(self.to_k(cn)), self._heads(self.to_v(cn))
        out = F.scaled_dot_product_attention(q, k, v)  # (B, h, Tq, D/h)
        b, _, tq, _ = out.shape
        return queries + self.proj_out(out.transpose(1, 2).reshape(b, tq, -1))


class Perceiver(nn.Module):
    """Cross-attention from Q learned queries onto the prompt, then self-attention, same weights."""

    def __init__(self, dim: int, n_queries: int, n_heads: int) -> None:
        super().__init__()
        self.pre_attention_query = nn.Parameter(torch.zeros(1, n_queries, dim))
        self.attn = PerceiverAttention(dim, n_heads)

    def forward(self, prompt: torch.Tensor) -> torch.Tensor:
        """prompt (B, P, D) -> (B, Q, D)."""
        y = self.attn(self.pre_attention_query.expand(prompt.shape[0], -1, -1), prompt)
        return self.attn(y, y)


class CondEncoder(nn.Module):
    """``spkr_enc`` (E -> D), ``emotion_adv_fc`` (1 -> D, no bias), ``perceiver``."""

    def __init__(self, dim: int, speaker_dim: int, n_queries: int, n_heads: int) -> None:
        super().__init__()
        self.speaker_dim = speaker_dim
        self.spkr_enc = nn.Linear(speaker_dim, dim)
        self.emotion_adv_fc = nn.Linear(1, dim, bias=False)
        self.perceiver = Perceiver(dim, n_queries, n_heads)

    def forward(self, speaker_emb: torch.Tensor, prompt_emb: torch.Tensor | None,
                exaggeration: torch.Tensor) -> torch.Tensor:
        """speaker_emb (B, E), prompt_emb (B, P, D) or None, exaggeration (B,) -> (B, C, D)."""
        spk = self.spkr_enc(speaker_emb.view(-1, self.speaker_dim))[:, None]  # (B, 1, D)
        emo = self.emotion_adv_fc(exaggeration.view(-1, 1, 1).to(spk.dtype))  # (B, 1, D)
        if prompt_emb is None or prompt_emb.shape[1] == 0:
            return torch.cat((spk, emo), dim=1)
        return torch.cat((spk, self.perceiver(prompt_emb), emo), dim=1)
