"""How many texts to synthesize at once on a device: a default the worker can call instead of a fixed 8.

On CUDA the batch follows from the free memory now: each text holds its T3 cache rows (two with CFG for the
original model, one for Turbo) over its prefill and its tokens, plus S3Gen's working memory for its audio; the
batch is the power of two that fits in ``HEADROOM`` of the free memory, at most ``MAX_BATCH`` (T3 and S3Gen
throughput is flat beyond it on an H200).
CPU and MPS get small fixed batches: they are compute-bound at a few texts.
"""

from __future__ import annotations

import torch

from model.config import T3Config
from model.turbo.config import TurboConfig

__all__ = ["suggest_batch_size", "MAX_BATCH"]

MAX_BATCH = 256
HEADROOM = 0.6  # of the free memory: allocator fragmentation, the CUDA graph pool, other processes
# S3Gen's peak working memory per text of ~40 s (1000 tokens) at float32, measured on an H200 from the
# per-batch peaks of bench/bench_s3gen.py (flow estimator activations and the vocoder's upsampling stack).
S3GEN_BYTES_PER_TEXT = 160 * 2**20
TEXT_TOKENS = 300  # a long chunk's text ids


def _kv_bytes_per_position(cfg: T3Config | TurboConfig) -> tuple[int, int]:
    """(K and V elements per cache position of one text, over all its rows; the conditioning positions it holds)."""
    if isinstance(cfg, TurboConfig):   # no CFG: one row; the voice prefix is stored once per batch, not per row
        g = cfg.gpt2                   # (model.turbo.generate.SHARE_PREFIX_MIN: every batch worth sizing)
        return 2 * g.n_layers * g.n_heads * g.head_dim, 0
    lc = cfg.llama                     # CFG: two rows; speaker + 32 perceiver tokens + emotion
    return 2 * 2 * lc.n_layers * lc.n_kv_heads * lc.head_dim, 34


def suggest_batch_size(cfg: T3Config | TurboConfig | None, device: torch.device | str,
                       dtype: torch.dtype = torch.float32, *, max_new_tokens: int = 1000,
                       free_bytes: int | None = None) -> int:
    """Texts per batch for ``device``: from its free memory on CUDA (or ``free_bytes``), 8 on MPS, 4 on CPU."""
    dev = torch.device(device)
    if dev.type == "cpu":
        return 4
    if dev.type != "cuda":
        return 8
    if free_bytes is None:
        free_bytes, _ = torch.cuda.mem_get_info(dev)
    per_position, cond = _kv_bytes_per_position(cfg or T3Config())
    width = torch.empty((), dtype=dtype).element_size()
    kv = per_position * (cond + TEXT_TOKENS + max_new_tokens) * width
    per_text = kv + S3GEN_BYTES_PER_TEXT
    fit = int(HEADROOM * free_bytes) // per_text
    if fit < 1:
        return 1
    return min(MAX_BATCH, 1 << (fit.bit_length() - 1))
