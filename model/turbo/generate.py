"""Batched Turbo T3 decoding: ragged texts + one voice -> one speech-token sequence per text.

Dimensions: n texts, B slots (texts decoding at once), C = 1 + P conditioning tokens, N_i text ids of text i
(no start/stop text tokens in Turbo), L0_i = C + N_i + 1 prefill length, K = max_new_tokens, S =
max(L0_i + cap_i) cache slots, D width, V speech vocabulary (6563).

Row of text i: [speaker | prompt | text (N_i) | BOS | t_0 t_1 ...] at positions 0, 1, 2, ... (learned ``wpe``;
each row counts from 0, padding sits after L0_i and is overwritten by the row's own decode steps before any
query may attend to it). There is no CFG. From ``SHARE_PREFIX_MIN`` slots on, the voice prefix (the same C
positions in every row) is run and stored once, in a one-row prefix cache that every row attends first
(``model.attention``); each row's cache then holds only [text | BOS | t_0 ...], at positions C, C + 1, ...:
at 256 rows this halves the keys and values a step reads. Each step: processors (``model.turbo.sampling``) ->
sample (counter-based: the text's seed and its own step) -> write the token -> history -> feed
``speech_emb[token]`` back at slot ``pos``. The repetition history is [BOS] for the first token and the
generated tokens afterwards, as in the official loop. A text stops at its own stop token or cap: its slot's
later steps feed cache slot 0 and attend over that one key, so its share of a step stays small, until the
loop (``model.slots``, every ``stop_check_every`` steps: the only host sync) gives the slot the next pending
text, longest cap first: a prefill of the admitted texts into their slots' cache rows.

Static buffers: the KV cache, token buffer, history mask and positions are allocated once per call and
written in place. On CUDA (``cuda_graph``) the step is captured once into a CUDA graph after two eager
warm-up steps and replayed (``model.cuda_graph.StepGraph``); elsewhere it runs eagerly over the filled part
of the cache. Both use the same step function, so tokens are equal for the same seeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from model import sampling
from model.cuda_graph import StepGraph
from model.errors import ModelError
from model.kv_cache import KVCache
from model.slots import decode_in_slots
from model.turbo import sampling as turbo_sampling
from model.turbo.config import N_SILENCE, SILENCE_TOKEN, TurboConfig
from model.turbo.t3 import TurboT3

log = logging.getLogger(__name__)

# Rows from which the voice prefix is stored once: below it the two-part attention's extra kernels cost a
# launch-bound step more than the prefix reads they save.
SHARE_PREFIX_MIN = 8


@dataclass(frozen=True)
class TurboDecodeParams:
    """Decoding parameters; defaults are the official ``ChatterboxTurboTTS.generate`` ones."""

    temperature: float = 0.8
    top_k: int = 1000
    top_p: float = 0.95
    repetition_penalty: float = 1.2
    max_new_tokens: int = 1000
    greedy: bool = False          # argmax instead of sampling (parity tests)
    stop_at_eos: bool = True      # False: always run max_new_tokens steps (benchmarks)
    stop_check_every: int = 16
    cuda_graph: bool = True       # CUDA only: replay the decode step from a CUDA graph

    def validate(self) -> None:
        checks = [
            (self.temperature > 0, f"temperature must be > 0, got {self.temperature}"),
            (isinstance(self.top_k, int) and self.top_k >= 0, f"top_k must be an integer >= 0, got {self.top_k!r}"),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}"),
            (self.repetition_penalty > 0, f"repetition_penalty must be > 0, got {self.repetition_penalty}"),
            (self.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {self.max_new_tokens}"),
            (self.stop_check_every >= 1, f"stop_check_every must be >= 1, got {self.stop_check_every}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ModelError(msg)


@dataclass(frozen=True)
class TurboTokens:
    """Raw output: ``tokens`` (n, K) int64 on the CPU, ``lengths`` (n,) including a final stop token."""

    tokens: torch.Tensor
    lengths: torch.Tensor

    def row(self, i: int) -> torch.Tensor:
        return self.tokens[i, : int(self.lengths[i])]


def _check_inputs(model: TurboT3, texts: list[torch.Tensor], cond_len: int, seeds: list[int],
                  params: TurboDecodeParams) -> None:
    cfg = model.cfg
    if not texts:
        raise ModelError("no texts to generate")
    if len(seeds) != len(texts):
        raise ModelError(f"{len(seeds)} seeds for {len(texts)} texts")
    for i, t in enumerate(texts):
        if t.dim() != 1 or t.dtype.is_floating_point or t.numel() == 0:
            raise ModelError(f"text {i}: token ids must be a non-empty 1-D integer tensor, got "
                             f"{tuple(t.shape)} {t.dtype}")
        if int(t.min()) < 0 or int(t.max()) >= cfg.text_vocab:
            raise ModelError(f"text {i}: token id out of range 0..{cfg.text_vocab - 1}")
    longest = cond_len + max(t.numel() for t in texts) + 1 + params.max_new_tokens
    if longest > cfg.gpt2.positions:
        raise ModelError(f"{longest} positions needed (prompt, text and {params.max_new_tokens} new tokens), "
                         f"the position table has {cfg.gpt2.positions}")


def build_prefill(model: TurboT3, texts: list[torch.Tensor], cond_emb: torch.Tensor | None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Prefill embeddings (n, Lmax, D), right-padded, and lengths L0 (n,) for ragged texts: [cond | text | BOS],
    or [text | BOS] without ``cond_emb`` (the prefix is shared)."""
    cfg, dev = model.cfg, model.device
    n, c = len(texts), 0 if cond_emb is None else cond_emb.shape[1]
    n_ids = torch.tensor([t.numel() for t in texts], device=dev)  # N_i
    lengths = c + n_ids + 1
    x = torch.zeros(n, int(lengths.max()), cfg.dim, device=dev, dtype=model.dtype)  # (n, Lmax, D)
    if cond_emb is not None:
        x[:, :c] = cond_emb.to(model.dtype)
    for i, t in enumerate(texts):
        x[i, c : c + t.numel()] = model.text_emb(t.to(dev))
    bos = model.speech_emb(torch.tensor(cfg.start_speech, device=dev))  # (D,)
    x[torch.arange(n, device=dev), c + n_ids] = bos
    return x, lengths


