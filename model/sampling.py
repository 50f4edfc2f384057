"""Logits processing and sampling with the official semantics, on the device, per row, without host syncs.

Dimensions: B rows (one per text), V speech vocabulary. Order (English and multilingual): CFG combine ->
repetition penalty -> temperature -> min-p -> top-p -> sample. Semantics match the transformers 5.2
processors the official package uses:

* repetition penalty: every id already in the row's history (BOS included) has its score x replaced by
  ``x * rho`` if x < 0 else ``x / rho``; duplicates do not compound;
* temperature: ``x / tau``;
* min-p: tokens whose probability is below ``min_p * max(p)`` get -inf (the argmax always survives);
* top-p: ascending sort, cumulative softmax; positions with cumulative mass ``<= 1 - top_p`` get -inf,
  the top token always survives.

Sampling is counter-based: the Gumbel noise of (row seed, step, token) comes from an integer hash, so
a row's tokens depend only on its own seed and logits — batched equals one-by-one, no generator state,
and the step index can live on the device (CUDA graphs).
"""

from __future__ import annotations

import torch

_M32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer finaliser (lowbias32 constants) on int64 tensors holding values < 2**32."""
    x = x & _M32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def seed_keys(seeds: list[int], device: torch.device | str) -> torch.Tensor:
    """Per-row 32-bit keys (B,) int64 from arbitrary Python int seeds."""
    keys = []
    for s in seeds:
        s = int(s) & ((1 << 64) - 1)
        lo, hi = s & _M32, s >> 32
        keys.append((lo, hi))
    t = torch.tensor(keys, dtype=torch.int64, device=device).view(-1, 2)
    return _mix32(t[:, 0] ^ _mix32(t[:, 1] + 0x9E3779B9))


def gumbel_noise(keys: torch.Tensor, step: torch.Tensor, vocab: int) -> torch.Tensor:
    """Gumbel(0, 1) noise (B, V) fp32, a pure function of (key, step, token index); ``step`` is one shared
    step () or each row's own (B,)."""
    v = torch.arange(vocab, device=keys.device, dtype=torch.int64)
    s = step.to(torch.int64).reshape(-1, 1)  # (1, 1) or (B, 1)
    h = _mix32(keys[:, None] ^ _mix32(s * 0x3C6EF372 + 0x2545F491))  # (B, 1)
    h = _mix32(h + _mix32(v + 0x68E31DA4)[None])  # (B, V)
    u = ((h >> 8).float() + 0.5) * (1.0 / (1 << 24))  # uniform in (0, 1)
    return -torch.log(-torch.log(u))


def repetition_penalty_(scores: torch.Tensor, seen: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
    """scores (B, V), seen (B, V) bool, penalty (B, 1) -> penalised scores."""
    hit = torch.where(scores < 0, scores * penalty, scores / penalty)
    return torch.where(seen, hit, scores)


def min_p_filter(scores: torch.Tensor, min_p: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(scores, dim=-1)
    keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)
    return scores.masked_fill(~keep, float("-inf"))


def top_p_filter(scores: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    sorted_scores, order = torch.sort(scores, dim=-1)  # ascending
    cum = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
    drop_sorted = cum <= (1 - top_p)
    drop_sorted[..., -1] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return scores.masked_fill(drop, float("-inf"))


def process(scores: torch.Tensor, seen: torch.Tensor, *, penalty: torch.Tensor, temperature: torch.Tensor,
            min_p: torch.Tensor, top_p: torch.Tensor | None) -> torch.Tensor:
    """The official chain after CFG; ``top_p=None`` skips the (no-op at 1.0) top-p sort."""
    scores = repetition_penalty_(scores, seen, penalty)
    scores = scores / temperature
    scores = min_p_filter(scores, min_p)
    if top_p is not None:
        scores = top_p_filter(scores, top_p)
    return scores


def sample(scores: torch.Tensor, keys: torch.Tensor, step: torch.Tensor, greedy: bool = False) -> torch.Tensor:
    """One token per row (B,) from processed scores: argmax if greedy, else a draw from softmax(scores)."""
    if greedy:  # the official loop with ``multinomial`` patched to argmax: argmax of the probabilities
        return torch.softmax(scores, dim=-1).argmax(dim=-1)
    return (scores + gumbel_noise(keys, step, scores.shape[-1])).argmax(dim=-1)
