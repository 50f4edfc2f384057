"""SynthesisParams: torch-free, one validate() with the model's limits, one-line ParamsError naming the value."""

import math
import subprocess
import sys

import pytest

from model.errors import ModelError, ParamsError
from model.params import MAX_FLOW_STEPS, MAX_NEW_TOKENS, SynthesisParams


def test_defaults_are_valid():
    SynthesisParams().validate()
    assert MAX_NEW_TOKENS == 4099


@pytest.mark.parametrize("name,bad", [
    ("temperature", 0.0), ("temperature", -1.0), ("temperature", float("nan")), ("temperature", float("inf")),
    ("top_p", 0.0), ("top_p", 1.01), ("min_p", -0.1), ("min_p", 1.5), ("repetition_penalty", 0.0),
    ("cfg_weight", -0.1), ("exaggeration", 2.5), ("exaggeration", -0.1), ("max_new_tokens", 0),
    ("max_new_tokens", MAX_NEW_TOKENS + 1), ("max_new_tokens", 100.5), ("max_new_tokens", True),
    ("n_flow_steps", 0), ("n_flow_steps", MAX_FLOW_STEPS + 1), ("flow_cfg_rate", -1.0),
    ("tokens_per_char", -1.0), ("tokens_per_char", float("nan")), ("cfg_weight", "0.5"),
])
def test_out_of_range_values_name_the_parameter(name, bad):
    with pytest.raises(ParamsError) as e:
        SynthesisParams(**{name: bad}).validate()
    msg = str(e.value)
    assert isinstance(e.value, ModelError) and "\n" not in msg
    assert msg.startswith(name) and repr(bad) in msg


@pytest.mark.parametrize("name,edge", [
    ("top_p", 1.0), ("min_p", 0.0), ("min_p", 1.0), ("repetition_penalty", 0.5), ("cfg_weight", 0.0),
    ("exaggeration", 0.0), ("exaggeration", 2.0), ("max_new_tokens", 1), ("max_new_tokens", MAX_NEW_TOKENS),
    ("n_flow_steps", 1), ("n_flow_steps", MAX_FLOW_STEPS), ("tokens_per_char", 0.0),
])
def test_limits_the_model_accepts(name, edge):
    SynthesisParams(**{name: edge}).validate()


def test_from_dict_round_trips_and_refuses_unknown_keys():
    p = SynthesisParams(temperature=0.7, max_new_tokens=321)
    assert SynthesisParams.from_dict(p.to_dict()) == p
    assert SynthesisParams.from_dict({"max_new_tokens": 500.0}).max_new_tokens == 500  # JSON numbers
    assert SynthesisParams.from_dict({}) == SynthesisParams()
    with pytest.raises(ParamsError, match="unknown synthesis parameter 'temprature'"):
        SynthesisParams.from_dict({"temprature": 0.5})
    with pytest.raises(ParamsError, match="n_flow_steps"):
        SynthesisParams.from_dict({"n_flow_steps": 200})


def test_token_cap():
    assert SynthesisParams().token_cap("0123456789") == math.ceil(50 + 6 * 10)


def test_validation_never_imports_torch():
    code = ("import sys; from model.params import SynthesisParams as P; P().validate(); "
            "P.from_dict({'top_p': 0.9}); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