def _prefill_mask(lengths: torch.Tensor, width: int) -> torch.Tensor | None:
    """(n, 1, Lmax, Lmax) causal mask hiding each row's padding; None if no row is padded."""
    if bool((lengths == width).all()):
        return None
    j = torch.arange(width, device=lengths.device)
    causal = j[None, :] <= j[:, None]  # (Lq, Lk)
    return (causal[None] & (j[None, None, :] < lengths[:, None, None]))[:, None]


def _positions(x: torch.Tensor) -> torch.Tensor:
    return torch.arange(x.shape[1], device=x.device).expand(x.shape[0], -1)


@torch.inference_mode()
def prefill_logits(model: TurboT3, texts: list[torch.Tensor], cond_emb: torch.Tensor) -> torch.Tensor:
    """Last-position logits (n, V) of the prefill, without a cache (parity tests, debugging)."""
    x, lengths = build_prefill(model, texts, cond_emb)
    h = model.tfmr(x, _positions(x), _prefill_mask(lengths, x.shape[1]))
    return model.logits(h[torch.arange(x.shape[0], device=x.device), lengths - 1])


class _State:
    """Every tensor the step reads or writes; allocated once, updated in place (graph-static addresses)."""

    def __init__(self, model: TurboT3, slots: int, n_texts: int, params: TurboDecodeParams, cache: KVCache,
                 prefix: KVCache | None) -> None:
        cfg, dev = model.cfg, model.device

        def scalar(v: float) -> torch.Tensor:
            return torch.full((1, 1), float(v), device=dev, dtype=torch.float32)

        self.n, self.k = n_texts, params.max_new_tokens
        self.logits = torch.zeros(slots, cfg.speech_vocab, device=dev)  # (B, V) fp32: a prefill's, then each step's
        self.temperature, self.penalty = scalar(params.temperature), scalar(params.repetition_penalty)
        self.top_p = scalar(params.top_p) if params.top_p < 1.0 else None
        self.keys = torch.zeros(slots, dtype=torch.long, device=dev)  # sampling key of the slot's text
        # (n + 1, K + 1): the last row and column take the writes of ended slots
        self.out = torch.full((n_texts + 1, self.k + 1), cfg.stop_speech, dtype=torch.long, device=dev)
        self.seen = torch.zeros(slots, cfg.speech_vocab, dtype=torch.bool, device=dev)  # repetition history
        self.live = torch.zeros(slots, dtype=torch.bool, device=dev)
        self.text = torch.full((slots,), n_texts, dtype=torch.long, device=dev)  # text index of each slot
        self.step = torch.zeros(slots, dtype=torch.long, device=dev)  # tokens the slot's text has so far
        self.cap = torch.ones(slots, dtype=torch.long, device=dev)  # (B,) the slot's text's most tokens
        self.pos = torch.zeros(slots, dtype=torch.long, device=dev)  # cache slot of the next fed-back token
        self.offset = 0 if prefix is None else prefix.max_len  # position of cache slot 0
        self.slots = torch.arange(cache.max_len, device=dev)  # (S,)
        self.cache, self.prefix = cache, prefix


