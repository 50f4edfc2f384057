"""Continuous batching: fewer slots than texts, per-text caps and seeds; every text equals its one-by-one run."""

import pytest
import torch

from model.generate import T3Params, generate_raw
from model.params import SynthesisParams
from model.t3 import T3
from model.testing.t3_checkpoint import t3_config, t3_state_dict

TEXTS = [torch.arange(5, 25), torch.tensor([40, 41, 42]), torch.arange(100, 160) % 700 + 3,
         torch.tensor([7, 8]), torch.arange(30, 41)]
CAPS = [9, 30, 14, 5, 22]
SEEDS = [11, 22, 33, 44, 55]


@pytest.mark.parametrize("cfg_weight", [0.5, 0.0])
@pytest.mark.parametrize("slots", [1, 2, 3])
def test_refilled_slots_equal_one_by_one(model, cond, cfg_weight, slots):
    params = SynthesisParams(max_new_tokens=30, cfg_weight=cfg_weight)
    dec = T3Params(stop_check_every=4)
    batched = generate_raw(model, TEXTS, cond, params, SEEDS, dec, caps=CAPS, slots=slots)
    for i, text in enumerate(TEXTS):
        alone = generate_raw(model, [text], cond, params, [SEEDS[i]], dec, caps=[CAPS[i]])
        assert batched.row(i).tolist() == alone.row(0).tolist()
        assert int(batched.lengths[i]) <= CAPS[i]


def test_caps_cut_each_text_as_a_shorter_run_would(model, cond):
    """A capped text's tokens are the first ``cap`` of an uncapped run with the same seed."""
    params = SynthesisParams(max_new_tokens=30)
    dec = T3Params(stop_at_eos=False)
    full = generate_raw(model, TEXTS[:2], cond, params, SEEDS[:2], dec)
    capped = generate_raw(model, TEXTS[:2], cond, params, SEEDS[:2], dec, caps=[7, 30], slots=1)
    assert capped.lengths.tolist() == [7, 30]
    assert capped.row(0).tolist() == full.row(0)[:7].tolist()
    assert capped.row(1).tolist() == full.row(1).tolist()


def test_slots_refill_after_stop_tokens(cond):
    """Rows that stop early free their slot for the next text; results equal one-by-one."""
    model = T3(t3_config("tiny")).eval()
    model.load_state_dict(t3_state_dict("tiny", seed=1))
    params, dec = SynthesisParams(max_new_tokens=50), T3Params(greedy=True, stop_check_every=3)
    first = generate_raw(model, TEXTS[:1], cond, params, [0], dec).row(0)[0]
    with torch.no_grad():  # the stop token now out-scores text 0's first token
        model.speech_head.weight[model.cfg.stop_speech] = 1.05 * model.speech_head.weight[first]
    batched = generate_raw(model, TEXTS, cond, params, [0] * 5, dec, slots=2)
    assert batched.row(0).tolist() == [model.cfg.stop_speech]
    for i, text in enumerate(TEXTS):
        assert batched.row(i).tolist() == generate_raw(model, [text], cond, params, [0], dec).row(0).tolist()


def test_bad_caps_and_slots_are_errors(model, cond):
    from model.errors import ModelError

    p = SynthesisParams(max_new_tokens=10)
    with pytest.raises(ModelError, match="token cap 11"):
        generate_raw(model, TEXTS[:1], cond, p, [0], caps=[11])
    with pytest.raises(ModelError, match="token caps"):
        generate_raw(model, TEXTS[:2], cond, p, [0, 0], caps=[3])
    with pytest.raises(ModelError, match="slots"):
        generate_raw(model, TEXTS[:1], cond, p, [0], slots=0)
