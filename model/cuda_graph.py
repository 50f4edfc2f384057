"""The T3 decode step on static buffers, replayed from a CUDA graph (eager on other devices).

Dimensions: n texts, R rows (n, or 2n with CFG), S cache slots, V speech vocabulary, K = max_new_tokens.

One step reads the previous logits (R, V) from a static buffer and does, without a host sync and with
constant shapes: CFG combine -> processors -> sampling -> write the token into ``out[:, step]`` -> seen
mask -> done flags -> embed the token -> backbone step over the whole cache (masked, fixed shapes) ->
logits into the static buffer -> ``pos += 1``, ``step += 1``. The step counter lives on the device, so
the same recorded kernels serve every step. On CUDA the first ``WARMUP_STEPS`` steps run eagerly on a
side stream (as torch requires before capture), one step is captured into a ``torch.cuda.CUDAGraph``
and replayed for the rest; the graph and its memory pool are dropped at the end of the call. Every step,
the last one included, feeds its token through the backbone (the last one's output is never read; its
cache slot ``L0 + K - 1`` is in range), which keeps the step a single graph.

The kernels and shapes are those of ``generate_raw(..., fixed_shapes=True)``, so the tokens equal that
path's for the same seeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING

import torch

from model import sampling
from model.kv_cache import KVCache

if TYPE_CHECKING:
    from model.generate import T3Params
    from model.params import SynthesisParams
    from model.t3 import T3

log = logging.getLogger(__name__)

WARMUP_STEPS = 2  # eager steps on a side stream before capture
_SIDE_STREAMS: dict[torch.device, torch.cuda.Stream] = {}  # one per device: bounded cuBLAS workspaces


def _side_stream(device: torch.device) -> torch.cuda.Stream:
    key = torch.device("cuda", device.index if device.index is not None else torch.cuda.current_device())
    if key not in _SIDE_STREAMS:
        _SIDE_STREAMS[key] = torch.cuda.Stream(device=key)
    return _SIDE_STREAMS[key]


class DecodeState:
    """Every tensor the step reads or writes; allocated once, updated in place (graph-static addresses)."""

    def __init__(self, model: T3, logits: torch.Tensor, lengths: torch.Tensor, cache: KVCache,
                 params: SynthesisParams, seeds: list[int]) -> None:
        cfg, dev = model.cfg, logits.device
        n = len(seeds)

        def scalar(v: float) -> torch.Tensor:
            return torch.full((1, 1), float(v), device=dev, dtype=torch.float32)

        self.n = n
        self.logits = logits.contiguous()  # (R, V) fp32: the prefill's, then each step's
        self.penalty, self.temperature = scalar(params.repetition_penalty), scalar(params.temperature)
        self.min_p, self.w = scalar(params.min_p), scalar(params.cfg_weight)
        self.top_p = scalar(params.top_p) if params.top_p < 1.0 else None
        self.keys = sampling.seed_keys(seeds, dev)
        self.out = torch.full((n, params.max_new_tokens), cfg.stop_speech, dtype=torch.long, device=dev)  # (n, K)
        self.seen = torch.zeros(n, cfg.speech_vocab, dtype=torch.bool, device=dev)
        self.seen[:, cfg.start_speech] = True
        self.done = torch.zeros(n, dtype=torch.bool, device=dev)
        self.pos = lengths.clone()  # (R,) slot of the next fed-back token
        self.step = torch.zeros((), dtype=torch.long, device=dev)
        self.slots = torch.arange(cache.max_len, device=dev)  # (S,)
        self.cache = cache


def decode_step(model: T3, st: DecodeState, params: SynthesisParams, dec: T3Params) -> None:
    """One sync-free, shape-static decode step on ``st`` (see the module docstring)."""
    stop = model.cfg.stop_speech
    n, logits = st.n, st.logits
    scores = logits[:n] + st.w * (logits[:n] - logits[n:]) if params.cfg_weight > 0 else logits
    scores = sampling.process(scores, st.seen, penalty=st.penalty, temperature=st.temperature, min_p=st.min_p,
                              top_p=st.top_p)
    tok = sampling.sample(scores, st.keys, st.step, dec.greedy)  # (n,)
    st.out.index_copy_(1, st.step.view(1), tok[:, None])
    st.seen.scatter_(1, tok[:, None], True)
    if dec.stop_at_eos:
        st.done |= tok == stop
    e = model.embed_speech(tok, (st.step + 1).expand(n))  # (n, D)
    if params.cfg_weight > 0:
        e = e.repeat(2, 1)
    mask = (st.slots[None] <= st.pos[:, None])[:, None, None]  # (R, 1, 1, S)
    h = model.tfmr(e[:, None], st.pos[:, None], mask, cache=st.cache, pos=st.pos, kv_len=st.cache.max_len)
    st.logits.copy_(model.logits(h[:, -1]))
    st.pos += 1
    st.step += 1


def decode(model: T3, logits: torch.Tensor, lengths: torch.Tensor, cache: KVCache, params: SynthesisParams,
           dec: T3Params, seeds: list[int], *, use_graph: bool) -> torch.Tensor:
    """Decode from the prefill's last logits (R, V); the token buffer (n, K) on the model's device.

    ``use_graph`` (CUDA only) captures the step once and replays it; otherwise the step runs eagerly.
    Stops early (every ``stop_check_every`` steps, the only host sync) once every row is done.
    """
    st = DecodeState(model, logits, lengths, cache, params, seeds)
    k_max, every = params.max_new_tokens, dec.stop_check_every
    use_graph = use_graph and logits.device.type == "cuda"

    def finished(k: int) -> bool:
        return k + 1 == k_max or ((k + 1) % every == 0 and bool(st.done.all()))

    def step() -> None:
        decode_step(model, st, params, dec)

    warm = min(WARMUP_STEPS, k_max) if use_graph else k_max
    side = _side_stream(logits.device) if use_graph else None
    if side is not None:
        side.wait_stream(torch.cuda.current_stream(logits.device))
    with torch.cuda.stream(side) if side is not None else nullcontext():
        for k in range(warm):
            step()
            if finished(k):
                _join(side, logits.device)
                return st.out
    _join(side, logits.device)
    if side is None:  # not reached: without a graph the loop above runs to k_max
        return st.out
    graph = _capture(step, logits.device, side)
    try:
        for k in range(warm, k_max):
            graph.replay()
            if finished(k):
                break
    finally:
        del graph
    return st.out


def _join(side: torch.cuda.Stream | None, device: torch.device) -> None:
    if side is not None:
        torch.cuda.current_stream(device).wait_stream(side)


def _capture(step: Callable[[], None], device: torch.device, stream: torch.cuda.Stream) -> torch.cuda.CUDAGraph:
    """Record one step (no kernel runs); thread-local capture so other threads may use the GPU meanwhile."""
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.device(device), torch.cuda.graph(graph, stream=stream, capture_error_mode="thread_local"):
        step()
    log.debug("captured the T3 decode step on %s", device)
    return graph
