"""Job life cycle without a model: submit (no torch, real Redis), priorities, cancel, retry of failed chunks."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from model.errors import ParamsError
from model.params import SynthesisParams
from pipeline.errors import ClipError, JobStateError, PipelineError
from pipeline.jobs import cancel_job, job_status, retry_job, submit_job
from pipeline.manifest import Manifest
from pipeline.spec import JobOptions
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.store import Store
from text_prep.types import Book, Chapter, Chunk, Pause
from worker.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _book(chunks_per_chapter=(3, 2)) -> Book:
    chapters = []
    for ci, n in enumerate(chunks_per_chapter):
        chunks = tuple(Chunk.make(i, f"Sentence {ci}.{i}.", f"Sentence {ci}.{i}.", (0, 0), Pause.SENTENCE)
                       for i in range(n))
        chapters.append(Chapter(ci, f"Chapter {ci + 1}", chunks, f"c{ci}.xhtml"))
    return Book("A Book", "An Author", "en", tuple(chapters))


@pytest.fixture
def book_file(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text("CHAPTER I.\n\nHello there.\n")
    return path


def test_submit_writes_a_self_contained_job_folder(data_dir, book_file, voice_clip):
    store = Store(data_dir)
    settings = Settings.from_env({}).override(seed=3, temperature=0.7, chunks_per_task=5)
    options = settings.job_options(priority=8, prepare={"max_chars": 200})
    job_id = submit_job(store, book_file, options, voice=voice_clip)
    folder = store.job_dir(job_id)
    spec = store.spec(job_id)
    assert (folder / "input" / "book.txt").read_bytes() == book_file.read_bytes()
    assert (folder / "input" / spec.voice_file).read_bytes() == voice_clip.read_bytes()
    assert spec.priority == 8 and spec.seed == 3 and spec.sampling.temperature == 0.7
    assert spec.chunks_per_task == 5 and spec.prepare == {"max_chars": 200}
    assert store.state(job_id).state == "queued"
    assert job_status(store, job_id[-6:]).state == "queued"
    on_disk = json.loads((folder / "job.json").read_text())
    assert on_disk["sampling"]["temperature"] == 0.7 and on_disk["priority"] == 8  # the same flat file as ever


def test_submit_rejects_bad_input_with_one_line(data_dir, book_file, tmp_path):
    store = Store(data_dir)
    options = JobOptions()
    with pytest.raises(PipelineError, match="book file '.*missing.txt' does not exist"):
        submit_job(store, tmp_path / "missing.txt", options)
    with pytest.raises(ClipError, match="voice clip '.*nope.wav' does not exist"):
        submit_job(store, book_file, options, voice=tmp_path / "nope.wav")
    noise = tmp_path / "noise.wav"
    noise.write_bytes(b"RIFF not really")
    with pytest.raises(ClipError, match="noise.wav"):
        submit_job(store, book_file, options, voice=noise)
    with pytest.raises(PipelineError, match="priority 12 is not in 0..9"):
        submit_job(store, book_file, dataclasses.replace(options, priority=12))
    with pytest.raises(ParamsError, match="max_new_tokens") as err:
        submit_job(store, book_file, dataclasses.replace(options, sampling=SynthesisParams(max_new_tokens=5000)))
    assert "\n" not in str(err.value)
    assert store.job_ids() == []
    assert not store.jobs_dir.exists() or not any(store.jobs_dir.iterdir())   # no job folder was made


def _prepared_job(store, book_file, states):
    """A submitted job with a manifest as if prepare had run and synthesis left chunks in ``states``."""
    job_id = submit_job(store, book_file, JobOptions(chunks_per_task=2))
    manifest = Manifest.build(job_id, _book(), model_id="m", voice_key="v", sample_rate=24000, sampling={},
                              seed=0, cache_exists=lambda key: False)
    manifest = manifest.with_chunks({c.id: {"state": s, "error": "RuntimeError: boom" if s == "failed" else None}
                                     for c, s in zip(manifest.chunks, states, strict=True)})
    for ch in manifest.chapters:
        ch_states = [c.state for c in manifest.chapter_chunks(ch.index)]
        manifest = manifest.with_chapter(ch.index, state=ChapterState.FAILED if ChunkState.FAILED in ch_states
                                         else ChapterState.DONE if set(ch_states) == {ChunkState.DONE}
                                         else ChapterState.PENDING)
    store.write_manifest(manifest)
    store.update_state(job_id, state=JobState.FAILED, error="1 of 2 chapters not done")
    return job_id


def test_retry_requeues_only_failed_chunks(data_dir, book_file):
    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["done", "failed", "failed", "done", "done"])
    status = job_status(store, job_id)
    assert (status.chunks_done, status.chunks_failed, status.chapters_done) == (3, 2, 1)
    assert any("chunk 0.1: RuntimeError: boom" in e for e in status.errors)
    _, work = retry_job(store, job_id)
    assert list(work) == [0] and [u.positions for u in work[0]] == [(1, 2)]
    assert store.state(job_id).state == "synthesizing"
    with pytest.raises(JobStateError, match="only failed, cancelled or stalled jobs can be retried"):
        retry_job(store, job_id)


def test_cancel_then_retry_resumes_what_is_left(data_dir, book_file):
    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["done", "done", "done", "pending", "pending"])
    store.update_state(job_id, state="synthesizing", force=True)
    cancel_job(store, job_id)
    assert store.state(job_id).state == "cancelled"
    with pytest.raises(JobStateError, match="already cancelled"):
        cancel_job(store, job_id)
    _, work = retry_job(store, job_id)
    assert [u.positions for u in work[1]] == [(0, 1)]


def test_cli_submit_queues_by_priority_without_torch(redis_url, data_dir, book_file):
    """`tomecast submit` in a process where importing torch fails: job ids printed, tasks on the broker."""
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")
        sys.meta_path.insert(0, Block())
        from worker.cli.main import main
        rc = main(["submit", {str(book_file)!r}, {str(book_file)!r}, "--priority", "8",
                   "--data", {str(data_dir)!r}, "--broker", {redis_url!r}])
        rc = rc or main(["submit", {str(book_file)!r}, "--priority", "1", "--data", {str(data_dir)!r},
                         "--broker", {redis_url!r}])
        assert "torch" not in sys.modules
        sys.exit(rc)
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert len(ids) == 3 and sorted(ids) == Store(data_dir).job_ids()
    import redis

    client = redis.Redis.from_url(redis_url)
    # Redis-backed Celery serves list "cpu:1" (priority 8) before "cpu:8" (priority 1)
    urgent = [json.loads(m)["headers"]["argsrepr"] for m in client.lrange("cpu:1", 0, -1)]
    later = [json.loads(m)["headers"]["argsrepr"] for m in client.lrange("cpu:8", 0, -1)]
    assert sorted(urgent) == sorted(repr((i,)) for i in ids[:2]) and later == [repr((ids[2],))]
    client.delete("cpu:1", "cpu:8")


def test_cli_submit_refuses_a_bad_parameter_before_queueing(redis_url, data_dir, book_file, capsys):
    """A sampling value the model cannot take: one line, exit 2, no job folder, nothing on the broker."""
    import redis

    from worker.cli.main import main

    client = redis.Redis.from_url(redis_url)
    before = set(client.keys())
    rc = main(["submit", str(book_file), "--max-new-tokens", "5000", "--data", str(data_dir), "--broker", redis_url])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("tomecast: error: ") and "max_new_tokens=5000" in err, err
    assert len(err.strip().splitlines()) == 1
    assert Store(data_dir).job_ids() == [] and set(client.keys()) == before
    rc = main(["submit", str(book_file), "--flow-steps", "200", "--data", str(data_dir), "--broker", redis_url])
    assert rc == 2 and "n_flow_steps=200" in capsys.readouterr().err
    assert Store(data_dir).job_ids() == []


def test_cli_submit_refuses_an_unreadable_manuscript_before_the_broker(redis_url, data_dir, tmp_path, capsys):
    """A corrupt EPUB or a binary .txt: one line naming the user's file, exit 2, no job folder, broker untouched."""
    import zipfile

    import redis

    from worker.cli.main import main

    no_container = tmp_path / "no container.epub"
    with zipfile.ZipFile(no_container, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("OEBPS/c1.xhtml", "<html><body><p>Hello.</p></body></html>")
    noise = tmp_path / "noise.epub"
    noise.write_bytes(bytes(range(256)) * 8)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02\xff" * 512)
    client = redis.Redis.from_url(redis_url)
    before = set(client.keys())
    for book, what in ((no_container, "container.xml"), (noise, "not a readable zip"),
                       (binary, "binary file")):
        rc = main(["submit", str(book), "--data", str(data_dir), "--broker", redis_url])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("tomecast: error: ") and what in err and str(book) in err, err
        assert len(err.strip().splitlines()) == 1
    assert Store(data_dir).job_ids() == [] and set(client.keys()) == before


def test_cli_submit_reports_an_unreachable_broker(data_dir, book_file):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    r = subprocess.run([sys.executable, "-m", "worker.cli", "submit", str(book_file), "--data", str(data_dir),
                        "--broker", url], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("tomecast: error: cannot reach the broker at"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_status_and_jobs_commands_show_the_table(data_dir, book_file, capsys):
    from worker.cli.main import main

    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["done", "failed", "done", "done", "done"])
    assert main(["status", "--data", str(data_dir)]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[:4] == ["JOB", "TITLE", "STATE", "PRIO"]
    assert row.startswith(job_id) and " failed " in row and " 1/2 " in row and " 4/5 " in row
    assert main(["status", job_id[-6:], "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Chapter 1" in out and "error: chunk 0.1: RuntimeError: boom" in out
    assert main(["jobs", "--json", "--data", str(data_dir)]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["job_id"] == job_id and listed["chunks_failed"] == 1 and listed["chunks"] == 5
    assert main(["cancel", "nope", "--data", str(data_dir)]) == 2
    assert "no job 'nope'" in capsys.readouterr().err


def test_a_quiet_running_job_shows_stalled_without_an_eta_and_can_be_retried(data_dir, book_file, capsys):
    import os
    import time

    from worker.cli.main import main

    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["done", "done", "pending", "pending", "pending"])
    store.update_state(job_id, state=JobState.SYNTHESIZING, error=None, force=True)
    with pytest.raises(JobStateError, match="synthesizing"):
        retry_job(store, job_id)                       # running and alive: refused
    old = time.time() - 3600
    for name in ("state.json", "manifest.json"):
        os.utime(store.job_dir(job_id) / name, (old, old))
    status = job_status(store, job_id)
    assert status.stalled_since and status.eta_seconds is None
    assert main(["status", job_id, "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "stalled since" in out and f"tomecast retry {job_id}" in out
    _, work = retry_job(store, job_id)               # stalled: retried, its pending chunks queued again
    assert [u.positions for u in work[1]] == [(0, 1)] and [u.positions for u in work[0]] == [(2,)]
    assert job_status(store, job_id).stalled_since is None


def test_rm_removes_finished_jobs_and_refuses_running_ones(data_dir, book_file, capsys):
    from worker.cli.main import main

    store = Store(data_dir)
    failed = _prepared_job(store, book_file, ["done", "failed", "done", "done", "done"])
    running = _prepared_job(store, book_file, ["done", "pending", "done", "done", "done"])
    store.update_state(running, state=JobState.SYNTHESIZING, force=True)
    assert main(["rm", failed, "--data", str(data_dir)]) == 0
    assert main(["rm", running, "--data", str(data_dir)]) == 2
    assert "cancel it first" in capsys.readouterr().err
    assert store.job_ids() == [running]
    assert main(["rm", running, "--force", "--data", str(data_dir)]) == 0 and store.job_ids() == []


def test_prune_keeps_what_unfinished_jobs_need_and_removes_the_rest_oldest_first(data_dir, book_file, capsys):
    import os
    import time

    import numpy as np

    from pipeline.cleanup import prune_cache

    store = Store(data_dir).ensure()
    running = _prepared_job(store, book_file, ["done", "pending", "done", "done", "done"])
    store.update_state(running, state=JobState.SYNTHESIZING, force=True)
    needed = store.manifest(running).chunks[0].cache
    audio = np.zeros(24000, dtype=np.float32)
    keys = [needed] + [f"{i:02d}" + "f" * 30 for i in range(4)]
    for age, key in enumerate(keys):
        path = store.write_chunk(key, audio, 24000)
        t = time.time() - 86400 * (10 - age)          # the needed one is the oldest
        for p in (path, store.chunk_sum_path(key)):
            os.utime(p, (t, t))
    r = prune_cache(store, older_than_days=7.5)      # unused for 7.5 days: keys[1], keys[2] (10 and 9 days: needed)
    assert r.files == 2 and not store.chunk_path(keys[1]).exists() and not store.chunk_path(keys[2]).exists()
    assert store.chunk_ok(needed)
    r = prune_cache(store, max_mb=0.1)                # two 48 KB entries fit: the needed one and the newest
    assert store.chunk_ok(needed) and store.chunk_ok(keys[4]) and not store.chunk_path(keys[3]).exists()
    from worker.cli.main import main

    assert main(["prune", "--data", str(data_dir)]) == 2
    assert "--days" in capsys.readouterr().err


def test_limits_refuse_a_big_manuscript_before_any_job_and_warn_about_foreign_script(data_dir, tmp_path):
    from pipeline.errors import LimitError
    from pipeline.limits import book_hours, script_warning

    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300_000)                 # 1.5 MB
    store = Store(data_dir)
    with pytest.raises(LimitError, match=r"1.5 MB, over the 1 MB limit \(TOMECAST_MAX_BOOK_MB"):
        submit_job(store, big, JobOptions(), max_book_mb=1)
    assert store.job_ids() == []
    book = _book()
    assert script_warning(book) is None and book_hours(book) < 0.01
    russian = dataclasses.replace(book, chapters=tuple(
        dataclasses.replace(ch, chunks=tuple(dataclasses.replace(c, speech="Привет, мир. " + c.speech)
                                             for c in ch.chunks)) for ch in book.chapters))
    warning = script_warning(russian)
    assert warning and "not Latin script" in warning and "П" in warning
    assert script_warning(dataclasses.replace(russian, language="ru")) is None


def test_the_book_length_limit_fails_the_job_with_one_line(data_dir, book_file):
    from pipeline.errors import LimitError
    from pipeline.limits import check_book_length

    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["pending"] * 5)
    store.update_state(job_id, state=JobState.SYNTHESIZING, force=True)
    (store.job_dir(job_id) / "plan.json").write_text(_book().to_json())
    check_book_length(store, job_id, 1.0)
    with pytest.raises(LimitError, match="hour limit"):
        check_book_length(store, job_id, 1e-6)
    assert store.state(job_id).state == "failed" and "TOMECAST_MAX_BOOK_HOURS" in store.state(job_id).error


def test_duplicate_deliveries_are_counted_and_shown(data_dir, book_file, capsys):
    from worker.cli.main import main

    store = Store(data_dir)
    job_id = _prepared_job(store, book_file, ["done"] * 5)
    store.count_duplicates(job_id, 2)
    store.count_duplicates(job_id, 1)
    assert job_status(store, job_id).duplicates == 3
    assert main(["status", job_id, "--data", str(data_dir)]) == 0
    assert "duplicate deliveries: 3 chunks" in capsys.readouterr().out
