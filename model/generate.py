"""Batched T3 decoding: a list of ragged texts + one voice -> one speech-token sequence per text.

Dimensions: n texts, K = max_new_tokens (or the largest per-text cap). The prefill is ``model.prefill``
(sequence of row i: [cond | SOT text EOT | BOS BOS], CFG rows with the text embeddings zeroed); the decode
step and the continuous-batching loop are ``model.decode``; ``model.cuda_graph`` replays the step from a
CUDA graph. Each text stops at its own stop token or at its own cap; ``slots`` texts decode at once and a
finished one's slot takes the next pending text, so a batch is never padded to its longest text. A text's
tokens depend only on its text, seed and cap (counter-based sampling), never on its neighbours.

Multilingual checkpoints also run the official alignment-based stop-token guard (``model.alignment``);
it needs every text in its own slot from the start and runs only in the eager loop.

Memory: the KV cache, the token buffer and the per-slot state are allocated once per call at their final
size and written in place; nothing is kept after the call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from model import cuda_graph, decode
from model.alignment import AlignmentGuard, supports_guard
from model.errors import ModelError
from model.params import SynthesisParams
from model.prefill import build_prefill, prefill_logits
from model.t3 import T3, T3Cond

__all__ = ["T3Params", "RawTokens", "generate", "generate_raw", "clean_tokens", "build_prefill", "prefill_logits",
           "release_memory"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class T3Params:
    """Decode-only switches; the sampling values (and their limits) come from ``model.params.SynthesisParams``."""

    greedy: bool = False  # argmax instead of sampling (parity tests)
    stop_at_eos: bool = True  # False: every text runs to its cap (benchmarks)
    alignment_guard: bool = True  # multilingual only: the official alignment-based stop-token guard
    stop_check_every: int = 16  # steps between host syncs (finished slots are refilled then)
    cuda_graph: bool = True  # CUDA only: replay the decode step from a CUDA graph; no-op elsewhere
    compile: bool = False  # CUDA graph only: the step compiled by inductor (first call per batch size compiles)

    def validate(self) -> None:
        if self.stop_check_every < 1:
            raise ModelError(f"stop_check_every must be >= 1, got {self.stop_check_every}")


@dataclass(frozen=True)
class RawTokens:
    """Per-text raw output: ``tokens`` (n, K) int64 on the CPU, ``lengths`` (n,) including a final stop token."""

    tokens: torch.Tensor
    lengths: torch.Tensor

    def row(self, i: int) -> torch.Tensor:
        return self.tokens[i, : int(self.lengths[i])]


def _check_inputs(model: T3, texts: list[torch.Tensor], seeds: list[int], caps: list[int],
                  params: SynthesisParams) -> None:
    cfg = model.cfg
    if not texts:
        raise ModelError("no texts to generate")
    if len(seeds) != len(texts):
        raise ModelError(f"{len(seeds)} seeds for {len(texts)} texts")
    if len(caps) != len(texts):
        raise ModelError(f"{len(caps)} token caps for {len(texts)} texts")
    for i, t in enumerate(texts):
        if t.dim() != 1 or t.dtype.is_floating_point:
            raise ModelError(f"text {i}: token ids must be a 1-D integer tensor, got {tuple(t.shape)} {t.dtype}")
        if t.numel() + 2 > cfg.text_positions:
            raise ModelError(f"text {i}: {t.numel()} ids, at most {cfg.text_positions - 2} fit the position table")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= cfg.text_vocab):
            raise ModelError(f"text {i}: token id out of range 0..{cfg.text_vocab - 1}")
    for i, c in enumerate(caps):
        if not 1 <= c <= params.max_new_tokens:
            raise ModelError(f"text {i}: token cap {c} is outside 1..max_new_tokens ({params.max_new_tokens})")
    if params.max_new_tokens >= cfg.speech_positions:
        raise ModelError(f"max_new_tokens {params.max_new_tokens} exceeds the speech position table "
                         f"({cfg.speech_positions - 1})")


@torch.inference_mode()
def generate_raw(model: T3, texts: list[torch.Tensor], cond: T3Cond | torch.Tensor, params: SynthesisParams,
                 seeds: list[int], decode_params: T3Params = T3Params(), *, caps: list[int] | None = None,
                 slots: int | None = None, fixed_shapes: bool = False, static_step: bool = False) -> RawTokens:
    """Decode every text; raw tokens as the official loop returns them (a final stop token included).

    ``cond`` is a voice or its precomputed ``encode_cond`` output (1, C, D). ``caps[i]`` (default
    ``max_new_tokens``) is text i's most tokens; ``slots`` (default all) texts decode at once. With
    ``cuda_graph`` on a CUDA model (and no alignment guard) the step is replayed from a CUDA graph; eagerly,
    ``fixed_shapes`` attends over the whole cache as the graph does and ``static_step`` runs the graph's
    path (fixed shapes, no guard) on any device (tests).
    """
    dp = decode_params
    params.validate()
    dp.validate()
    caps = [params.max_new_tokens] * len(texts) if caps is None else [int(c) for c in caps]
    _check_inputs(model, texts, seeds, caps, params)
    n = len(texts)
    slots = n if slots is None else int(slots)
    if slots < 1:
        raise ModelError(f"slots must be >= 1, got {slots}")
    dev = model.device
    cond_emb = cond if isinstance(cond, torch.Tensor) else model.encode_cond(cond)
    guard = None
    if dp.alignment_guard and supports_guard(model) and not static_step:
        lengths = torch.tensor([t.numel() + 2 for t in texts], device=dev)
        guard = AlignmentGuard(model, lengths, cond_emb.shape[1])
        slots = n
    use_graph = guard is None and dp.cuda_graph and dev.type == "cuda"
    step_fn = cuda_graph.graphed(dev) if use_graph else None
    step_impl = cuda_graph.compiled_step() if use_graph and dp.compile else None
    batch = decode.Texts(ids=list(texts), seeds=[int(s) for s in seeds], caps=caps)
    if guard is not None:
        guard.attach()
    try:
        out = decode.run(model, batch, cond_emb, params, slots=slots, greedy=dp.greedy, stop_at_eos=dp.stop_at_eos,
                         stop_check_every=dp.stop_check_every, fixed_shapes=fixed_shapes or static_step or use_graph,
                         guard=guard, step_fn=step_fn, step_impl=step_impl, bucket=128 if step_impl else 1)
    finally:
        if guard is not None:
            guard.detach()
    return _finish(out, caps, dp.stop_at_eos, model.cfg.stop_speech)


def _finish(out: torch.Tensor, caps: list[int], stop_at_eos: bool, stop: int) -> RawTokens:
    """Token buffer (n, K) -> RawTokens: each row up to and including its first stop token, at most its cap."""
    cap = torch.tensor(caps, device=out.device)
    if not stop_at_eos:
        return RawTokens(out.cpu(), cap.cpu())
    is_stop = out == stop
    first_stop = is_stop.int().argmax(1) + 1
    lengths = torch.where(is_stop.any(1), first_stop, torch.full_like(first_stop, out.shape[1]))
    return RawTokens(out.cpu(), torch.minimum(lengths, cap).cpu())


def clean_tokens(raw: torch.Tensor, model_cfg) -> torch.Tensor:
    """Official post-processing, made robust: start after the first start-of-speech token, end before
    the first stop token, keep only real speech codes (< 6561)."""
    start = (raw == model_cfg.start_speech).nonzero()
    if start.numel():
        raw = raw[int(start[0, 0]) + 1 :]
    stop = (raw == model_cfg.stop_speech).nonzero()
    if stop.numel():
        raw = raw[: int(stop[0, 0])]
    return raw[raw < model_cfg.n_speech_codes]


def generate(model: T3, texts_token_ids: list[torch.Tensor], cond: T3Cond | torch.Tensor,
             params: SynthesisParams | None = None, seeds: list[int] | None = None,
             decode_params: T3Params = T3Params()) -> list[torch.Tensor]:
    """Speech tokens (1-D int64, CPU, codes < 6561) for each text (ids without SOT/EOT), one shared voice.

    ``seeds`` (default 0 for every text) make each text's tokens reproducible, batched or alone.
    """
    seeds = [0] * len(texts_token_ids) if seeds is None else list(seeds)
    params = params or SynthesisParams()
    raw = generate_raw(model, texts_token_ids, cond, params, seeds, decode_params)
    return [clean_tokens(raw.row(i), model.cfg) for i in range(len(texts_token_ids))]


def release_memory(device: torch.device | str) -> None:
    """Return cached allocator memory after a job (CUDA/MPS); a no-op on the CPU."""
    import gc

    gc.collect()
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    elif dev.type == "mps":
        torch.mps.empty_cache()
