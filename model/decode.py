"""One T3 decode step over a fixed set of slots, and the loop that keeps the slots full (continuous batching).

Dimensions: B slots (texts decoding at once), R rows (B, or 2B with CFG: slot b's unconditional row is B + b),
n texts, K token buffer width (the largest cap), S cache slots, V speech vocabulary, D width.

``step`` is the only decode step; the eager loop and the CUDA-graph replay (``model.cuda_graph``) both run it.
It reads the previous logits (R, V) from a static buffer and, without a host sync and with constant shapes:
CFG combine -> [eager only: the multilingual alignment guard's adjustment] -> processors -> sample (each slot
with its own seed and step) -> token into ``out[text, step]`` -> seen mask -> end test (stop token, or the
text's cap) -> embed at learned speech position step + 1 -> backbone step (one cache slot per row) -> logits
into the buffer -> ``pos`` and ``step`` += 1 for slots still live. An ended slot freezes: its writes go to
a trash row and column of ``out``, its position stays put, and its step feeds cache slot 0 (attending over
that one key), so it costs little more than its rows of the matmuls until the loop refills it.

Continuous batching (``model.slots``): texts are admitted longest cap first; each freed slot gets the next
pending text: one prefill of the admitted texts into their slots' cache rows, their logits into the buffer,
their per-slot state reset. A text's tokens depend only on its own text, seed and cap,
so they equal one-by-one decoding with the same seed. Memory: one static cache of B rows x S slots for the
whole call, sized for the longest text and the largest cap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch

from model import sampling
from model.alignment import AlignmentGuard
from model.kv_cache import KVCache
from model.params import SynthesisParams
from model.prefill import build_prefill, run_prefill
from model.slots import decode_in_slots
from model.t3 import T3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Texts:
    """What the loop decodes: text ids (without SOT/EOT), one seed and one cap per text."""

    ids: list[torch.Tensor]
    seeds: list[int]
    caps: list[int]

    def prefill_len(self, i: int, cond_len: int) -> int:
        return cond_len + self.ids[i].numel() + 4  # cond | SOT text EOT | BOS BOS


class DecodeState:
    """Every tensor the step reads or writes: allocated once, updated in place (graph-static addresses)."""

    def __init__(self, model: T3, slots: int, n_texts: int, width: int, params: SynthesisParams,
                 cache: KVCache) -> None:
        cfg, dev = model.cfg, model.device

        def scalar(v: float) -> torch.Tensor:
            return torch.full((1, 1), float(v), device=dev, dtype=torch.float32)

        self.b, self.n, self.k = slots, n_texts, width
        self.use_cfg = params.cfg_weight > 0
        rows = 2 * slots if self.use_cfg else slots
        self.stop, self.start = cfg.stop_speech, cfg.start_speech
        self.penalty, self.temperature = scalar(params.repetition_penalty), scalar(params.temperature)
        self.min_p, self.w = scalar(params.min_p), scalar(params.cfg_weight)
        self.top_p = scalar(params.top_p) if params.top_p < 1.0 else None
        self.logits = torch.zeros(rows, cfg.speech_vocab, device=dev)  # (R, V) fp32
        # (n + 1, K + 1): the last row and column take the writes of ended slots
        self.out = torch.full((n_texts + 1, width + 1), cfg.stop_speech, dtype=torch.long, device=dev)
        self.keys = torch.zeros(slots, dtype=torch.long, device=dev)  # sampling key of the slot's text
        self.seen = torch.zeros(slots, cfg.speech_vocab, dtype=torch.bool, device=dev)  # repetition history
        self.live = torch.zeros(slots, dtype=torch.bool, device=dev)
        self.text = torch.full((slots,), n_texts, dtype=torch.long, device=dev)  # text index of each slot
        self.step = torch.zeros(slots, dtype=torch.long, device=dev)  # tokens the slot's text has so far
        self.cap = torch.ones(slots, dtype=torch.long, device=dev)
        self.pos = torch.zeros(rows, dtype=torch.long, device=dev)  # cache slot of the next fed-back token
        self.slots = torch.arange(cache.max_len, device=dev)  # (S,)
        self.cache = cache

    def rows(self, slots: torch.Tensor) -> torch.Tensor:
        """Cache/logit rows of ``slots``: the conditional ones, then the unconditional ones with CFG."""
        return torch.cat((slots, slots + self.b)) if self.use_cfg else slots


def step(model: T3, st: DecodeState, greedy: bool, stop_at_eos: bool, *, kv_len: int | None = None,
         adjust: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
    """One sync-free decode step on ``st`` (see the module docstring).

    ``kv_len`` attends over the first slots only (eager, growing); None attends over all S (fixed shapes, as
    the graph does). ``adjust`` changes the CFG-combined scores (B, V) before the processors (the guard)."""
    b, logits = st.b, st.logits
    scores = logits[:b] + st.w * (logits[:b] - logits[b:]) if st.use_cfg else logits  # (B, V)
    if adjust is not None:
        scores = adjust(scores)
    scores = sampling.process(scores, st.seen, penalty=st.penalty, temperature=st.temperature, min_p=st.min_p,
                              top_p=st.top_p)
    tok = sampling.sample(scores, st.keys, st.step, greedy)  # (B,)
    st.out.index_put_((torch.where(st.live, st.text, st.n), torch.where(st.live, st.step, st.k)), tok)
    st.seen.scatter_(1, tok[:, None], True)
    ended = st.step + 1 >= st.cap
    if stop_at_eos:
        ended |= tok == st.stop
    st.live &= ~ended
    e = model.embed_speech(tok, st.step + 1)  # (B, D)
    if st.use_cfg:
        e = e.repeat(2, 1)  # (R, D)
    kv = st.cache.max_len if kv_len is None else kv_len
    # an ended slot feeds cache slot 0 and attends over that one key until the loop refills it (which
    # prefills its rows again): at its frozen position it would read its whole text's keys every step
    pos = torch.where(st.live.repeat(2) if st.use_cfg else st.live, st.pos, 0)  # (R,)
    mask = (st.slots[:kv][None] <= pos[:, None])[:, None, None]  # (R, 1, 1, kv)
    h = model.tfmr(e[:, None], pos[:, None], mask, cache=st.cache, pos=pos, kv_len=kv)
    st.logits.copy_(model.logits(h[:, -1]))
    adv = st.live.long()
    st.step += adv
    st.pos += adv.repeat(2) if st.use_cfg else adv


def admit(model: T3, st: DecodeState, slots: list[int], which: list[int], texts: Texts,
          cond_emb: torch.Tensor) -> torch.Tensor:
    """Prefill texts ``which`` into ``slots`` and reset their state; the prefill lengths L0 (R',)."""
    dev = model.device
    x, lengths = build_prefill(model, [texts.ids[i] for i in which], cond_emb, st.use_cfg)
    s = torch.tensor(slots, device=dev)
    rows = st.rows(s)
    st.logits[rows] = run_prefill(model, x, lengths, st.cache, rows)
    st.pos[rows] = lengths
    st.keys[s] = sampling.seed_keys([texts.seeds[i] for i in which], dev)
    st.text[s] = torch.tensor(which, device=dev)
    st.cap[s] = torch.tensor([texts.caps[i] for i in which], device=dev)
    st.step[s] = 0
    st.seen[s] = False
    st.seen[s, st.start] = True
    st.live[s] = True
    return lengths


def run(model: T3, texts: Texts, cond_emb: torch.Tensor, params: SynthesisParams, *, slots: int, greedy: bool,
        stop_at_eos: bool, stop_check_every: int, fixed_shapes: bool, guard: AlignmentGuard | None = None,
        step_fn: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
        step_impl: Callable[..., None] | None = None, bucket: int = 1) -> torch.Tensor:
    """Decode every text; the token buffer (n, K = max cap) on the model's device (unwritten entries hold the
    stop token).

    ``step_fn`` wraps the fixed-shape step (the CUDA graph); without it the step runs eagerly, over the
    filled part of the cache unless ``fixed_shapes``. ``step_impl`` replaces ``step`` under the graph (the
    compiled step: same computation); ``bucket`` rounds the cache and buffer sizes up to its multiples, so a
    compiled step sees few shapes. The alignment guard needs every text admitted at once
    in its own slot (``slots >= n``) and runs only in the eager loop.
    """
    n, c = len(texts.ids), cond_emb.shape[1]
    b = min(slots, n)
    lc = model.cfg.llama

    def up(x: int) -> int:
        return -(-x // bucket) * bucket

    k_max = max(texts.caps)
    width = up(k_max)
    s_max = up(max(texts.prefill_len(i, c) + texts.caps[i] for i in range(n)))
    rows = 2 * b if params.cfg_weight > 0 else b
    cache = KVCache(lc.n_layers, rows, lc.n_kv_heads, s_max, lc.head_dim, device=model.device, dtype=model.dtype)
    try:
        st = DecodeState(model, b, n, width, params, cache)
        # longest cap first: the long texts start at once and the short ones fill the gaps they leave
        order = list(range(n)) if guard is not None else sorted(range(n), key=lambda i: -texts.caps[i])
        if guard is not None and b < n:
            raise ValueError("the alignment guard decodes every text in its own slot")
        chunk = None

        def admit_texts(slots_: list[int], which: list[int]) -> list[int]:
            nonlocal chunk
            lengths = admit(model, st, slots_, which, texts, cond_emb)
            if guard is not None:      # every text admitted at once, in text order
                chunk = guard.attention_row(lengths[:n] - 1, lengths[:n])
            return lengths[: len(which)].tolist()

        impl = step_impl or step
        replay = None if step_fn is None else step_fn(lambda: impl(model, st, greedy, stop_at_eos))

        def one_step(k: int, kv_len: int) -> None:
            nonlocal chunk
            kv = None if fixed_shapes else kv_len
            if replay is not None:
                replay()
            elif guard is None:
                step(model, st, greedy, stop_at_eos, kv_len=kv)
            else:
                prev = st.out[:n, k - 1] == st.out[:n, k - 2] if k >= 2 else None

                def adjust(scores: torch.Tensor, frame: int = k, prev=prev, chunk=chunk) -> torch.Tensor:
                    return guard.step(scores, chunk, frame, prev, st.stop)

                step(model, st, greedy, stop_at_eos, kv_len=kv, adjust=adjust)
                # keys up to this step's slot: pos moved on for the rows still live
                chunk = guard.attention_row(torch.zeros_like(st.pos[:n]), st.pos[:n] + 1 - st.live.long())

        decode_in_slots(b, order, texts.caps, admit_texts, one_step, st.live.tolist,
                        stop_check_every=stop_check_every, max_len=s_max)
        return st.out[:n, :k_max]
    finally:
        cache.release()
