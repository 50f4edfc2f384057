"""T3 loading: random checkpoints round-trip through the public loader; bad files fail in one line."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from model.config import T3Config
from model.errors import CheckpointError, KeyMismatchError
from model.t3 import T3Cond, load_t3
from model.testing.t3_checkpoint import t3_shapes, t3_state_dict, write_t3_files

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "chatterbox-state-dict-keys.txt"


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    return write_t3_files(tmp_path_factory.mktemp("t3tiny"), "tiny", seed=2)


def _official_keys(section: str) -> dict[str, tuple[int, ...]]:
    if not REFERENCE.is_file():
        pytest.skip(f"reference key listing absent: {REFERENCE}")
    keys, on = {}, False
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("#####"):
            on = line.startswith(f"##### {section}")
            continue
        if on and "\t" in line:
            name, shape, _ = line.split("\t")
            keys[name] = tuple(int(x) for x in shape.strip("()").split(",") if x.strip())
    return keys


@pytest.mark.parametrize("preset,section", [("english", "T3 English"), ("multilingual", "T3 multilingual")])
def test_our_keys_and_shapes_equal_the_official_listing(preset, section):
    assert t3_shapes(T3Config.from_name(preset)) == _official_keys(section)


def test_config_is_inferred_from_shapes():
    for name in ("english", "multilingual", "tiny", "tiny-multilingual"):
        cfg = T3Config.from_name(name)
        assert T3Config.from_shapes(t3_shapes(cfg)) == cfg


def test_tiny_checkpoint_round_trips(tiny_folder):
    model = load_t3(tiny_folder / "t3_cfg.safetensors", expect="english")
    assert model.cfg == T3Config.from_name("tiny")
    ref = t3_state_dict("tiny", seed=2)
    for k, v in model.state_dict().items():
        assert torch.equal(v, ref[k]), k
    cond = T3Cond(torch.randn(1, 256), torch.randint(0, 6561, (1, 150)), 0.7)
    assert model.encode_cond(cond).shape == (1, 34, model.cfg.dim)
    assert model.encode_cond(T3Cond(torch.randn(1, 256), None, 0.7)).shape == (1, 2, model.cfg.dim)


def test_bf16_load(tiny_folder):
    model = load_t3(tiny_folder / "t3_cfg.safetensors", dtype=torch.bfloat16)
    assert model.speech_head.weight.dtype == torch.bfloat16
    assert model.tfmr.rope.inv_freq.dtype == torch.float32


def test_multilingual_variant_loads_through_the_same_code(tmp_path):
    write_t3_files(tmp_path, "tiny-multilingual", seed=0)
    model = load_t3(tmp_path / "t3_mtl23ls_v2.safetensors")
    assert model.cfg.is_multilingual and model.cfg.text_vocab == 2454
    with pytest.raises(CheckpointError, match="multilingual T3 checkpoint"):
        load_t3(tmp_path / "t3_mtl23ls_v2.safetensors", expect="english")


def test_truncated_file_is_one_line_error(tiny_folder, tmp_path):
    data = (tiny_folder / "t3_cfg.safetensors").read_bytes()
    bad = tmp_path / "t3_cfg.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated") as e:
        load_t3(bad)
    assert "\n" not in str(e.value)


def test_garbage_file_is_one_line_error(tmp_path):
    bad = tmp_path / "t3_cfg.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!" + b"\x00" * 64)
    with pytest.raises(CheckpointError) as e:
        load_t3(bad)
    assert "\n" not in str(e.value)


def test_missing_and_unexpected_keys_are_named(tiny_folder, tmp_path):
    sd = load_file(str(tiny_folder / "t3_cfg.safetensors"))
    sd.pop("cond_enc.emotion_adv_fc.weight")
    save_file(sd, str(tmp_path / "a.safetensors"))
    with pytest.raises(KeyMismatchError, match="cond_enc.emotion_adv_fc.weight"):
        load_t3(tmp_path / "a.safetensors")
    sd = load_file(str(tiny_folder / "t3_cfg.safetensors"))
    sd["tfmr.extra.weight"] = torch.zeros(1)
    save_file(sd, str(tmp_path / "b.safetensors"))
    with pytest.raises(KeyMismatchError, match="tfmr.extra.weight"):
        load_t3(tmp_path / "b.safetensors")


def test_turbo_and_non_t3_files_are_refused(tmp_path):
    save_file({"tfmr.h.0.ln_1.weight": torch.ones(4)}, str(tmp_path / "turbo.safetensors"))
    with pytest.raises(CheckpointError, match="GPT-2"):
        load_t3(tmp_path / "turbo.safetensors")
    save_file({"lstm.weight_ih_l0": torch.ones(4)}, str(tmp_path / "ve.safetensors"))
    with pytest.raises(CheckpointError, match="not a T3 checkpoint"):
        load_t3(tmp_path / "ve.safetensors")


def test_missing_file():
    with pytest.raises(CheckpointError, match="not found"):
        load_t3("/nonexistent/t3_cfg.safetensors")
