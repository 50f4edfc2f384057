"""`tomecast convert --model <Turbo folder>`: a tiny book end to end through the normal engine (``TTS.load``
dispatches a Turbo folder to ``TurboTTS``), paralinguistic tags kept with ``--tags keep``; ``--tags keep`` with
the original model is refused before any work."""

from __future__ import annotations

import json

import pytest

from pipeline.store import Store
from worker.cli.main import main

pytestmark = pytest.mark.usefixtures("keep_torch_threads")

BOOK = """THE JEST

By Ann Writer

CHAPTER I.

Well [laugh] that was fine, he said.

CHAPTER II.

The end came [sigh] at last.
"""
FAST = ["--device", "cpu", "--dtype", "float32", "--no-watermark", "--max-new-tokens", "16", "--flow-steps", "2",
        "--batch-size", "4", "--threads", "1", "--format", "wav", "--quiet"]


@pytest.fixture(scope="module")
def turbo_folder(tmp_path_factory):
    from model.testing.turbo_checkpoint import write_turbo_checkpoint

    return write_turbo_checkpoint(tmp_path_factory.mktemp("turbo_tiny"), "tiny", seed=1)


@pytest.fixture()
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))   # no user lexicon
    path = tmp_path / "jest.txt"
    path.write_text(BOOK)
    return path


def test_convert_with_a_turbo_folder_keeps_the_tags(book, turbo_folder, tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    rc = main(["convert", str(book), "--model", str(turbo_folder), "--data", str(data), "-o", str(out),
               "--tags", "keep", *FAST])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    m4b = out / "The Jest.m4b"
    assert str(m4b) in captured.out and m4b.stat().st_size > 0
    store = Store(data)
    (job,) = store.job_ids()
    assert store.manifest(job).model_id.startswith("turbo-folder:")
    plan = json.loads((store.job_dir(job) / "plan.json").read_text())
    speech = [c["speech"] for ch in plan["chapters"] for c in ch["chunks"]]
    assert any("[laugh]" in s for s in speech) and any("[sigh]" in s for s in speech)


def test_keep_with_the_original_model_is_refused_before_work(book, tmp_path, capsys):
    data = tmp_path / "data"
    rc = main(["convert", str(book), "--model", str(tmp_path / "no-model"), "--data", str(data),
               "-o", str(tmp_path / "out"), "--tags", "keep", *FAST])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "tags=keep needs a Turbo model" in err
    assert not Store(data).job_ids()
