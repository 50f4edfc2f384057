"""Disk space: what a job still needs, checked before synthesis starts; a full disk fails the job with how much
more it needs, and ``tomecast retry`` resumes it once space is freed (finished chunks stay in the cache).

The estimate is generous on purpose: each chunk's 16-bit WAV, each open chapter's master WAV and chapter file,
and the M4B, with chunk lengths from the chunks made so far (8 s each before any is made).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.errors import DiskFullError
from pipeline.manifest import Manifest
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.store import Store, now_iso

__all__ = ["check_space", "disk_full_message", "fail_disk_full", "needed_bytes"]

log = logging.getLogger(__name__)

CHUNK_SECONDS = 8.0           # a chunk's length before any is measured
ENCODED_BYTES_PER_S = 40_000  # a chapter file or the M4B, any format but wav, with room to spare
MARGIN_BYTES = 16 << 20       # never plan to fill the disk to the last block


def needed_bytes(manifest: Manifest) -> int:
    """Bytes the job will still write: pending chunk WAVs, open chapters' masters and files, the M4B."""
    made = [c.duration for c in manifest.chunks if c.state == ChunkState.DONE and c.duration]
    per_chunk = sum(made) / len(made) if made else CHUNK_SECONDS
    wav_rate = manifest.sample_rate * 2
    pending = sum(c.state == ChunkState.PENDING for c in manifest.chunks)
    open_chunks = sum(ch.chunks for ch in manifest.chapters if ch.state != ChapterState.DONE)
    total_s = per_chunk * len(manifest.chunks)
    return int(pending * per_chunk * wav_rate                                  # chunk cache
               + open_chunks * per_chunk * (wav_rate + ENCODED_BYTES_PER_S)    # masters and chapter files
               + total_s * ENCODED_BYTES_PER_S)                                # the M4B


def disk_full_message(folder: Path, needed: int, free: int) -> str:
    more = max(needed + MARGIN_BYTES - free, 1 << 20)
    return (f"disk full in {folder} (needs about {more / 1e6:.0f} MB more); free space, then "
            f"`tomecast retry`")


def check_space(store: Store, manifest: Manifest) -> None:
    """DiskFullError when the data folder cannot hold what the job still needs."""
    needed, free = needed_bytes(manifest), store.free_bytes()
    if needed + MARGIN_BYTES > free:
        raise DiskFullError(disk_full_message(store.root, needed, free))


def fail_disk_full(store: Store, job_id: str) -> str:
    """Mark the job failed with the disk-full message (written with the 1 MiB reserve given up if need be)."""
    needed = needed_bytes(store.manifest(job_id)) if store.has_manifest(job_id) else 0
    msg = disk_full_message(store.root, needed, store.free_bytes())
    try:
        store.update_state(job_id, state=JobState.FAILED, error=msg, finished=now_iso())
    except OSError:
        store.release_reserve()
        store.update_state(job_id, state=JobState.FAILED, error=msg, finished=now_iso())
    log.error("job %s: %s", job_id, msg)
    return msg
