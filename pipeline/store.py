"""The data folder: job folders, the manifest, and content-addressed caches for chunk and chapter audio.

Layout (one folder shared by every worker; local disk, NFS or a bucket mount)::

    DATA/jobs/<job id>/job.json       JobSpec: input files, voice, model, sampling, seed, priority (never changes)
                      /state.json     JobRecord: state, timestamps, model id and voice key once prepared, last error
                      /input/         copies of the book and voice clip, so workers need nothing from the submitter
                      /plan.json      the text_prep plan (``Book.to_json``), /cover.<ext> when the book has one
                      /manifest.json  Manifest: every chunk (key, cache entry, seed, state, duration, attempts, error)
                                      and every chapter (state, file, duration)
                      /chapters/      one audio file per chapter;  /<title>.m4b  the book
                      /leases/        one file per running task, touched as its heartbeat (``pipeline.leases``)
                      /claims/        follow-up steps already dispatched (``Store.claim``)
    DATA/cache/chunks/<ab>/<hash>.wav     synthesized chunk audio, keyed by model, voice, sampling, seed, speech
                     /<ab>/<hash>.sum     its size and sha256, written after it: checked before any reuse
                     /<ab>/<hash>.qa.json its QA verdict;  .take.npz  a first take waiting for its check on a QA
                                          queue (``pipeline.qa_stage``)
    DATA/cache/chapters/<ab>/<hash>.wav   a stitched, loudness-normalized chapter (+ .json: chunk offsets)
    DATA/cache/voices/<key>.voice         prepared voice conditioning
    DATA/.reserve                         1 MiB kept free, given up to record "disk full" when the disk is full

Every write is atomic (``pipeline.files.replacing``: temp file in the same folder, fsync, rename), so a
half-written file is never taken for a finished one. state.json and manifest.json are read-modify-written under an
exclusive ``flock`` on the job's lock file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import secrets
import time
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pipeline.errors import JobNotFoundError, StoreError
from pipeline.files import atomic_copy, atomic_write, file_digest, write_wav
from pipeline.manifest import Manifest
from pipeline.record import JobRecord
from pipeline.spec import JobSpec
from pipeline.states import JobState

T = TypeVar("T")

__all__ = ["Store", "new_job_id", "now_iso", "wait_for"]

log = logging.getLogger(__name__)

RESERVE_BYTES = 1 << 20

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
        self.keep_reserve()
        return self

    # ---- space
    @property
    def reserve_path(self) -> Path:
        return self.root / ".reserve"

    def keep_reserve(self) -> None:
        """Hold back 1 MiB (a file of zeros) so that a full disk still leaves room to record the failure."""
        if self.reserve_path.is_file() and self.reserve_path.stat().st_size == RESERVE_BYTES:
            return
        with contextlib.suppress(OSError):
            atomic_write(self.reserve_path, bytes(RESERVE_BYTES))

    def release_reserve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.reserve_path.unlink()

    def free_bytes(self) -> int:
        import shutil

        return shutil.disk_usage(self.root).free

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

    def count_duplicates(self, job_id: str, n: int) -> None:
        """Add ``n`` to the job's count of chunks that a task found already made (harmless, but worth knowing)."""
        with self.locked(job_id):
            record = self.state(job_id)
            self.write_text(job_id, "state.json", dataclasses.replace(
                record, duplicates=(record.duplicates or 0) + n).to_json())

    def claim(self, job_id: str, name: str, ttl_s: float) -> bool:
        """Whether this caller is the one to dispatch step ``name`` now: False when another claimed it less than
        ``ttl_s`` seconds ago (two tasks finishing together queue one follow-up, not two)."""
        path = self.job_dir(job_id) / "claims" / name
        with self.locked(job_id):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime < ttl_s:
                    return False
            atomic_write(path, now_iso())
            return True

    def last_activity(self, job_id: str) -> float:
        """Epoch time of the job's last sign of life: a document written or a running task's heartbeat."""
        folder = self.job_dir(job_id)
        times = [0.0]
        for p in (folder / "state.json", folder / "manifest.json", *(folder / "leases").glob("*.json")):
            with contextlib.suppress(FileNotFoundError):
                times.append(p.stat().st_mtime)
        return max(times)

    # ---- caches
    def chunk_path(self, cache_key: str) -> Path:
        return self.root / "cache" / "chunks" / cache_key[:2] / f"{cache_key}.wav"

    def chunk_sum_path(self, cache_key: str) -> Path:
        return self.chunk_path(cache_key).with_suffix(".sum")

    def write_chunk(self, cache_key: str, audio, sample_rate: int) -> Path:
        """A chunk's audio into the cache, then its size and sha256 (what ``chunk_ok`` checks before reuse)."""
        path = write_wav(self.chunk_path(cache_key), audio, sample_rate)
        atomic_write(self.chunk_sum_path(cache_key),
                     json.dumps({"bytes": path.stat().st_size, "sha256": file_digest(path)}))
        return path

    def chunk_ok(self, cache_key: str, *, deep: bool = True) -> bool:
        """Whether the cache holds whole audio for ``cache_key``: its size (and, ``deep``, its sha256) as recorded
        when written. A bad entry (truncated, empty, altered) is removed, named in the log, and made again."""
        path = self.chunk_path(cache_key)
        if not path.is_file():
            return False
        why = _chunk_problem(path, self.chunk_sum_path(cache_key), deep)
        if why is None:
            return True
        log.warning("cached chunk %s is %s: discarded, it will be synthesized again", path, why)
        for p in (path, self.chunk_sum_path(cache_key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        return False

    def chapter_cache_path(self, stitch_key: str) -> Path:
        return self.root / "cache" / "chapters" / stitch_key[:2] / f"{stitch_key}.wav"

    def voice_path(self, voice_key: str) -> Path:
        return self.root / "cache" / "voices" / f"{voice_key}.voice"

    def user_terms(self, spec: JobSpec, text: str) -> str:
        """``text`` with the job's copies of its inputs named by the user's own paths."""
        inputs = self.job_dir(spec.id) / "input"
        for copy, source in ((spec.book_file, spec.book_source), (spec.voice_file, spec.voice_source)):
            if copy and source:
                text = text.replace(str(inputs / copy), source)
        return text

    def copy_input(self, job_id: str, src: Path, name: str | None = None) -> Path:
        src = Path(src)
        return atomic_copy(src, self.job_dir(job_id) / "input" / (name or src.name))


def _chunk_problem(wav: Path, summary: Path, deep: bool) -> str | None:
    """What is wrong with a cached chunk, or None. Entries from before sums were kept are checked against their
    WAV header (whole data chunk present) and given a sum."""
    size = wav.stat().st_size
    if size == 0:
        return "empty (0 bytes)"
    try:
        want = json.loads(summary.read_text())
    except FileNotFoundError:
        want = None
    except (OSError, ValueError):
        return "without a readable checksum"
    if want is not None:
        if size != want.get("bytes"):
            return f"truncated or changed ({size} bytes, {want.get('bytes')} written)"
        if deep and file_digest(wav) != want.get("sha256"):
            return "corrupt (its sha256 differs from the one written)"
        return None
    try:
        with wave.open(str(wav), "rb") as w:
            data = w.getnframes() * w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError) as exc:
        return f"not a WAV file ({exc})"
    if data == 0 or size < data + 44:
        return f"truncated ({size} bytes, its header promises {data + 44})"
    with contextlib.suppress(OSError):
        atomic_write(summary, json.dumps({"bytes": size, "sha256": file_digest(wav)}))
    return None


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (for CLIs and tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