def _step(model: TurboT3, st: _State, params: TurboDecodeParams, kv_len: int) -> None:
    """One sync-free decode step attending over the first ``kv_len`` cache slots."""
    cfg = model.cfg
    scores = turbo_sampling.process(st.logits, st.seen, temperature=st.temperature, top_k=params.top_k,
                                    top_p=st.top_p, penalty=st.penalty)
    tok = sampling.sample(scores, st.keys, st.step, params.greedy)  # (B,)
    st.out.index_put_((torch.where(st.live, st.text, st.n), torch.where(st.live, st.step, st.k)), tok)
    st.seen[:, cfg.start_speech].logical_and_(st.step > 0)  # BOS is history for the first token only
    st.seen.scatter_(1, tok[:, None], True)
    ended = st.step + 1 >= st.cap
    if params.stop_at_eos:
        ended |= tok == cfg.stop_speech
    st.live &= ~ended
    # an ended slot feeds cache slot 0 and attends over that one key (and the prefix) until it is refilled: at
    # its frozen position it would read all its keys every step while the others go on
    pos = torch.where(st.live, st.pos, 0)  # (B,)
    mask = (st.slots[:kv_len][None] <= pos[:, None])[:, None, None]  # (B, 1, 1, kv_len)
    h = model.tfmr(model.speech_emb(tok)[:, None], pos[:, None] + st.offset, mask, cache=st.cache, pos=pos,
                   kv_len=kv_len, prefix=st.prefix)
    st.logits.copy_(model.logits(h[:, -1]))
    adv = st.live.long()  # an ended slot's tokens after its end go to the trash row
    st.pos += adv
    st.step += adv


def _admit(model: TurboT3, st: _State, slots: list[int], which: list[int], texts: list[torch.Tensor],
           cond_emb: torch.Tensor, seeds: list[int], caps: list[int]) -> list[int]:
    """Prefill texts ``which`` into the cache rows of ``slots`` and reset those slots' state; the prefill
    lengths (cache slots each filled)."""
    cfg, dev = model.cfg, model.device
    x, lengths = build_prefill(model, [texts[i] for i in which], None if st.prefix is not None else cond_emb)
    s = torch.tensor(slots, device=dev)
    h = model.tfmr(x, _positions(x) + st.offset, _prefill_mask(lengths, x.shape[1]), cache=st.cache.rows(s),
                   prefix=st.prefix)  # (n', Lmax, D)
    st.logits[s] = model.logits(h[torch.arange(len(which), device=dev), lengths - 1])
    st.pos[s] = lengths
    st.keys[s] = sampling.seed_keys([seeds[i] for i in which], dev)
    st.text[s] = torch.tensor(which, device=dev)
    st.cap[s] = torch.tensor([caps[i] for i in which], device=dev)
    st.step[s] = 0
    st.seen[s] = False
    st.seen[s, cfg.start_speech] = True
    st.live[s] = True
    return lengths.tolist()


