"""`tomecast convert` checks where the book goes before any work and closes its job after: -o semantics,
--force and stale chapter files, a bad manuscript making no job, failed and interrupted jobs marked failed, damaged
cached chunks made again, and output into a closed pipe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.states import ChunkState
from pipeline.store import Store
from tests.conftest import environ
from worker.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keep_torch_threads")]

REPO = Path(__file__).resolve().parents[2]

BOOK = """The Small Test Book

by Nobody

CHAPTER I.

The first chapter has two sentences. Here is the second one.

CHAPTER II.

The second chapter is short too. It ends here.
"""


@pytest.fixture
def setup(tmp_path, tiny_checkpoint, tiny_env, tiny_voice):
    book = tmp_path / "small.txt"
    book.write_text(BOOK)
    env = tiny_env(tmp_path / "data", tiny_checkpoint, TOMECAST_VOICE=str(tiny_voice))
    return book, env, Store(tmp_path / "data")


def run(env, *argv: str) -> int:
    with environ(env):
        return main(list(argv))


@pytest.mark.parametrize("target, why", [("book.mp3", "give a folder or a NAME.m4b"),
                                         ("afile/out", "cannot write to the output folder"),
                                         ("afile", "is an existing file")])
def test_a_bad_output_is_refused_before_any_job_or_work(setup, tmp_path, capsys, target, why):
    book, env, store = setup
    (tmp_path / "afile").write_text("x")
    assert run(env, "convert", str(book), "-o", str(tmp_path / target), "--quiet") == 2
    err = capsys.readouterr().err
    assert why in err and len(err.strip().splitlines()) == 1
    assert store.job_ids() == [] and not (tmp_path / "book.mp3").exists()


def test_a_bad_manuscript_names_the_users_file_and_makes_no_job(setup, tmp_path, capsys):
    _, env, store = setup
    bad = tmp_path / "broken.epub"
    bad.write_bytes(b"this is not a zip file")
    assert run(env, "convert", str(bad), "-o", str(tmp_path / "out"), "--quiet") == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "/jobs/" not in err
    assert store.job_ids() == []


def test_a_second_convert_needs_force_and_then_replaces_every_chapter_file(setup, tmp_path, capsys):
    book, env, store = setup
    out = tmp_path / "out"
    assert run(env, "convert", str(book), "-o", str(out), "--quiet") == 0
    (m4b,) = out.glob("*.m4b")
    assert sorted(p.suffix for p in (out / m4b.stem).iterdir()) == [".mp3", ".mp3"]
    capsys.readouterr()
    assert run(env, "convert", str(book), "-o", str(out), "--quiet", "--format", "flac") == 2
    assert "pass --force" in capsys.readouterr().err
    assert run(env, "convert", str(book), "-o", str(out), "--quiet", "--format", "flac", "--force") == 0
    assert "replacing" in capsys.readouterr().err
    assert sorted(p.suffix for p in (out / m4b.stem).iterdir()) == [".flac", ".flac"]   # no stale mp3
    assert run(env, "convert", str(book), "-o", str(tmp_path / "named.m4b"), "--quiet") == 0
    assert (tmp_path / "named.m4b").is_file() and len(list((tmp_path / "named").iterdir())) == 2


def test_damaged_cached_chunks_are_made_again_and_the_chapters_keep_their_length(setup, tmp_path, caplog):
    book, env, store = setup
    assert run(env, "convert", str(book), "-o", str(tmp_path / "a"), "--quiet") == 0
    (first,) = store.job_ids()
    chunks = store.manifest(first).chunks
    truncated, emptied = store.chunk_path(chunks[1].cache), store.chunk_path(chunks[-1].cache)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 3])
    emptied.write_bytes(b"")
    assert run(env, "convert", str(book), "-o", str(tmp_path / "b"), "--quiet") == 0
    (second,) = set(store.job_ids()) - {first}
    remade = [c.id for c in store.manifest(second).chunks if c.synthesized]
    assert remade == [chunks[1].id, chunks[-1].id]
    assert str(truncated) in caplog.text and str(emptied) in caplog.text
    durations = [ch.duration for ch in store.manifest(first).chapters]
    assert [ch.duration for ch in store.manifest(second).chapters] == pytest.approx(durations, abs=1e-3)


def test_an_interrupted_convert_leaves_its_job_failed_not_running(setup, tmp_path):
    book, env, store = setup
    env = {**env, "TOMECAST_CHUNKS_PER_TASK": "1", "TOMECAST_BATCH_SIZE": "1"}
    # a user's Ctrl-C: SIGINT as a terminal delivers it, even when this test runs where SIGINT is ignored (a
    # background job or nohup: the child would inherit SIG_IGN and finish the book)
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "convert", str(book), "-o", str(tmp_path / "o"),
                             "--quiet"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ids = store.job_ids()
        if ids and store.has_manifest(ids[0]) and store.manifest(ids[0]).count(ChunkState.DONE):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    (job_id,) = store.job_ids()
    record = store.state(job_id)
    assert record.state == "failed" and "interrupted" in record.error
    read, write = os.pipe()
    os.close(read)   # the reader is gone before anything is written (`tomecast status JOB | head -0`)
    r = subprocess.run([sys.executable, "-m", "worker.cli", "status", job_id], cwd=REPO, env=env, stdout=write,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert (r.returncode, r.stderr) == (0, "")   # a closed pipe ends quietly
