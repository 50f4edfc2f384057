"""The data folder: job folders, the manifest, and content-addressed caches for chunk and chapter audio.

Layout (one folder shared by every worker; local disk, NFS or a bucket mount)::

    DATA/jobs/<job id>/job.json       the request: input files, voice, model, sampling, seed, priority (never changes)
                      /state.json     job state, timestamps, model id and voice key once prepared, last error
                      /input/         copies of the book and voice clip, so workers need nothing from the submitter
                      /plan.json      the text_prep plan (``Book.to_json``), /cover.<ext> when the book has one
                      /manifest.json  every chunk (key, cache entry, seed, state, duration, attempts, last error)
                                      and every chapter (state, file, duration)
                      /chapters/      one audio file per chapter;  /<title>.m4b  the book
    DATA/cache/chunks/<ab>/<hash>.wav     synthesized chunk audio, keyed by model, voice, sampling, seed, speech
    DATA/cache/chapters/<ab>/<hash>.wav   a stitched, loudness-normalized chapter (+ .json: chunk offsets)
    DATA/cache/voices/<key>.voice         prepared voice conditioning

Every write is atomic (temp file in the same folder, fsync, rename), so a half-written file is never taken for a
finished one. The manifest is read-modify-written under an exclusive ``flock`` on the job's lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tasks.errors import JobNotFoundError, StoreError

__all__ = [
    "JOB_STATES",
    "Store",
    "atomic_write",
    "chunk_cache_key",
    "chunk_seed",
    "read_wav",
    "write_wav",
]

JOB_STATES = ("queued", "preparing", "synthesizing", "stitching", "assembling", "done", "failed", "cancelled")
FINAL_STATES = ("done", "failed", "cancelled")


@contextlib.contextmanager
def _replacing(path: Path):
    """Yield a temp path beside ``path``; if the block succeeds it replaces ``path`` by an atomic rename, and in
    every case nothing temporary is left behind (a half-written file is never taken for a finished one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with _replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    return path


def atomic_copy(src: Path, dst: Path, link: bool = False) -> Path:
    """Copy ``src`` to ``dst`` atomically; ``link`` hard-links instead where it can (immutable cache files)."""
    dst = Path(dst)
    with _replacing(dst) as tmp:
        try:
            if not link:
                raise OSError
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    return dst


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Float audio in [-1, 1] -> 16-bit PCM mono WAV, written atomically."""
    pcm = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    pcm = np.round(pcm * 32767.0).astype("<i2")
    path = Path(path)
    with _replacing(path) as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.tobytes())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit PCM mono WAV -> (float32 samples, sample rate)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise StoreError(f"{path}: expected 16-bit mono WAV")
        frames = w.readframes(w.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32767.0, w.getframerate()


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def chunk_seed(job_seed: int, chunk_key: str) -> int:
    """Per-chunk seed: a function of the job seed and the chunk's speech key only (same in every mode)."""
    digest = hashlib.sha256(f"{int(job_seed)}:{chunk_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def chunk_cache_key(model_id: str, voice_key: str, sampling: dict, seed: int, speech: str) -> str:
    """Content address of a chunk's audio: everything that decides the samples, nothing else."""
    ident = json.dumps({"model": model_id, "voice": voice_key, "sampling": sampling, "seed": int(seed),
                        "speech": speech}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_job_id() -> str:
    """Sortable, unique, short: ``20261124-223000-3fa9c1``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Store:
    """One data folder. Plain file operations, safe for several processes on several machines."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    # ---- folders
    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    def job_dir(self, job_id: str) -> Path:
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise JobNotFoundError(f"job id {job_id!r} is not valid")
        return self.jobs_dir / job_id

    def ensure(self) -> Store:
        try:
            for sub in ("jobs", "cache/chunks", "cache/chapters", "cache/voices"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"data folder {self.root} is not usable: {exc.strerror}") from None
        return self

    def new_job(self) -> tuple[str, Path]:
        self.ensure()
        for _ in range(10):
            job_id = new_job_id()
            folder = self.job_dir(job_id)
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                continue
            (folder / "input").mkdir()
            (folder / "chapters").mkdir()
            return job_id, folder
        raise StoreError(f"could not create a job folder under {self.jobs_dir}")

    def job_ids(self) -> list[str]:
        if not self.jobs_dir.is_dir():
            return []
        return sorted(p.name for p in self.jobs_dir.iterdir() if (p / "job.json").is_file())

    def find_job(self, prefix: str) -> str:
        """A job id from its full id or an unambiguous prefix or suffix."""
        if (self.jobs_dir / prefix / "job.json").is_file():
            return prefix
        hits = [j for j in self.job_ids() if j.startswith(prefix) or j.endswith(prefix)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise JobNotFoundError(f"no job {prefix!r} in {self.jobs_dir}")
        raise JobNotFoundError(f"job id {prefix!r} is ambiguous: {', '.join(hits[:5])}")

    # ---- JSON documents of a job
    def read_json(self, job_id: str, name: str) -> dict:
        path = self.job_dir(job_id) / name
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            if not (self.job_dir(job_id) / "job.json").is_file():
                raise JobNotFoundError(f"no job {job_id!r} in {self.jobs_dir}") from None
            raise StoreError(f"job {job_id}: {name} is missing") from None
        except json.JSONDecodeError as exc:
            raise StoreError(f"job {job_id}: {name} is corrupt ({exc.msg})") from None

    def write_json(self, job_id: str, name: str, doc: dict) -> None:
        atomic_write(self.job_dir(job_id) / name, json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True))

    def spec(self, job_id: str) -> dict:
        return self.read_json(job_id, "job.json")

    def state(self, job_id: str) -> dict:
        return self.read_json(job_id, "state.json")

    def has_manifest(self, job_id: str) -> bool:
        return (self.job_dir(job_id) / "manifest.json").is_file()

    def manifest(self, job_id: str) -> dict:
        return self.read_json(job_id, "manifest.json")

    @contextlib.contextmanager
    def locked(self, job_id: str) -> Iterator[None]:
        """Exclusive lock over a job's mutable documents (state.json, manifest.json)."""
        lock_path = self.job_dir(job_id) / ".lock"
        if not lock_path.parent.is_dir():
            raise JobNotFoundError(f"no job {job_id!r} in {self.jobs_dir}")
        with open(lock_path, "a+") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def update_manifest(self, job_id: str, change: Callable[[dict], object]) -> dict:
        with self.locked(job_id):
            doc = self.manifest(job_id)
            change(doc)
            self.write_json(job_id, "manifest.json", doc)
            return doc

    def update_state(self, job_id: str, **fields) -> dict:
        """Merge ``fields`` into state.json; a final state (done/failed/cancelled) only changes when
        ``force=True`` is given (retry, a new run) so a late task cannot resurrect a cancelled job."""
        force = fields.pop("force", False)
        with self.locked(job_id):
            path = self.job_dir(job_id) / "state.json"
            doc = json.loads(path.read_text("utf-8")) if path.is_file() else {}
            if doc.get("state") == "cancelled" and not force and fields.get("state") != "cancelled":
                return doc
            doc.update(fields)
            doc["updated"] = now_iso()
            self.write_json(job_id, "state.json", doc)
            return doc

    # ---- caches
    def chunk_path(self, cache_key: str) -> Path:
        return self.root / "cache" / "chunks" / cache_key[:2] / f"{cache_key}.wav"

    def chapter_cache_path(self, stitch_key: str) -> Path:
        return self.root / "cache" / "chapters" / stitch_key[:2] / f"{stitch_key}.wav"

    def voice_path(self, voice_key: str) -> Path:
        return self.root / "cache" / "voices" / f"{voice_key}.voice"

    def copy_input(self, job_id: str, src: Path, name: str | None = None) -> Path:
        src = Path(src)
        return atomic_copy(src, self.job_dir(job_id) / "input" / (name or src.name))


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (for CLIs and tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
