"""The T3 prefill: ragged texts + one voice -> embeddings, masks, and each row's last logits.

Dimensions: n texts, R rows (n, or 2n with CFG: conditional rows first, then unconditional), C conditioning
tokens, N_i text ids of text i with SOT/EOT, L0_i = C + N_i + 2 prefill length (the start-of-speech token
appears twice, as in the official model), Lmax = max L0_i, D width, V speech vocabulary.

Sequence of row i: [cond (C) | text (N_i) | BOS | BOS]; RoPE position = index in the row. CFG rows differ
only in the text token embeddings (zeroed in the unconditional row).
"""

from __future__ import annotations

import torch

from model.kv_cache import KVCache
from model.t3 import T3, T3Cond


def build_prefill(model: T3, texts: list[torch.Tensor], cond_emb: torch.Tensor, use_cfg: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Prefill embeddings (R, Lmax, D) and lengths L0 (R,) for ragged texts (ids without SOT/EOT)."""
    cfg, dev = model.cfg, model.device
    n = len(texts)
    n_ids = torch.tensor([t.numel() + 2 for t in texts], device=dev)  # N_i
    ids = torch.full((n, int(n_ids.max())), cfg.stop_text, dtype=torch.long, device=dev)  # (n, Nmax)
    for i, t in enumerate(texts):
        ids[i, 0] = cfg.start_text
        ids[i, 1 : t.numel() + 1] = t.to(dev)
    uncond = torch.zeros(n, dtype=torch.bool, device=dev)
    if use_cfg:
        ids, n_ids = ids.repeat(2, 1), n_ids.repeat(2)
        uncond = torch.cat((uncond, ~uncond))
    rows, c = ids.shape[0], cond_emb.shape[1]
    lengths = c + n_ids + 2  # L0 (R,)
    x = torch.zeros(rows, int(lengths.max()), cfg.dim, device=dev, dtype=model.dtype)  # (R, Lmax, D)
    x[:, :c] = cond_emb.to(model.dtype)
    x[:, c : c + ids.shape[1]] = model.embed_text(ids, uncond)
    zero = torch.zeros((), dtype=torch.long, device=dev)
    bos = model.embed_speech(zero + cfg.start_speech, zero)  # (D,)
    r = torch.arange(rows, device=dev)
    x[r, c + n_ids] = bos
    x[r, c + n_ids + 1] = bos
    return x, lengths


def prefill_mask(lengths: torch.Tensor, width: int) -> torch.Tensor | None:
    """(R, 1, Lmax, Lmax) causal mask that also hides each row's padding; None if no row is padded."""
    if bool((lengths == width).all()):
        return None
    j = torch.arange(width, device=lengths.device)
    causal = j[None, :] <= j[:, None]  # (Lq, Lk)
    return (causal[None] & (j[None, None, :] < lengths[:, None, None]))[:, None]


def run_prefill(model: T3, x: torch.Tensor, lengths: torch.Tensor, cache: KVCache | None = None,
                rows: torch.Tensor | None = None) -> torch.Tensor:
    """Run the prefill (R, Lmax, D), writing keys and values into ``cache`` rows ``rows`` (default 0..R-1)
    if given; each row's last-position logits (R, V) fp32."""
    r, width = x.shape[0], x.shape[1]
    positions = torch.arange(width, device=x.device).expand(r, -1)
    target = cache.rows(rows) if cache is not None and rows is not None else cache
    h = model.tfmr(x, positions, prefill_mask(lengths, width), cache=target)  # (R, Lmax, D)
    return model.logits(h[torch.arange(r, device=x.device), lengths - 1])


@torch.inference_mode()
def prefill_logits(model: T3, texts: list[torch.Tensor], cond: T3Cond | torch.Tensor, cfg_weight: float
                   ) -> torch.Tensor:
    """Last-position logits (R, V) of the prefill, without a cache (parity tests, debugging)."""
    cond_emb = cond if isinstance(cond, torch.Tensor) else model.encode_cond(cond)
    x, lengths = build_prefill(model, texts, cond_emb, cfg_weight > 0)
    return run_prefill(model, x, lengths)
