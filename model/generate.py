"""Batched T3 decoding: a list of ragged texts + one voice -> one speech-token sequence per text.

Dimensions: n texts, R rows (n, or 2n with CFG: conditional rows first, then unconditional), C
conditioning tokens, N_i text ids of text i with SOT/EOT, L0_i = C + N_i + 2 prefill length (the
start-of-speech token appears twice, as in the official model), K = max_new_tokens, S cache slots,
D width, V speech vocabulary.

Sequence of row i: [cond (C) | text (N_i) | BOS | BOS | t_0 t_1 ...]; RoPE position = index in the row,
learned speech position of t_k = k + 1 (both BOS use 0). CFG rows differ only in the text token embeddings
(zeroed in the unconditional row); logits combine as ``l0 + w (l0 - l1)``. With ``cfg_weight == 0`` only
the conditional rows run. Rows stop at their own stop token; a finished row keeps computing until every
row is done (checked every ``stop_check_every`` steps, the only host sync of the loop). Multilingual
checkpoints also run the official alignment-based stop-token guard (``model.alignment``) on each row.

Memory: the KV cache, the token buffer and the seen-token mask are allocated once per call at their final
size and written in place; nothing is kept after the call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from model import cuda_graph, sampling
from model.alignment import AlignmentGuard, supports_guard
from model.errors import ModelError
from model.kv_cache import KVCache
from model.params import SynthesisParams
from model.t3 import T3, T3Cond

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class T3Params:
    """Decode-only switches; the sampling values (and their limits) come from ``model.params.SynthesisParams``."""

    greedy: bool = False  # argmax instead of sampling (parity tests)
    stop_at_eos: bool = True  # False: always run max_new_tokens steps (benchmarks)
    alignment_guard: bool = True  # multilingual only: the official alignment-based stop-token guard
    stop_check_every: int = 16
    cuda_graph: bool = True  # CUDA only: replay the decode step from a CUDA graph (model.cuda_graph); no-op elsewhere

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


def _check_inputs(model: T3, texts: list[torch.Tensor], seeds: list[int], params: SynthesisParams) -> None:
    cfg = model.cfg
    if not texts:
        raise ModelError("no texts to generate")
    if len(seeds) != len(texts):
        raise ModelError(f"{len(seeds)} seeds for {len(texts)} texts")
    for i, t in enumerate(texts):
        if t.dim() != 1 or t.dtype.is_floating_point:
            raise ModelError(f"text {i}: token ids must be a 1-D integer tensor, got {tuple(t.shape)} {t.dtype}")
        if t.numel() + 2 > cfg.text_positions:
            raise ModelError(f"text {i}: {t.numel()} ids, at most {cfg.text_positions - 2} fit the position table")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= cfg.text_vocab):
            raise ModelError(f"text {i}: token id out of range 0..{cfg.text_vocab - 1}")
    if params.max_new_tokens >= cfg.speech_positions:
        raise ModelError(f"max_new_tokens {params.max_new_tokens} exceeds the speech position table "
                         f"({cfg.speech_positions - 1})")


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


def _prefill_mask(lengths: torch.Tensor, width: int) -> torch.Tensor | None:
    """(R, 1, Lmax, Lmax) causal mask that also hides each row's padding; None if no row is padded."""
    if bool((lengths == width).all()):
        return None
    j = torch.arange(width, device=lengths.device)
    causal = j[None, :] <= j[:, None]  # (Lq, Lk)
    return (causal[None] & (j[None, None, :] < lengths[:, None, None]))[:, None]


@torch.inference_mode()
def prefill_logits(model: T3, texts: list[torch.Tensor], cond: T3Cond | torch.Tensor, cfg_weight: float
                   ) -> torch.Tensor:
    """Last-position logits (R, V) of the prefill, without a cache (parity tests, debugging)."""
    cond_emb = cond if isinstance(cond, torch.Tensor) else model.encode_cond(cond)
    x, lengths = build_prefill(model, texts, cond_emb, cfg_weight > 0)
    positions = torch.arange(x.shape[1], device=x.device).expand(x.shape[0], -1)
    h = model.tfmr(x, positions, _prefill_mask(lengths, x.shape[1]))
    return model.logits(h[torch.arange(x.shape[0], device=x.device), lengths - 1])


@torch.inference_mode()
def generate_raw(model: T3, texts: list[torch.Tensor], cond: T3Cond | torch.Tensor, params: SynthesisParams,
                 seeds: list[int], decode: T3Params = T3Params(), *, fixed_shapes: bool = False,
                 static_step: bool = False) -> RawTokens:
    """Decode every text; raw tokens as the official loop returns them (a final stop token included).

    ``cond`` is a voice or its precomputed ``encode_cond`` output (1, C, D). ``fixed_shapes`` attends over
    the whole cache with a mask at every step (constant shapes for graph capture) instead of the filled part.
    With ``decode.cuda_graph`` on a CUDA model (and no alignment guard) the decode step is replayed from a
    CUDA graph (``model.cuda_graph``, same kernels as ``fixed_shapes``); ``static_step`` runs that same
    static-buffer step eagerly on any device (tests).
    """
    params.validate()
    decode.validate()
    _check_inputs(model, texts, seeds, params)
    cfg, dev = model.cfg, model.device
    use_cfg = params.cfg_weight > 0
    n, k_max = len(texts), params.max_new_tokens
    cond_emb = cond if isinstance(cond, torch.Tensor) else model.encode_cond(cond)
    x, lengths = build_prefill(model, texts, cond_emb, use_cfg)
    rows, width = x.shape[0], x.shape[1]
    lc = cfg.llama
    cache = KVCache(lc.n_layers, rows, lc.n_kv_heads, width + k_max, lc.head_dim, device=dev, dtype=model.dtype)

    guard = None
    if decode.alignment_guard and supports_guard(model):
        guard = AlignmentGuard(model, lengths[:n] - cond_emb.shape[1] - 2, cond_emb.shape[1])
        guard.attach()
    try:
        use_graph = decode.cuda_graph and dev.type == "cuda"
        if guard is None and (use_graph or static_step):
            logits = _prefill(model, x, lengths, cache)
            del x
            out = cuda_graph.decode(model, logits, lengths, cache, params, decode, seeds, use_graph=use_graph)
            return _finish(out, decode, cfg.stop_speech)
        return _decode(model, x, lengths, cache, guard, params, decode, seeds, fixed_shapes)
    finally:
        if guard is not None:
            guard.detach()
        cache.release()


