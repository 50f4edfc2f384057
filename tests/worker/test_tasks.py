"""Distributed mode with real parts: redis-server, `tomecast worker` subprocesses, `tomecast submit`, ffmpeg.
Same chunk audio as embedded mode; a worker SIGKILLed mid-job loses and duplicates nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.jobs import submit_job
from pipeline.manifest import Manifest
from pipeline.states import ChunkState
from pipeline.stitch import probe
from pipeline.store import Store
from worker.engine import current_engine
from worker.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keep_torch_threads")]

REPO = Path(__file__).resolve().parents[2]
JOB_TIMEOUT_S = 150


def submit(env: dict[str, str], book: Path, voice: Path) -> str:
    r = subprocess.run([sys.executable, "-m", "worker.cli", "submit", str(book), "--voice", str(voice)], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def wait_state(store: Store, job_id: str, states=("done", "failed"), timeout: float = JOB_TIMEOUT_S,
               logs: list[Path] = ()) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = store.state(job_id).state
        if state in states:
            return state
        time.sleep(0.2)
    tails = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    pytest.fail(f"job {job_id} still {store.state(job_id).state} after {timeout} s\n{tails}")


def check_complete(store: Store, job_id: str) -> Manifest:
    """Every planned chunk once in the manifest, done, with its audio; three chapters in the M4B."""
    manifest = store.manifest(job_id)
    plan = steps.load_plan(store, job_id)
    planned = [(ci, pos) for ci, ch in enumerate(plan.chapters) for pos in range(len(ch.chunks))]
    assert [(c.chapter, c.position) for c in manifest.chunks] == planned
    assert all(c.state == "done" and store.chunk_path(c.cache).is_file() for c in manifest.chunks)
    info = probe(Path(store.state(job_id).output))
    assert [c["tags"]["title"] for c in info["chapters"]] == [ch.title for ch in plan.chapters]
    assert len(info["chapters"]) == 3
    return manifest


def test_distributed_job_survives_a_sigkilled_worker_and_matches_embedded(
        tmp_path, redis_url, tiny_checkpoint, tiny_env, excerpt_book, tiny_voice, start_worker):
    """Submit, SIGKILL the worker mid-job, start another: the job finishes with every chunk exactly once, and
    each chunk's audio is byte-identical to the same book converted in this process (embedded mode)."""
    env = tiny_env(tmp_path / "dist", tiny_checkpoint, redis_url, TOMECAST_VISIBILITY_TIMEOUT="3",
                   TOMECAST_CHUNKS_PER_TASK="1", TOMECAST_BATCH_SIZE="1")
    store = Store(tmp_path / "dist")
    first = start_worker(env, "gpu,cpu", "killed")
    job_id = submit(env, excerpt_book, tiny_voice)

    def made() -> int:
        if not store.has_manifest(job_id):
            return 0
        return store.manifest(job_id).count(ChunkState.DONE)

    deadline = time.monotonic() + JOB_TIMEOUT_S
    while made() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()
    total = len(store.manifest(job_id).chunks)
    at_kill = made()
    assert 1 <= at_kill < total, f"the kill came too late to test anything: {at_kill}/{total} chunks were done"
    assert store.state(job_id).state == "synthesizing"
    time.sleep(3.5)  # past the visibility timeout: the killed worker's task goes back to the queue
    second = start_worker(env, "gpu,cpu", "second")
    assert wait_state(store, job_id, logs=[first.log, second.log]) == "done"
    manifest = check_complete(store, job_id)
    caches = [c.cache for c in manifest.chunks]
    on_disk = sorted(p.stem for p in (store.root / "cache" / "chunks").rglob("*.wav"))
    assert on_disk == sorted(set(caches))  # each chunk's audio exactly once, no stray finished files
    assert all(c.attempts >= 1 for c in manifest.chunks)
    assert len({c.id for c in manifest.chunks}) == total

    # the same book in this process, in another data folder: chunk for chunk the same bytes
    settings = Settings.from_env(tiny_env(tmp_path / "emb", tiny_checkpoint, TOMECAST_CHUNKS_PER_TASK="1",
                                          TOMECAST_BATCH_SIZE="1"))
    emb = Store(settings.data_dir).ensure()
    emb_id = submit_job(emb, excerpt_book, settings.job_options(), voice=tiny_voice)
    assert steps.run_all(emb, emb_id, current_engine(settings), settings.chunks_per_call) is not None
    emb_manifest = emb.manifest(emb_id)
    assert [c.cache for c in emb_manifest.chunks] == caches
    for a, b in zip(manifest.chunks, emb_manifest.chunks, strict=True):
        assert store.chunk_path(a.cache).read_bytes() == emb.chunk_path(b.cache).read_bytes(), a.id


def test_a_worker_without_cuda_makes_its_share_of_a_large_task_and_queues_the_rest(
        tmp_path, redis_url, tiny_checkpoint, tiny_env, tiny_voice, start_worker):
    """A task sized for a GPU's batch (here 12 chunks) reaches a CPU worker with a batch of 2: it makes 4 of them
    and queues the rest as tasks of 4; the book completes with every chunk made once."""
    book = tmp_path / "rooms.md"
    paragraphs = [f"The {w} room was quiet that {d} morning." for w, d in zip(
        ("blue", "green", "red", "white", "long", "small", "upper", "lower", "east", "west"),
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "cold", "warm", "grey"),
        strict=True)]
    book.write_text("\n\n".join(['---\ntitle: "Rooms"\n---', "# Rooms", *paragraphs]) + "\n", "utf-8")
    env = tiny_env(tmp_path / "split", tiny_checkpoint, redis_url, TOMECAST_CHUNKS_PER_TASK="12",
                   TOMECAST_BATCH_SIZE="2")
    store = Store(tmp_path / "split")
    worker = start_worker(env, "gpu,cpu", "split")
    job_id = submit(env, book, tiny_voice)
    assert wait_state(store, job_id, logs=[worker.log]) == "done"
    manifest = store.manifest(job_id)
    assert len(manifest.chunks) >= 10 and all(c.state == "done" for c in manifest.chunks)
    log = worker.log.read_text(errors="replace")
    first_task = min(12, len(manifest.chunks))   # the book is one chapter: its first task holds up to 12 chunks
    assert f"{first_task} chunks in this task; this worker takes 4 and queues the rest" in log
    sizes = [int(m) for m in re.findall(r"'synthesized': (\d+)", log)]
    assert sum(sizes) == len(manifest.chunks) and max(sizes) <= 4           # every chunk once, none over the share
    assert not store.state(job_id).duplicates
    assert all(c.attempts == 1 for c in manifest.chunks)
