"""Checkpoint resolution: local folders by variant, stable content ids, one-line errors offline."""

import pytest

from model.checkpoint import DEFAULT_REVISION, resolve_checkpoint
from model.errors import CheckpointError
from model.testing.t3_checkpoint import write_t3_files


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_t3_files(tmp_path_factory.mktemp("ckpt"), "tiny", seed=0)


def test_local_folder_resolves(folder):
    ck = resolve_checkpoint(folder)
    assert ck.variant == "english"
    assert ck.file("t3").name == "t3_cfg.safetensors"
    assert ck.file("tokenizer").name == "tokenizer.json"
    assert ck.model_id.startswith("folder:")
    assert resolve_checkpoint(str(folder)).model_id == ck.model_id


def test_model_id_follows_content(folder, tmp_path):
    other = write_t3_files(tmp_path, "tiny", seed=1)
    assert resolve_checkpoint(other).model_id != resolve_checkpoint(folder).model_id


def test_missing_role_is_named(tmp_path):
    write_t3_files(tmp_path, "tiny", seed=0)
    (tmp_path / "tokenizer.json").unlink()
    ck = resolve_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="missing tokenizer.json"):
        ck.file("tokenizer")
    with pytest.raises(CheckpointError, match="tokenizer.json"):
        ck.require("t3", "tokenizer")


def test_multilingual_folder(tmp_path):
    write_t3_files(tmp_path, "tiny-multilingual", seed=0)
    ck = resolve_checkpoint(tmp_path)
    assert ck.variant == "multilingual"
    assert ck.file("tokenizer").name == "grapheme_mtl_merged_expanded_v1.json"
    with pytest.raises(CheckpointError, match="expected english"):
        resolve_checkpoint(tmp_path, variant="english")


def test_folder_without_t3(tmp_path):
    with pytest.raises(CheckpointError, match="no T3 checkpoint"):
        resolve_checkpoint(tmp_path)


def test_missing_path_is_not_a_repo_id(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        resolve_checkpoint(tmp_path / "absent")
    with pytest.raises(CheckpointError, match="not found"):
        resolve_checkpoint("./relative/absent")


def test_repo_id_offline_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    with pytest.raises(CheckpointError) as e:
        resolve_checkpoint("ResembleAI/chatterbox", cache_dir=tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "ResembleAI/chatterbox" in msg and DEFAULT_REVISION in msg
