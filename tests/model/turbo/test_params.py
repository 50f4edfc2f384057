"""TurboParams: official Turbo defaults, validation, runaway caps, and the mapping of SynthesisParams."""

import pytest

from model.errors import ModelError
from model.params import SynthesisParams
from model.turbo.params import TurboParams


def test_defaults_are_the_official_turbo_ones():
    p = TurboParams()
    assert (p.temperature, p.top_k, p.top_p, p.repetition_penalty, p.n_flow_steps) == (0.8, 1000, 0.95, 1.2, 2)
    p.validate()


@pytest.mark.parametrize("field,value", [("temperature", 0), ("top_k", -1), ("top_p", 0), ("top_p", 1.5),
                                         ("repetition_penalty", 0), ("max_new_tokens", 0), ("n_flow_steps", 0),
                                         ("tokens_per_char", -1), ("top_k", 2.5), ("temperature", float("nan"))])
def test_bad_values_are_named(field, value):
    with pytest.raises(ModelError, match=field):
        TurboParams(**{field: value}).validate()


def test_original_defaults_map_to_turbo_defaults_and_set_values_win():
    assert TurboParams.from_synthesis(SynthesisParams()) == TurboParams()
    p = TurboParams.from_synthesis(SynthesisParams(top_p=0.7, temperature=0.5, n_flow_steps=3, max_new_tokens=300))
    assert (p.top_p, p.temperature, p.n_flow_steps, p.max_new_tokens, p.top_k) == (0.7, 0.5, 3, 300, 1000)
    same = TurboParams(top_k=20)
    assert TurboParams.from_synthesis(same) is same


def test_token_cap_follows_the_text_length():
    p = TurboParams(max_new_tokens=500)
    assert p.token_cap("Hi.") == 50 + 18
    assert p.token_cap("x" * 1000) == 500
    assert TurboParams(tokens_per_char=0).token_cap("Hi") == 1000
