"""Turbo decoding: cached batched decoding equals a naive no-cache loop; batching, padding, seeds, the graph step."""

import pytest
import torch

from model.errors import ModelError
from model.turbo.generate import (
    TurboDecodeParams,
    build_prefill,
    clean_tokens,
    generate,
    generate_raw,
    prefill_logits,
)
from model.turbo.sampling import top_k_filter


def _texts(n: int, seed: int = 0, vocab: int = 2048) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab, (int(torch.randint(3, 30, (1,), generator=g)),), generator=g) for _ in range(n)]


def _official_chain(scores, history, p: TurboDecodeParams):
    """The transformers processors as the official loop chains them, written out plainly (one row)."""
    s = scores / p.temperature
    if p.top_k > 0:
        kth = torch.topk(s, min(p.top_k, s.numel())).values[-1]
        s = torch.where(s < kth, torch.tensor(float("-inf")), s)
    if p.top_p < 1.0:
        order = torch.argsort(s)
        cum = torch.softmax(s[order], -1).cumsum(-1)
        drop = cum <= 1 - p.top_p
        drop[-1] = False
        s = s.clone()
        s[order[drop]] = float("-inf")
    ids = torch.tensor(sorted(set(history)))
    picked = s[ids]
    s = s.clone()
    s[ids] = torch.where(picked < 0, picked * p.repetition_penalty, picked / p.repetition_penalty)
    return s


@torch.inference_mode()
def _naive_greedy(model, text, cond, p: TurboDecodeParams) -> list[int]:
    """No cache, batch 1: one full forward per step over [prefill | fed-back tokens]."""
    x, _ = build_prefill(model, [text], cond)
    history, out = [model.cfg.start_speech], []
    for _ in range(p.max_new_tokens):
        h = model.tfmr(x, torch.arange(x.shape[1])[None])
        s = _official_chain(model.logits(h[0, -1]), history, p)
        tok = int(torch.softmax(s, -1).argmax())
        out.append(tok)
        history = out[:]  # after the first step the history is the generated tokens only
        if tok == model.cfg.stop_speech:
            break
        x = torch.cat([x, model.speech_emb(torch.tensor([[tok]]))], dim=1)
    return out


@pytest.mark.parametrize("params", [
    TurboDecodeParams(max_new_tokens=16, greedy=True),
    TurboDecodeParams(max_new_tokens=16, greedy=True, top_k=7, top_p=0.6, repetition_penalty=3.0, temperature=0.7),
])
@pytest.mark.parametrize("share", [False, True], ids=["prefix-per-row", "prefix-shared"])
def test_cached_batched_greedy_equals_naive_loop(tiny_t3, tiny_cond, params, share):
    texts = _texts(3)
    raw = generate_raw(tiny_t3, texts, tiny_cond, params, [0, 0, 0], share_prefix=share)
    for i, t in enumerate(texts):
        assert raw.row(i).tolist() == _naive_greedy(tiny_t3, t, tiny_cond, params)


def test_sampling_is_seeded_and_batch_invariant(tiny_t3, tiny_cond):
    texts = _texts(4, seed=1)
    p = TurboDecodeParams(max_new_tokens=20, stop_at_eos=False)
    batched = generate_raw(tiny_t3, texts, tiny_cond, p, [5, 6, 7, 8])
    again = generate_raw(tiny_t3, texts, tiny_cond, p, [5, 6, 7, 8])
    assert torch.equal(batched.tokens, again.tokens)
    for i, t in enumerate(texts):
        alone = generate_raw(tiny_t3, [t], tiny_cond, p, [5 + i])
        assert torch.equal(alone.row(0), batched.row(i))
    other = generate_raw(tiny_t3, texts[:1], tiny_cond, p, [99])
    assert not torch.equal(other.row(0), batched.row(0))


def test_static_whole_cache_step_equals_eager(tiny_t3, tiny_cond):
    texts = _texts(3, seed=2)
    p = TurboDecodeParams(max_new_tokens=16, stop_at_eos=False)
    eager = generate_raw(tiny_t3, texts, tiny_cond, p, [1, 2, 3])
    static = generate_raw(tiny_t3, texts, tiny_cond, p, [1, 2, 3], static_step=True)
    assert torch.equal(eager.tokens, static.tokens)


@pytest.mark.parametrize("static", [False, True])
def test_shared_prefix_samples_what_per_row_prefixes_sample(tiny_t3, tiny_cond, static):
    """The voice prefix stored once (the default from SHARE_PREFIX_MIN rows) changes no sampled token."""
    texts = _texts(9, seed=3)
    p = TurboDecodeParams(max_new_tokens=24, stop_at_eos=False)
    seeds = list(range(10, 19))
    per_row = generate_raw(tiny_t3, texts, tiny_cond, p, seeds, share_prefix=False)
    shared = generate_raw(tiny_t3, texts, tiny_cond, p, seeds, share_prefix=True, static_step=static)
    default = generate_raw(tiny_t3, texts, tiny_cond, p, seeds)  # 9 rows: shared
    assert torch.equal(per_row.tokens, shared.tokens)
    assert torch.equal(default.tokens, shared.tokens)


