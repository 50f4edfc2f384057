"""The states of a job, a chunk and a chapter, as written in state.json and manifest.json."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FINAL_JOB_STATES", "ChapterState", "ChunkState", "JobState", "StitchOutcome"]


class JobState(StrEnum):
    """A job's place in its life: queued -> preparing -> synthesizing -> stitching -> assembling -> done."""

    QUEUED = "queued"
    PREPARING = "preparing"
    SYNTHESIZING = "synthesizing"
    STITCHING = "stitching"
    ASSEMBLING = "assembling"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Only a retry (or a new run) moves a job out of these.
FINAL_JOB_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


class ChunkState(StrEnum):
    PENDING = "pending"
    UNCHECKED = "unchecked"  # its first take is in the chunk cache, waiting for its check on the QA queue
    DONE = "done"            # its audio is in the chunk cache (checked: its verdict in the manifest entry)
    FAILED = "failed"        # synthesis (or its check) raised; the error is in the manifest entry


class ChapterState(StrEnum):
    PENDING = "pending"
    DONE = "done"      # stitched, its chapter file written
    FAILED = "failed"  # a chunk of it failed


class StitchOutcome(StrEnum):
    """What one ``stitch_chapter`` call did."""

    DONE = "done"
    FAILED = "failed"
    WAITING = "waiting"      # chunks still without audio (a redelivered task fired the chord early)
    CANCELLED = "cancelled"  # the job was cancelled: nothing done
