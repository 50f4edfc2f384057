"""Faults with real parts (redis-server, `tomecast worker` subprocesses, a tiny checkpoint): a Redis restart mid-job
(SIGTERM, SIGKILL; persistence as documented: appendonly everysec), a whole worker SIGKILLed under the default
visibility timeout, a full data folder (a small tmpfs). Each job ends done with every chunk once, or failed with
the disk-full message and then done after `tomecast retry`."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.states import ChunkState
from pipeline.store import Store
from tests.conftest import free_port
from tests.worker.test_tasks import check_complete, submit, wait_state

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# seconds: a task heartbeat; a worker silent for 4 of them is dead, the watchdog looks every 2
FAST = {"TOMECAST_HEARTBEAT": "0.5", "TOMECAST_CHUNKS_PER_TASK": "1", "TOMECAST_BATCH_SIZE": "1"}


class RedisServer:
    """redis-server on a fixed port with the documented persistence, stoppable and restartable in place."""

    def __init__(self, folder: Path, persist: bool = True):
        self.exe = shutil.which("redis-server")
        if self.exe is None:
            pytest.skip("redis-server is not installed")
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.persist = ["--appendonly", "yes", "--appendfsync", "everysec"] if persist else ["--appendonly", "no"]
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "",
             *self.persist],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self, sig: int) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


@pytest.fixture
def redis_server(tmp_path, request):
    server = RedisServer(tmp_path, persist=getattr(request, "param", True))
    yield server
    if server.proc.poll() is None:
        server.stop(signal.SIGTERM)


def wait_chunks(store: Store, job_id: str, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.has_manifest(job_id):
            n = store.manifest(job_id).count(ChunkState.DONE)
            if n >= at_least:
                return n
        time.sleep(0.05)
    pytest.fail(f"job {job_id}: fewer than {at_least} chunks made after {timeout} s")


@pytest.mark.parametrize("sig, redis_server", [(signal.SIGTERM, True), (signal.SIGKILL, True),
                                               (signal.SIGKILL, False)],
                         ids=["SIGTERM", "SIGKILL", "SIGKILL-no-persistence"], indirect=["redis_server"])
def test_a_redis_restart_mid_job_still_finishes_with_every_chunk_once(
        sig, tmp_path, redis_server, tiny_checkpoint, tiny_env, excerpt_book, tiny_voice, start_worker):
    env = tiny_env(tmp_path / "data", tiny_checkpoint, redis_server.url, **FAST)
    store = Store(tmp_path / "data")
    worker = start_worker(env, "gpu,cpu", "w")
    job_id = submit(env, excerpt_book, tiny_voice)
    at_stop = wait_chunks(store, job_id, 2)
    redis_server.stop(sig)
    time.sleep(2)
    redis_server.start()
    restarted = time.monotonic()
    assert wait_state(store, job_id, logs=[worker.log]) == "done"
    recovery = time.monotonic() - restarted
    manifest = check_complete(store, job_id)
    assert at_stop < len(manifest.chunks)
    on_disk = sorted(p.stem for p in (store.root / "cache" / "chunks").rglob("*.wav"))
    assert on_disk == sorted({c.cache for c in manifest.chunks})   # every chunk's audio once
    if not redis_server.persist[1] == "yes":   # every queued message was lost: the watchdog sent them again
        assert "dispatching them again" in worker.log.read_text()
    print(f"redis {sig.name} at {at_stop}/{len(manifest.chunks)} chunks: done {recovery:.1f} s after restart")


def mid_synthesis(store: Store, job_id: str) -> bool:
    """Whether a synthesize task holds a lease on chunks still pending (killing now loses its work)."""
    from pipeline.leases import live_steps

    if not store.has_manifest(job_id):
        return False
    manifest = store.manifest(job_id)
    return any(manifest.chunk(s.chapter, p).state == ChunkState.PENDING
               for s in live_steps(store, job_id, 60) if s.kind == "synthesize" for p in s.positions)


def test_a_sigkilled_worker_costs_seconds_not_the_visibility_timeout(
        tmp_path, redis_url, tiny_checkpoint, tiny_env, excerpt_book, tiny_voice, start_worker):
    """Default visibility timeout (30 min): the new worker's watchdog sees the dead worker's lease go stale and
    dispatches its work again."""
    env = tiny_env(tmp_path / "data", tiny_checkpoint, redis_url, **FAST)
    store = Store(tmp_path / "data")
    first = start_worker(env, "gpu,cpu", "killed")
    job_id = submit(env, excerpt_book, tiny_voice)
    deadline = time.monotonic() + 60
    while not mid_synthesis(store, job_id) and time.monotonic() < deadline:
        time.sleep(0.01)
    first.kill()
    at_kill = store.manifest(job_id).count(ChunkState.DONE)
    assert at_kill < len(store.manifest(job_id).chunks)
    second = start_worker(env, "gpu,cpu", "second")
    started = time.monotonic()
    assert wait_state(store, job_id, timeout=120, logs=[first.log, second.log]) == "done"
    took = time.monotonic() - started
    check_complete(store, job_id)
    assert "dispatching them again" in second.log.read_text()
    assert took < 120
    print(f"worker SIGKILL at {at_kill} chunks: done {took:.1f} s after a new worker started")


@pytest.fixture
def small_disk(tmp_path):
    """small_disk(mb) -> a tmpfs folder of that size (root and `mount` needed; skipped otherwise)."""
    mounted = []

    def mount(mb: int) -> Path:
        folder = tmp_path / f"small{len(mounted)}"
        folder.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(folder)], capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_fails_the_job_with_the_message_and_retry_finishes_it_after_space_is_freed(
        tmp_path, small_disk, redis_url, tiny_checkpoint, tiny_env, excerpt_book, tiny_voice, start_worker):
    disk = small_disk(48)
    data = disk / "data"
    env = tiny_env(data, tiny_checkpoint, redis_url, **FAST)
    store = Store(data)
    ballast = disk / "ballast"
    worker = start_worker(env, "gpu,cpu", "w")
    job_id = submit(env, excerpt_book, tiny_voice)
    wait_chunks(store, job_id, 1)
    free = shutil.disk_usage(disk).free
    ballast.write_bytes(bytes(max(free - 40_000, 0)))   # room for a chunk or so, then ENOSPC
    assert wait_state(store, job_id, logs=[worker.log]) == "failed"
    error = store.state(job_id).error
    assert error.startswith(f"disk full in {data} (needs about ") and "MB more" in error, error
    assert not [p for p in data.rglob(".*") if p.name != ".reserve" and p.name != ".lock"], "temp files left"
    r = subprocess.run([sys.executable, "-m", "worker.cli", "retry", job_id], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "disk full" in r.stderr   # refused, one line, until space is freed
    ballast.unlink()
    r = subprocess.run([sys.executable, "-m", "worker.cli", "retry", job_id], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert wait_state(store, job_id, logs=[worker.log]) == "done"
    check_complete(store, job_id)


def test_a_book_that_cannot_fit_fails_before_synthesis(
        tmp_path, small_disk, redis_url, tiny_checkpoint, tiny_env, excerpt_book, tiny_voice, start_worker):
    data = small_disk(4) / "data"
    env = tiny_env(data, tiny_checkpoint, redis_url, **FAST)
    store = Store(data)
    worker = start_worker(env, "gpu,cpu", "w")
    job_id = submit(env, excerpt_book, tiny_voice)
    assert wait_state(store, job_id, logs=[worker.log]) == "failed"
    assert "disk full in" in store.state(job_id).error
    assert store.manifest(job_id).count(ChunkState.DONE) == 0 and not list(data.rglob("cache/chunks/*/*.wav"))