@torch.inference_mode()
def generate_raw(model: TurboT3, texts: list[torch.Tensor], cond_emb: torch.Tensor, params: TurboDecodeParams,
                 seeds: list[int], *, caps: list[int] | None = None, slots: int | None = None,
                 static_step: bool = False, share_prefix: bool | None = None) -> TurboTokens:
    """Decode every text (ids as the tokenizer gives them) after the voice prefix ``cond_emb`` (1, C, D).

    Raw tokens as the official loop samples them (a final stop token included), text i at most ``caps[i]``
    (default ``max_new_tokens``); entries after a text's end are unspecified. ``slots`` texts decode at once
    (default: all); a finished text's slot takes the next one (``model.slots``), longest cap first. A text's
    tokens depend only on its ids, seed and cap. ``static_step`` runs the graph's whole-cache step eagerly on
    any device (tests); ``share_prefix`` (default: from ``SHARE_PREFIX_MIN`` slots) stores the voice prefix
    once for all rows.
    """
    params.validate()
    _check_inputs(model, texts, cond_emb.shape[1], seeds, params)
    dev, g = model.device, model.cfg.gpt2
    n, k_max = len(texts), params.max_new_tokens
    caps = [k_max] * n if caps is None else [int(c) for c in caps]
    if len(caps) != n or not all(1 <= c <= k_max for c in caps):
        raise ModelError(f"caps must be one per text, each in 1..max_new_tokens ({k_max})")
    if slots is not None and slots < 1:
        raise ModelError(f"slots must be >= 1, got {slots}")
    b = min(slots or n, n)
    share = b >= SHARE_PREFIX_MIN if share_prefix is None else share_prefix
    c = cond_emb.shape[1]
    prefix = None
    if share:
        prefix = KVCache(g.n_layers, 1, g.n_heads, c, g.head_dim, device=dev, dtype=model.dtype)
        model.tfmr(cond_emb.to(model.dtype), torch.arange(c, device=dev)[None], cache=prefix)
    own = 0 if share else c  # conditioning positions in each row's own cache
    s_max = max(own + t.numel() + 1 + cap for t, cap in zip(texts, caps, strict=True))
    cache = KVCache(g.n_layers, b, g.n_heads, s_max, g.head_dim, device=dev, dtype=model.dtype)
    graph = None
    try:
        st = _State(model, b, n, params, cache, prefix)

        def admit(slots_: list[int], which: list[int]) -> list[int]:
            return _admit(model, st, slots_, which, texts, cond_emb, seeds, caps)

        if params.cuda_graph and dev.type == "cuda":
            graph = StepGraph(lambda: _step(model, st, params, s_max), dev)

        def one_step(k: int, kv_len: int) -> None:
            if graph is not None:
                graph()
            else:
                _step(model, st, params, s_max if static_step else kv_len)

        # longest cap first: the long texts start at once and the short ones fill the gaps they leave
        order = sorted(range(n), key=lambda i: -caps[i])
        decode_in_slots(b, order, caps, admit, one_step, st.live.tolist,
                        stop_check_every=params.stop_check_every, max_len=s_max)
        return _finish(st.out[:n, :k_max], params, model.cfg.stop_speech, torch.tensor(caps, device=dev))
    finally:
        graph = None  # the captured graph and its memory pool go now
        cache.release()
        if prefix is not None:
            prefix.release()


def _finish(out: torch.Tensor, params: TurboDecodeParams, stop: int, cap: torch.Tensor) -> TurboTokens:
    """Token buffer (n, K) -> each row's length: up to and including its first stop token, at most its cap."""
    within = torch.arange(out.shape[1], device=out.device)[None] < cap[:, None]
    is_stop = (out == stop) & within
    first = is_stop.int().argmax(1) + 1
    lengths = torch.where(is_stop.any(1) & params.stop_at_eos, first, cap)
    return TurboTokens(out.cpu(), lengths.cpu())


def clean_tokens(raw: torch.Tensor, cfg: TurboConfig) -> torch.Tensor:
    """The official Turbo post-processing: end before the first stop token, keep only real speech codes
    (< 6561), then append three silence tokens (4299) for S3Gen."""
    stop = (raw == cfg.stop_speech).nonzero()
    if stop.numel():
        raw = raw[: int(stop[0, 0])]
    raw = raw[raw < cfg.n_speech_codes]
    return torch.cat((raw.cpu().long(), torch.full((N_SILENCE,), SILENCE_TOKEN, dtype=torch.long)))


def generate(model: TurboT3, texts_token_ids: list[torch.Tensor], cond_emb: torch.Tensor,
             params: TurboDecodeParams = TurboDecodeParams(), seeds: list[int] | None = None) -> list[torch.Tensor]:
    """S3Gen-ready speech tokens (1-D int64, CPU, silence appended) per text, one shared voice prefix."""
    seeds = [0] * len(texts_token_ids) if seeds is None else list(seeds)
    raw = generate_raw(model, texts_token_ids, cond_emb, params, seeds)
    return [clean_tokens(raw.row(i), model.cfg) for i in range(len(texts_token_ids))]
