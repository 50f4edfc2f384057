"""Turbo's logits processors, in its own order: temperature -> top-k -> top-p -> repetition penalty.

Dimensions: B rows (one per text), V speech vocabulary. Semantics are those of the transformers 5.2
classes the official ``T3.inference_turbo`` chains (see ``model.sampling`` for top-p and the penalty);
top-k keeps every token scoring at least the k-th largest score (ties survive) and sets the rest to -inf.
The penalty runs last, on already-filtered scores (-inf stays -inf). Everything is on the device,
per row and sync-free; sampling itself is ``model.sampling.sample`` (counter-based Gumbel noise).
"""

from __future__ import annotations

import torch

from model.sampling import repetition_penalty_, top_p_filter


def top_k_filter(scores: torch.Tensor, k: int) -> torch.Tensor:
    """scores (B, V) -> scores with everything below each row's k-th largest set to -inf."""
    k = min(k, scores.shape[-1])
    kth = torch.topk(scores, k, dim=-1).values[..., -1:]  # (B, 1)
    return scores.masked_fill(scores < kth, float("-inf"))


def process(scores: torch.Tensor, seen: torch.Tensor, *, temperature: torch.Tensor, top_k: int,
            top_p: torch.Tensor | None, penalty: torch.Tensor) -> torch.Tensor:
    """The official Turbo chain; ``top_k=0`` and ``top_p=None`` skip those filters, as the official code does."""
    scores = scores / temperature
    if top_k > 0:
        scores = top_k_filter(scores, top_k)
    if top_p is not None:
        scores = top_p_filter(scores, top_p)
    return repetition_penalty_(scores, seen, penalty)
