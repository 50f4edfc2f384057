"""Checkpoint resolution: local folders by variant, stable content ids, one-line errors offline."""

import time

import pytest

from model.checkpoint import DEFAULT_REVISION, pinned_revision, resolve_checkpoint
from model.errors import CheckpointError
from model.testing.t3_checkpoint import write_t3_files
from model.turbo.checkpoint import TURBO_REVISION


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


def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)


def test_repo_id_offline_fails_at_once_with_what_to_do(tmp_path, monkeypatch):
    _offline(monkeypatch, tmp_path)
    started = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        resolve_checkpoint("ResembleAI/chatterbox", cache_dir=tmp_path / "empty-cache")
    assert time.monotonic() - started < 3
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"ResembleAI/chatterbox@{DEFAULT_REVISION}: not in the local cache and the Hugging Face "
                          "Hub cannot be reached (offline?)")
    assert "--model DIR (TOMECAST_MODEL=DIR)" in msg and "scripts/make_random_checkpoint.py DIR" in msg


def test_an_unofficial_repo_id_gets_no_pinned_revision(tmp_path, monkeypatch):
    """The official commit is pinned for the official repo only: a typo is reported as typed."""
    _offline(monkeypatch, tmp_path)
    with pytest.raises(CheckpointError) as e:
        resolve_checkpoint("ResembleAI/chaterbox", cache_dir=tmp_path / "empty-cache")
    msg = str(e.value)
    assert msg.startswith("ResembleAI/chaterbox: not in the local cache") and DEFAULT_REVISION not in msg
    assert pinned_revision("ResembleAI/chatterbox") == DEFAULT_REVISION
    assert pinned_revision("ResembleAI/chatterbox-turbo") == TURBO_REVISION
    assert pinned_revision("someone/chatterbox-finetune") is None


def test_a_cached_repo_resolves_offline(tmp_path, monkeypatch):
    """A snapshot already in the cache is used without the Hub (the cache is tried first)."""
    _offline(monkeypatch, tmp_path)
    cache = tmp_path / "cache"
    repo = cache / "models--someone--tiny"
    snap = repo / "snapshots" / ("0" * 40)
    write_t3_files(snap, "tiny", seed=0)
    for name in ("ve.safetensors", "s3gen.safetensors", "conds.pt"):   # resolving only checks they are there
        (snap / name).write_bytes(b"")
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    ck = resolve_checkpoint("someone/tiny", cache_dir=cache)
    assert ck.path == snap and ck.model_id == f"someone/tiny@{'0' * 40}"
