"""The manifest of a job: every chunk of the plan exactly once, every chapter, and what is left to do.

A plain JSON document (``manifest.json`` in the job folder)::

    {"job": id, "model_id": ..., "voice_key": ..., "sample_rate": 24000,
     "chapters": [{"index", "title", "chunks", "state", "file", "duration", "stitch_key", "stitched"}],
     "chunks":   [{"id": "3.12", "chapter": 3, "position": 12, "key", "cache", "seed",
                   "state": "pending" | "done" | "failed", "duration", "attempts", "synthesized", "error"}]}

``position`` is the chunk's place in its chapter; ``key`` the text_prep speech key; ``cache`` the content
address of its audio; ``attempts`` how many times this job ran synthesis on it; ``synthesized`` whether this job
made its audio (False: it came from the cache).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from tasks.store import chunk_cache_key, chunk_seed

__all__ = ["JobStatus", "WorkUnit", "build_manifest", "chunk_id", "pending_work", "summarize"]


def chunk_id(chapter: int, position: int) -> str:
    return f"{chapter}.{position}"


@dataclass(frozen=True)
class WorkUnit:
    """One synthesize task: a run of chunk positions of one chapter."""

    chapter: int
    positions: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.positions[0]}-{self.positions[-1]}" if len(self.positions) > 1 else str(self.positions[0])


def build_manifest(job_id: str, book, *, model_id: str, voice_key: str, sample_rate: int, sampling: dict,
                   seed: int, cache_exists) -> dict:
    """A fresh manifest for ``book`` (a text_prep Book); chunks whose audio is cached start as done."""
    chapters, chunks = [], []
    for ci, ch in enumerate(book.chapters):
        chapters.append({"index": ci, "title": ch.title, "chunks": len(ch.chunks), "state": "pending",
                         "file": None, "duration": None, "stitch_key": None, "stitched": False})
        for pos, c in enumerate(ch.chunks):
            s = chunk_seed(seed, c.key)
            cache = chunk_cache_key(model_id, voice_key, sampling, s, c.speech)
            done = cache_exists(cache)
            chunks.append({"id": chunk_id(ci, pos), "chapter": ci, "position": pos, "key": c.key, "cache": cache,
                           "seed": s, "state": "done" if done else "pending", "duration": None, "attempts": 0,
                           "synthesized": False, "error": None})
    return {"job": job_id, "model_id": model_id, "voice_key": voice_key, "sample_rate": sample_rate,
            "chapters": chapters, "chunks": chunks}


def chunk_entry(manifest: dict, chapter: int, position: int) -> dict:
    """The entry of one chunk (entries are stored chapter by chapter, in order)."""
    base = sum(ch["chunks"] for ch in manifest["chapters"][:chapter])
    entry = manifest["chunks"][base + position]
    assert entry["chapter"] == chapter and entry["position"] == position, entry
    return entry


def chapter_chunks(manifest: dict, chapter: int) -> list[dict]:
    base = sum(ch["chunks"] for ch in manifest["chapters"][:chapter])
    return manifest["chunks"][base: base + manifest["chapters"][chapter]["chunks"]]


def pending_work(manifest: dict, chunks_per_task: int, states=("pending",)) -> dict[int, list[WorkUnit]]:
    """Chapter -> synthesize tasks for its chunks in ``states``, each at most ``chunks_per_task`` long.

    Every chapter that is not done appears (with an empty list when only its stitching is left)."""
    work: dict[int, list[WorkUnit]] = {}
    for ch in manifest["chapters"]:
        if ch["state"] == "done":
            continue
        todo = [c["position"] for c in chapter_chunks(manifest, ch["index"]) if c["state"] in states]
        work[ch["index"]] = [WorkUnit(ch["index"], tuple(todo[i: i + chunks_per_task]))
                             for i in range(0, len(todo), chunks_per_task)]
    return work


@dataclass(frozen=True)
class JobStatus:
    """What ``tomecast status`` shows for one job."""

    job_id: str
    title: str
    state: str
    priority: int
    created: str
    chapters_done: int = 0
    chapters: int = 0
    chunks_done: int = 0
    chunks_failed: int = 0
    chunks: int = 0
    chunks_cached: int = 0
    audio_seconds: float = 0.0
    eta_seconds: float | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
    output: str | None = None


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def summarize(job_id: str, spec: dict, state: dict, manifest: dict | None) -> JobStatus:
    """Counts, audio made so far, and an ETA from the synthesis rate since synthesis started."""
    base = dict(job_id=job_id, title=state.get("title") or spec.get("name", ""), state=state.get("state", "?"),
                priority=spec.get("priority", 0), created=spec.get("created", ""), output=state.get("output"))
    errors = [state["error"]] if state.get("error") else []
    if manifest is None:
        return JobStatus(**base, errors=tuple(errors))
    chunks = manifest["chunks"]
    done = [c for c in chunks if c["state"] == "done"]
    failed = [c for c in chunks if c["state"] == "failed"]
    made = [c for c in done if c["synthesized"]]
    audio = sum(c["duration"] or 0.0 for c in done)
    errors = [f"chunk {c['id']}: {c['error']}" for c in failed if c.get("error")] + errors
    eta = None
    started = _epoch(state.get("synth_started"))
    pending = len(chunks) - len(done) - len(failed)
    if base["state"] in ("synthesizing", "queued") and started and made and pending:
        rate = len(made) / max(time.time() - started, 1e-3)
        eta = pending / rate
    return JobStatus(**base, chapters_done=sum(ch["state"] == "done" for ch in manifest["chapters"]),
                     chapters=len(manifest["chapters"]), chunks_done=len(done), chunks_failed=len(failed),
                     chunks=len(chunks), chunks_cached=len(done) - len(made), audio_seconds=audio,
                     eta_seconds=eta, errors=tuple(errors))