def _decode(model: T3, x: torch.Tensor, lengths: torch.Tensor, cache: KVCache, guard: AlignmentGuard | None,
            params: SynthesisParams, decode: T3Params, seeds: list[int], fixed_shapes: bool) -> RawTokens:
    cfg, dev = model.cfg, model.device
    use_cfg = params.cfg_weight > 0
    n, k_max = len(seeds), params.max_new_tokens
    width = x.shape[1]
    logits = _prefill(model, x, lengths, cache)  # (R, V)
    chunk = guard.attention_row(lengths[:n] - 1, lengths[:n]) if guard is not None else None
    del x

    def scalar(v: float) -> torch.Tensor:
        return torch.full((1, 1), float(v), device=dev, dtype=torch.float32)

    penalty, temperature, min_p = scalar(params.repetition_penalty), scalar(params.temperature), scalar(params.min_p)
    top_p = scalar(params.top_p) if params.top_p < 1.0 else None
    w = scalar(params.cfg_weight)
    keys = sampling.seed_keys(seeds, dev)
    out = torch.full((n, k_max), cfg.stop_speech, dtype=torch.long, device=dev)  # (n, K)
    seen = torch.zeros(n, cfg.speech_vocab, dtype=torch.bool, device=dev)  # repetition history
    seen[:, cfg.start_speech] = True
    done = torch.zeros(n, dtype=torch.bool, device=dev)
    pos = lengths.clone()  # slot of the next fed-back token, per row
    step = torch.zeros((), dtype=torch.long, device=dev)
    slots = torch.arange(cache.max_len, device=dev)

    for k in range(k_max):
        scores = logits[:n] + w * (logits[:n] - logits[n:]) if use_cfg else logits
        if guard is not None:
            repeated = out[:, k - 1] == out[:, k - 2] if k >= 2 else None
            scores = guard.step(scores, chunk, k, repeated, cfg.stop_speech)
        scores = sampling.process(scores, seen, penalty=penalty, temperature=temperature, min_p=min_p, top_p=top_p)
        tok = sampling.sample(scores, keys, step, decode.greedy)  # (n,)
        out[:, k] = tok
        seen.scatter_(1, tok[:, None], True)
        if decode.stop_at_eos:
            done |= tok == cfg.stop_speech
        if k + 1 == k_max or ((k + 1) % decode.stop_check_every == 0 and bool(done.all())):
            break
        e = model.embed_speech(tok, (step + 1).expand(n))  # (n, D)
        if use_cfg:
            e = e.repeat(2, 1)
        kv_len = cache.max_len if fixed_shapes else width + k + 1
        mask = (slots[:kv_len][None] <= pos[:, None])[:, None, None]  # (R, 1, 1, S)
        h = model.tfmr(e[:, None], pos[:, None], mask, cache=cache, pos=pos, kv_len=kv_len)
        logits = model.logits(h[:, -1])
        if guard is not None:
            chunk = guard.attention_row(torch.zeros_like(pos[:n]), pos[:n] + 1)
        pos += 1
        step += 1
    return _finish(out, decode, cfg.stop_speech)


def _prefill(model: T3, x: torch.Tensor, lengths: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run the prefill (R, Lmax, D) into the cache; each row's last-position logits (R, V)."""
    rows, width = x.shape[0], x.shape[1]
    positions = torch.arange(width, device=x.device).expand(rows, -1)
    h = model.tfmr(x, positions, _prefill_mask(lengths, width), cache=cache)  # (R, Lmax, D)
    return model.logits(h[torch.arange(rows, device=x.device), lengths - 1])


def _finish(out: torch.Tensor, params: T3Params, stop: int) -> RawTokens:
    """Token buffer (n, K) -> RawTokens with each row's length up to and including its first stop token."""
    k_max = out.shape[1]
    is_stop = out == stop
    first_stop = is_stop.int().argmax(1) + 1
    lengths_out = torch.where(is_stop.any(1), first_stop, torch.full_like(first_stop, k_max))
    if not params.stop_at_eos:
        lengths_out = torch.full_like(first_stop, k_max)
    return RawTokens(out.cpu(), lengths_out.cpu())


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
             decode: T3Params = T3Params()) -> list[torch.Tensor]:
    """Speech tokens (1-D int64, CPU, codes < 6561) for each text (ids without SOT/EOT), one shared voice.

    ``seeds`` (default 0 for every text) make each text's tokens reproducible, batched or alone.
    """
    seeds = [0] * len(texts_token_ids) if seeds is None else list(seeds)
    params = params or SynthesisParams()
    raw = generate_raw(model, texts_token_ids, cond, params, seeds, decode)
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
