"""pipeline: a book job as plain functions over a data folder (no Celery, no torch).

Layer: above ``text_prep`` and the torch-free parts of ``model`` (``model.params``, ``model.errors``), below
``worker``. Never imports ``worker`` or Celery; submitting a job (``pipeline.jobs``) never imports torch. The
speech model comes in through the ``pipeline.speech.SpeechEngine`` protocol.

    spec.py      job.json      JobOptions (what a submitter chooses), JobSpec
    record.py    state.json    JobRecord (where the job is)
    manifest.py  manifest.json Manifest, ChapterEntry, ChunkEntry, WorkUnit
    states.py    JobState, ChunkState, ChapterState, StitchOutcome
    store.py     the data folder: job folders, documents under a lock, cache paths
    files.py     atomic writes (the one temp-then-rename), WAV input/output
    keys.py      chunk seeds and content addresses
    jobs.py      submit, status, cancel, retry, list
    steps.py     prepare_job -> synthesize_chunks -> stitch_chapter -> assemble_book; run_all
    stitch.py    Stitching settings, chapter masters, chapter files, the M4B
    clips.py     voice clip decoding (ffmpeg)
    speech.py    Speech / SpeechEngine protocols
    status.py    JobStatus for `tomecast status`
    errors.py    PipelineError and its tree
"""

from pipeline.errors import PipelineError
from pipeline.jobs import cancel_job, job_status, list_jobs, retry_job, submit_job
from pipeline.manifest import Manifest
from pipeline.record import JobRecord
from pipeline.spec import JobOptions, JobSpec
from pipeline.speech import Speech, SpeechEngine
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.stitch import Stitching
from pipeline.store import Store

__all__ = [
    "ChapterState",
    "ChunkState",
    "JobOptions",
    "JobRecord",
    "JobSpec",
    "JobState",
    "Manifest",
    "PipelineError",
    "Speech",
    "SpeechEngine",
    "Stitching",
    "Store",
    "cancel_job",
    "job_status",
    "list_jobs",
    "retry_job",
    "submit_job",
]
