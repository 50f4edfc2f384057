"""Turbo T3 loading: sizes from shapes, strict keys (unused tables checked, not kept), wrong variants refused."""

import pytest
import torch
from safetensors.torch import save_file

from model.errors import CheckpointError, KeyMismatchError
from model.testing.t3_checkpoint import t3_state_dict
from model.testing.turbo_checkpoint import turbo_config, turbo_t3_state_dict
from model.turbo.config import TurboConfig
from model.turbo.t3 import UNUSED_KEYS, load_turbo_t3


def test_released_shapes_give_the_turbo_preset():
    from model.testing.turbo_checkpoint import turbo_t3_shapes

    shapes = turbo_t3_shapes(turbo_config("full"))
    assert len(shapes) == 299
    assert sum(torch.Size(s).numel() for s in shapes.values()) == 478_862_755  # the official element count
    assert TurboConfig.from_shapes(shapes) == TurboConfig.from_name("turbo")


def test_loads_strictly_without_the_unused_tables(tiny_folder, tiny_t3):
    sd = tiny_t3.state_dict()
    assert not any(k in sd for k in UNUSED_KEYS)
    ref = turbo_t3_state_dict("tiny", seed=1)
    for k, v in sd.items():
        assert torch.equal(v, ref[k]), k
    assert tiny_t3.cfg == turbo_config("tiny")


def _write(tmp_path, sd):
    path = tmp_path / "t3_turbo_v1.safetensors"
    save_file(sd, str(path))
    return path


@pytest.mark.parametrize("drop", ["tfmr.wte.weight", "text_head.weight", "speech_head.bias", "tfmr.h.1.ln_2.bias"])
def test_a_missing_key_is_named(tmp_path, drop):
    sd = turbo_t3_state_dict("tiny")
    del sd[drop]
    with pytest.raises(KeyMismatchError, match="missing key"):
        load_turbo_t3(_write(tmp_path, sd))


def test_unexpected_key_and_wrong_shape_are_named(tmp_path):
    sd = turbo_t3_state_dict("tiny")
    sd["tfmr.h.0.attn.bias"] = torch.zeros(3)
    with pytest.raises(KeyMismatchError, match="unexpected key 'tfmr.h.0.attn.bias'"):
        load_turbo_t3(_write(tmp_path, sd))
    sd = turbo_t3_state_dict("tiny")
    sd["text_head.weight"] = torch.zeros(5, 128)
    with pytest.raises(KeyMismatchError, match="text_head.weight"):
        load_turbo_t3(_write(tmp_path, sd))


def test_a_llama_t3_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="Llama T3 checkpoint, not a Turbo"):
        load_turbo_t3(_write(tmp_path, t3_state_dict("tiny")))
    with pytest.raises(CheckpointError, match="not found"):
        load_turbo_t3(tmp_path / "absent.safetensors")


def test_encode_cond_is_speaker_then_raw_prompt(tiny_t3):
    spk = torch.randn(1, 256)
    prompt = torch.randint(0, 6561, (1, 7))
    c = tiny_t3.encode_cond(spk, prompt)
    assert c.shape == (1, 8, tiny_t3.cfg.dim)
    torch.testing.assert_close(c[0, 1:], tiny_t3.speech_emb(prompt[0]))
    torch.testing.assert_close(c[0, 0], tiny_t3.cond_enc.spkr_enc(spk)[0])
    assert tiny_t3.encode_cond(spk, None).shape == (1, 1, tiny_t3.cfg.dim)
    with pytest.raises(ValueError, match="at most 375"):
        tiny_t3.encode_cond(spk, torch.zeros(1, 376, dtype=torch.long))
