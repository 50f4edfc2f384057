"""Errors of the pipeline: one-line messages that name the offending job, book, chapter, chunk or file.

PipelineError             base; the CLI prints it as one line and exits 2
├── ClipError             a voice clip that cannot be decoded (missing, not audio, silent, too short)
├── JobNotFoundError      no job folder with that id in the data folder
├── JobStateError         the job cannot do what was asked in its state (retry a running job, ...)
├── SpecError             a job request or stitching setting that cannot be used (priority, format, pauses)
├── StoreError            the data folder is unusable (not writable, corrupt plan or manifest)
│   └── DiskFullError     no space left (or not enough for the book) in the data or output folder
├── LimitError            an input over a configured limit (manuscript size, book length)
├── StitchError           ffmpeg/pydub could not stitch, normalize or export a chapter or the book
└── TransientError        a failure worth retrying as is (out of memory on the device, lost broker)
"""

from __future__ import annotations

__all__ = [
    "ClipError",
    "DiskFullError",
    "LimitError",
    "JobNotFoundError",
    "JobStateError",
    "StitchError",
    "StoreError",
    "PipelineError",
    "SpecError",
    "TransientError",
]


class PipelineError(Exception):
    """Base of job-system errors."""


class SpecError(PipelineError):
    """A job request or stitching setting has an unusable value."""


class ClipError(PipelineError):
    """A voice clip that cannot be used."""


class JobNotFoundError(PipelineError):
    """No job with that id."""


class JobStateError(PipelineError):
    """The job's state does not allow the request."""


class StoreError(PipelineError):
    """The data folder or a file in it is unusable."""


class DiskFullError(StoreError):
    """No space left in a folder the job writes to; the message says how much more it needs."""


class LimitError(PipelineError):
    """An input over a configured limit; the message names the limit and how to raise it."""


class StitchError(PipelineError):
    """Stitching, loudness normalization or export failed."""


class TransientError(PipelineError):
    """A failure that a plain retry may fix; the only errors Celery retries automatically."""
