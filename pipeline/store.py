"""The data folder: job folders, the manifest, and content-addressed caches for chunk and chapter audio.

Layout (one folder shared by every worker; local disk, NFS or a bucket mount)::

    DATA/jobs/<job id>/job.json       JobSpec: input files, voice, model, sampling, seed, priority (never changes)
                      /state.json     JobRecord: state, timestamps, model id and voice key once prepared, last error
                      /input/         copies of the book and voice clip, so workers need nothing from the submitter
                      /plan.json      the text_prep plan (``Book.to_json``), /cover.<ext> when the book has one
                      /manifest.json  Manifest: every chunk (key, cache entry, seed, state, duration, attempts, error)
                                      and every chapter (state, file, duration)
                      /chapters/      one audio file per chapter;  /<title>.m4b  the book
    DATA/cache/chunks/<ab>/<hash>.wav     synthesized chunk audio, keyed by model, voice, sampling, seed, speech
    DATA/cache/chapters/<ab>/<hash>.wav   a stitched, loudness-normalized chapter (+ .json: chunk offsets)
    DATA/cache/voices/<key>.voice         prepared voice conditioning

Every write is atomic (``pipeline.files.replacing``: temp file in the same folder, fsync, rename), so a
half-written file is never taken for a finished one. state.json and manifest.json are read-modify-written under an
exclusive ``flock`` on the job's lock file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pipeline.errors import JobNotFoundError, StoreError
from pipeline.files import atomic_copy, atomic_write
from pipeline.manifest import Manifest
from pipeline.record import JobRecord
from pipeline.spec import JobSpec
from pipeline.states import JobState

T = TypeVar("T")

__all__ = ["Store", "new_job_id", "now_iso", "wait_for"]

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

    # ---- the documents of a job: job.json (JobSpec), state.json (JobRecord), manifest.json (Manifest)
    def _read(self, job_id: str, name: str) -> str:
        path = self.job_dir(job_id) / name
        try:
            return path.read_text("utf-8")
        except FileNotFoundError:
            if not (self.job_dir(job_id) / "job.json").is_file():
                raise JobNotFoundError(f"no job {job_id!r} in {self.jobs_dir}") from None
            raise StoreError(f"job {job_id}: {name} is missing") from None

    def _load(self, job_id: str, name: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(self._read(job_id, name))
        except json.JSONDecodeError as exc:
            raise StoreError(f"job {job_id}: {name} is corrupt ({exc.msg})") from None

    def write_text(self, job_id: str, name: str, text: str) -> Path:
        return atomic_write(self.job_dir(job_id) / name, text)

    def write_spec(self, spec: JobSpec) -> None:
        self.write_text(spec.id, "job.json", spec.to_json())

    def spec(self, job_id: str) -> JobSpec:
        return self._load(job_id, "job.json", JobSpec.from_json)

    def state(self, job_id: str) -> JobRecord:
        return self._load(job_id, "state.json", JobRecord.from_json)

    def has_manifest(self, job_id: str) -> bool:
        return (self.job_dir(job_id) / "manifest.json").is_file()

    def manifest(self, job_id: str) -> Manifest:
        return self._load(job_id, "manifest.json", Manifest.from_json)

    def write_manifest(self, manifest: Manifest, *, only_if_absent: bool = False) -> Manifest:
        """Write ``manifest`` (under the lock); ``only_if_absent`` keeps one that another process wrote first."""
        with self.locked(manifest.job):
            if only_if_absent and self.has_manifest(manifest.job):
                return self.manifest(manifest.job)
            self.write_text(manifest.job, "manifest.json", manifest.to_json())
            return manifest

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

    def update_manifest(self, job_id: str, change: Callable[[Manifest], Manifest]) -> Manifest:
        """Read, change and write the manifest under the job's lock; returns the new manifest."""
        with self.locked(job_id):
            manifest = change(self.manifest(job_id))
            self.write_text(job_id, "manifest.json", manifest.to_json())
            return manifest

    def update_state(self, job_id: str, *, force: bool = False, **fields) -> JobRecord:
        """Set ``fields`` of state.json (None clears one). A cancelled job only changes when ``force=True`` is
        given (retry, a new run) or it is cancelled again, so a late task cannot resurrect it."""
        with self.locked(job_id):
            path = self.job_dir(job_id) / "state.json"
            record = self.state(job_id) if path.is_file() else JobRecord()
            if record.state == JobState.CANCELLED and not force and fields.get("state") != JobState.CANCELLED:
                return record
            record = dataclasses.replace(record, **fields, updated=now_iso())
            self.write_text(job_id, "state.json", record.to_json())
            return record

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