@pytest.mark.parametrize("share", [False, True])
def test_rows_end_at_their_own_cap_with_the_tokens_of_an_uncapped_run(tiny_t3, tiny_cond, share):
    """A row past its cap freezes (its position stops moving); the others' tokens are untouched by that."""
    texts = _texts(3, seed=5)
    p = TurboDecodeParams(max_new_tokens=30, stop_at_eos=False)
    full = generate_raw(tiny_t3, texts, tiny_cond, p, [4, 5, 6], share_prefix=share)
    capped = generate_raw(tiny_t3, texts, tiny_cond, p, [4, 5, 6], caps=[7, 30, 18], share_prefix=share)
    assert capped.lengths.tolist() == [7, 30, 18]
    for i in range(3):
        assert torch.equal(capped.row(i), full.row(i)[: int(capped.lengths[i])])
    with pytest.raises(ModelError, match="caps"):
        generate_raw(tiny_t3, texts, tiny_cond, p, [4, 5, 6], caps=[7, 31, 18])


@pytest.mark.parametrize("slots,share", [(1, False), (2, True), (3, False), (8, None)])
def test_refilled_slots_equal_each_text_alone(tiny_t3, tiny_cond, slots, share):
    """Fewer slots than texts: a finished text's slot takes the next; every text gets its one-by-one tokens."""
    texts = _texts(11, seed=6)
    caps = [5, 21, 9, 30, 3, 17, 12, 26, 8, 14, 2]
    seeds = list(range(30, 41))
    p = TurboDecodeParams(max_new_tokens=30, stop_at_eos=False, stop_check_every=4)
    batched = generate_raw(tiny_t3, texts, tiny_cond, p, seeds, caps=caps, slots=slots, share_prefix=share)
    assert batched.lengths.tolist() == caps
    for i, t in enumerate(texts):
        alone = generate_raw(tiny_t3, [t], tiny_cond, p, [seeds[i]], caps=[caps[i]])
        assert torch.equal(batched.row(i), alone.row(0)), i


def test_slots_refill_after_stop_tokens(tiny_t3, tiny_cond):
    model, stop = tiny_t3, tiny_t3.cfg.stop_speech
    texts = _texts(5, seed=8)
    p = TurboDecodeParams(max_new_tokens=25, greedy=True, stop_check_every=3)
    first = generate_raw(model, texts[:1], tiny_cond, p, [0]).row(0)[0]
    weight = model.speech_head.weight.clone()
    try:
        with torch.no_grad():  # the stop token now out-scores text 0's first token
            model.speech_head.weight[stop] = 1.05 * model.speech_head.weight[first]
        batched = generate_raw(model, texts, tiny_cond, p, [0] * 5, slots=2)
        alone = [generate_raw(model, [t], tiny_cond, p, [0]).row(0) for t in texts]
    finally:
        model.speech_head.weight.data.copy_(weight)
    assert batched.row(0).tolist() == [stop]
    for i in range(5):
        assert torch.equal(batched.row(i), alone[i]), i


def test_padded_prefill_equals_each_text_alone(tiny_t3, tiny_cond):
    texts = _texts(3, seed=4)
    both = prefill_logits(tiny_t3, texts, tiny_cond)
    for i, t in enumerate(texts):
        torch.testing.assert_close(both[i], prefill_logits(tiny_t3, [t], tiny_cond)[0], rtol=0, atol=1e-4)


def test_rows_stop_at_their_own_stop_token(tiny_t3, tiny_cond):
    model = tiny_t3
    stop = model.cfg.stop_speech
    bias = model.speech_head.bias.clone()
    try:
        model.speech_head.bias.data[stop] += 1e4  # every row's first token is the stop token
        raw = generate_raw(model, _texts(2), tiny_cond, TurboDecodeParams(max_new_tokens=40, stop_check_every=4),
                           [0, 1])
    finally:
        model.speech_head.bias.data.copy_(bias)
    assert raw.lengths.tolist() == [1, 1]
    assert generate(model, _texts(1), tiny_cond, TurboDecodeParams(max_new_tokens=3, greedy=True))[0].numel() >= 3


def test_clean_tokens_cuts_at_stop_filters_and_appends_silence(tiny_t3):
    raw = torch.tensor([5, 6561, 7, 6560, 6562, 9, 9])
    assert clean_tokens(raw, tiny_t3.cfg).tolist() == [5, 7, 6560, 4299, 4299, 4299]
    assert clean_tokens(torch.tensor([6562]), tiny_t3.cfg).tolist() == [4299, 4299, 4299]


def test_top_k_keeps_ties():
    s = torch.tensor([[1.0, 3.0, 2.0, 2.0, 0.5]])
    assert torch.isinf(top_k_filter(s, 2)).tolist() == [[True, False, False, False, True]]
    assert not torch.isinf(top_k_filter(s, 99)).any()


def test_bad_inputs_are_one_line_errors(tiny_t3, tiny_cond):
    with pytest.raises(ModelError, match="slots"):
        generate_raw(tiny_t3, _texts(2), tiny_cond, TurboDecodeParams(max_new_tokens=4), [0, 0], slots=0)
    p = TurboDecodeParams(max_new_tokens=4)
    with pytest.raises(ModelError, match="no texts"):
        generate_raw(tiny_t3, [], tiny_cond, p, [])
    with pytest.raises(ModelError, match="seeds"):
        generate_raw(tiny_t3, _texts(2), tiny_cond, p, [0])
    with pytest.raises(ModelError, match="out of range"):
        generate_raw(tiny_t3, [torch.tensor([5, 4000])], tiny_cond, p, [0])
    with pytest.raises(ModelError, match="position table"):
        generate_raw(tiny_t3, _texts(1), tiny_cond, TurboDecodeParams(max_new_tokens=5000), [0])
    with pytest.raises(ModelError, match="top_k"):
        generate_raw(tiny_t3, _texts(1), tiny_cond, TurboDecodeParams(top_k=-1), [0])
