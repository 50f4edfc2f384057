"""Batched T3 decoding: static cache equals naive decoding, batched equals one-by-one, rows stop on their own."""

import pytest
import torch

from model.generate import T3Params, build_prefill, clean_tokens, generate, generate_raw, prefill_logits
from model.params import SynthesisParams
from model.t3 import T3, T3Cond
from model.testing.t3_checkpoint import t3_config, t3_state_dict

TEXTS = [torch.arange(5, 25), torch.tensor([40, 41, 42]), torch.arange(100, 160) % 700 + 3]
GREEDY = T3Params(greedy=True)


@torch.inference_mode()
def naive_greedy(model: T3, text: torch.Tensor, cond: T3Cond, params: SynthesisParams) -> list[int]:
    """Reference decoder: whole sequence through the backbone at every step, no cache, one text."""
    cfg = model.cfg
    use_cfg = params.cfg_weight > 0
    x, _ = build_prefill(model, [text], model.encode_cond(cond), use_cfg)
    history, out = [cfg.start_speech], []
    for k in range(params.max_new_tokens):
        h = model.tfmr(x, torch.arange(x.shape[1]).expand(x.shape[0], -1))
        logits = model.logits(h[:, -1])
        s = logits[:1] + params.cfg_weight * (logits[:1] - logits[1:]) if use_cfg else logits
        for t in set(history):
            s[0, t] = s[0, t] * params.repetition_penalty if s[0, t] < 0 else s[0, t] / params.repetition_penalty
        s = s / params.temperature
        p = torch.softmax(s, -1)
        s = s.masked_fill(p < params.min_p * p.max(), float("-inf"))
        tok = int(torch.softmax(s, -1).argmax())
        out.append(tok)
        history.append(tok)
        if tok == cfg.stop_speech:
            break
        e = model.embed_speech(torch.tensor([tok]), torch.tensor([k + 1]))[None].expand(x.shape[0], -1, -1)
        x = torch.cat([x, e], dim=1)
    return out


@pytest.mark.parametrize("cfg_weight", [0.5, 0.0])
def test_static_cache_equals_naive_decoding(model, cond, cfg_weight):
    params = SynthesisParams(max_new_tokens=40, cfg_weight=cfg_weight)
    raw = generate_raw(model, [TEXTS[0]], cond, params, [0], GREEDY)
    assert raw.row(0).tolist() == naive_greedy(model, TEXTS[0], cond, params)


def test_fixed_shapes_equal_growing_attention(model, cond):
    params = SynthesisParams(max_new_tokens=30)
    a = generate_raw(model, TEXTS[:2], cond, params, [0, 0], GREEDY)
    b = generate_raw(model, TEXTS[:2], cond, params, [0, 0], GREEDY, fixed_shapes=True)
    assert torch.equal(a.tokens, b.tokens)


@pytest.mark.parametrize("cfg_weight", [0.5, 0.0])
def test_batched_equals_one_by_one(model, cond, cfg_weight):
    params = SynthesisParams(max_new_tokens=40, cfg_weight=cfg_weight)
    seeds = [11, 22, 33]
    batched = generate_raw(model, TEXTS, cond, params, seeds)
    for i, text in enumerate(TEXTS):
        alone = generate_raw(model, [text], cond, params, [seeds[i]])
        assert batched.row(i).tolist() == alone.row(0).tolist()


def test_ragged_prefill_logits_equal_single(model, cond):
    batched = prefill_logits(model, TEXTS, cond, 0.5)  # (2n, V): conditional rows, then unconditional
    n = len(TEXTS)
    for i, text in enumerate(TEXTS):
        single = prefill_logits(model, [text], cond, 0.5)
        torch.testing.assert_close(batched[[i, n + i]], single, rtol=0, atol=1e-4)


def test_seed_reproduces_and_differs(model, cond):
    params = SynthesisParams(max_new_tokens=40)
    a = generate(model, TEXTS[:1], cond, params, [5])[0]
    b = generate(model, TEXTS[:1], cond, params, [5])[0]
    c = generate(model, TEXTS[:1], cond, params, [6])[0]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.dtype == torch.long and (a < 6561).all()


def test_cfg_changes_the_result(model, cond):
    with_cfg = generate_raw(model, TEXTS[:1], cond, SynthesisParams(max_new_tokens=30, cfg_weight=0.5), [0], GREEDY)
    without = generate_raw(model, TEXTS[:1], cond, SynthesisParams(max_new_tokens=30, cfg_weight=0.0), [0], GREEDY)
    assert with_cfg.row(0).tolist() != without.row(0).tolist()


def test_each_row_stops_at_its_own_stop_token(cond):
    model = T3(t3_config("tiny")).eval()
    model.load_state_dict(t3_state_dict("tiny", seed=1))
    params, dec = SynthesisParams(max_new_tokens=50), T3Params(greedy=True, stop_check_every=4)
    first = generate_raw(model, TEXTS[:1], cond, params, [0], dec).row(0)[0]
    with torch.no_grad():  # the stop token now out-scores text 0's first token
        model.speech_head.weight[model.cfg.stop_speech] = 1.05 * model.speech_head.weight[first]
    raw = generate_raw(model, TEXTS, cond, params, [0, 0, 0], dec)
    assert raw.row(0).tolist() == [model.cfg.stop_speech]
    assert int(raw.lengths.max()) > 1
    for i, text in enumerate(TEXTS):
        assert raw.row(i).tolist() == generate_raw(model, [text], cond, params, [0], dec).row(0).tolist()
        assert generate(model, [text], cond, params, [0], dec)[0].tolist() == \
            clean_tokens(raw.row(i), model.cfg).tolist()


def test_clean_tokens_follows_official_post_processing(model):
    cfg = model.cfg
    raw = torch.tensor([5, cfg.start_speech, 7, 7000, 8, cfg.stop_speech, 9])
    assert clean_tokens(raw, cfg).tolist() == [7, 8]


@pytest.mark.parametrize("bad", [
    dict(temperature=0.0), dict(top_p=0.0), dict(min_p=1.5), dict(cfg_weight=-1.0), dict(max_new_tokens=0),
    dict(max_new_tokens=5000), dict(repetition_penalty=0.0), dict(temperature=float("nan")),
])
def test_bad_parameters_are_one_line_errors(model, cond, bad):
    from model.errors import ParamsError

    with pytest.raises(ParamsError) as e:
        generate(model, TEXTS[:1], cond, SynthesisParams(**bad), [0])
    name = next(iter(bad))
    assert "\n" not in str(e.value) and str(e.value).startswith(name)


def test_bad_inputs_are_errors(model, cond):
    from model.errors import ModelError

    with pytest.raises(ModelError, match="seeds"):
        generate(model, TEXTS, cond, SynthesisParams(max_new_tokens=2), [0])
    with pytest.raises(ModelError, match="out of range"):
        generate(model, [torch.tensor([9999])], cond, SynthesisParams(max_new_tokens=2), [0])
    with pytest.raises(ModelError, match="position table"):
        generate(model, [torch.zeros(3000, dtype=torch.long)], cond, SynthesisParams(max_new_tokens=2), [0])
