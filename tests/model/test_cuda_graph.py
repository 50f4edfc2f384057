"""The one decode step on static buffers (what CUDA graphs replay), run eagerly: same tokens as the eager loop."""

import pytest
import torch

from model import decode
from model.generate import T3Params, generate_raw
from model.kv_cache import KVCache
from model.params import SynthesisParams
from model.t3 import T3
from model.testing.t3_checkpoint import t3_config, t3_state_dict

TEXTS = [torch.arange(5, 25), torch.tensor([40, 41, 42]), torch.arange(100, 160) % 700 + 3]


@pytest.mark.parametrize("params,dec", [
    (SynthesisParams(max_new_tokens=30), T3Params(greedy=True)),
    (SynthesisParams(max_new_tokens=30, cfg_weight=0.0), T3Params(greedy=True)),
    (SynthesisParams(max_new_tokens=30, temperature=0.9, top_p=0.8, repetition_penalty=1.5), T3Params()),
    (SynthesisParams(max_new_tokens=25, cfg_weight=0.0), T3Params(stop_at_eos=False, stop_check_every=1)),
])
def test_static_step_equals_eager_loop(model, cond, params, dec):
    seeds = [3, 4, 5]
    eager = generate_raw(model, TEXTS, cond, params, seeds, dec, fixed_shapes=True)
    static = generate_raw(model, TEXTS, cond, params, seeds, dec, static_step=True)
    assert torch.equal(static.tokens, eager.tokens)
    assert torch.equal(static.lengths, eager.lengths)
    assert torch.equal(generate_raw(model, TEXTS, cond, params, seeds, dec).tokens, eager.tokens)


def test_cuda_graph_flag_is_a_no_op_on_cpu(model, cond):
    p = SynthesisParams(max_new_tokens=20)
    with_flag = generate_raw(model, TEXTS[:2], cond, p, [1, 2], T3Params(cuda_graph=True))
    without = generate_raw(model, TEXTS[:2], cond, p, [1, 2], T3Params(cuda_graph=False))
    assert torch.equal(with_flag.tokens, without.tokens)


def test_rows_stop_early_like_the_eager_loop(cond):
    model = T3(t3_config("tiny")).eval()
    model.load_state_dict(t3_state_dict("tiny", seed=1))
    params, dec = SynthesisParams(max_new_tokens=50), T3Params(greedy=True, stop_check_every=4)
    first = generate_raw(model, TEXTS[:1], cond, params, [0], dec).row(0)[0]
    with torch.no_grad():  # the stop token now out-scores text 0's first token
        model.speech_head.weight[model.cfg.stop_speech] = 1.05 * model.speech_head.weight[first]
    eager = generate_raw(model, TEXTS, cond, params, [0, 0, 0], dec, fixed_shapes=True)
    static = generate_raw(model, TEXTS, cond, params, [0, 0, 0], dec, static_step=True)
    assert static.row(0).tolist() == [model.cfg.stop_speech]
    assert torch.equal(static.tokens, eager.tokens) and torch.equal(static.lengths, eager.lengths)


def test_step_advances_state_in_place(model):
    """One step writes out[text, step], marks the token seen, moves live slots' pos and step, keeps addresses."""
    lc, cfg = model.cfg.llama, model.cfg
    cache = KVCache(lc.n_layers, 2, lc.n_kv_heads, 12, lc.head_dim, device="cpu", dtype=torch.float32)
    st = decode.DecodeState(model, 2, 3, 4, SynthesisParams(max_new_tokens=4, cfg_weight=0.0), cache)
    logits = torch.randn(2, cfg.speech_vocab, generator=torch.Generator().manual_seed(0))
    st.logits.copy_(logits)
    st.pos.copy_(torch.tensor([3, 5]))
    st.text.copy_(torch.tensor([2, 0]))
    st.cap.copy_(torch.tensor([4, 1]))
    st.live.fill_(True)
    ptrs = [t.data_ptr() for t in (st.logits, st.out, st.seen, st.pos, st.step, st.live)]
    with torch.inference_mode():
        decode.step(model, st, greedy=True, stop_at_eos=True)
    assert ptrs == [t.data_ptr() for t in (st.logits, st.out, st.seen, st.pos, st.step, st.live)]
    first = logits.argmax(-1)
    assert st.out[2, 0] == first[0] and st.out[0, 0] == first[1]
    assert bool(st.seen[torch.arange(2), first].all())
    # slot 1 reached its cap of 1: it freezes (no pos or step move), slot 0 moves on
    assert st.live.tolist() == [True, False]
    assert st.pos.tolist() == [4, 5] and st.step.tolist() == [1, 0]
    assert not torch.equal(st.logits, logits)
    with torch.inference_mode():
        decode.step(model, st, greedy=True, stop_at_eos=True)
    assert st.out[0, 1] == cfg.stop_speech  # a frozen slot writes only to the trash row/column
    assert st.step.tolist() == [2, 0]
