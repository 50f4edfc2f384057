"""Keeping the data folder bounded: ``prune_cache`` removes cached chunk and chapter audio by age and/or down to
a total size, least recently used first, never what a running job still needs (``tomecast prune``; jobs
themselves go with ``pipeline.jobs.remove_job``, ``tomecast rm``)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.store import Store

__all__ = ["PruneResult", "prune_cache"]


@dataclass(frozen=True)
class PruneResult:
    files: int        # cache entries removed
    freed: int        # bytes
    kept: int         # bytes left in the chunk and chapter caches


def _in_use(store: Store) -> set[str]:
    """Cache keys (chunks and chapter masters) of every job that is not finished."""
    keys: set[str] = set()
    for job_id in store.job_ids():
        with contextlib.suppress(Exception):
            if store.state(job_id).final or not store.has_manifest(job_id):
                continue
            m = store.manifest(job_id)
            keys.update(c.cache for c in m.chunks)
            keys.update(ch.stitch_key for ch in m.chapters if ch.stitch_key)
    return keys


def _entries(store: Store) -> list[tuple[float, int, str, list[Path]]]:
    """(last use, bytes, key, files) of each cache entry: a .wav and its sidecars (.sum, .json, .qa.json,
    .take.npz)."""
    out = []
    for sub in ("chunks", "chapters"):
        for wav in (store.root / "cache" / sub).rglob("*.wav"):
            sides = (".sum", ".json", ".qa.json", ".take.npz")
            files = [p for p in (wav, *(wav.with_suffix(x) for x in sides)) if p.exists()]
            with contextlib.suppress(FileNotFoundError):
                stats = [p.stat() for p in files]
                used = max(max(s.st_atime, s.st_mtime) for s in stats)
                out.append((used, sum(s.st_size for s in stats), wav.stem, files))
    return sorted(out)


def prune_cache(store: Store, *, older_than_days: float | None = None, max_mb: float | None = None,
                dry_run: bool = False) -> PruneResult:
    """Remove cache entries unused for ``older_than_days``, then the least recently used until the caches hold
    at most ``max_mb``; entries of unfinished jobs are kept."""
    keep = _in_use(store)
    entries = [e for e in _entries(store) if e[2] not in keep]
    total = sum(e[1] for e in _entries(store))
    cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
    files = freed = 0
    for used, size, _, paths in entries:
        too_old = cutoff is not None and used < cutoff
        too_big = max_mb is not None and total - freed > max_mb * 1e6
        if not (too_old or too_big):
            continue
        if not dry_run:
            for p in paths:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        files += 1
        freed += size
    return PruneResult(files, freed, total - freed)
