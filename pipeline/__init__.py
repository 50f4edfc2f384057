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
    steps.py     prepare_job -> synthesize_chunks -> stitch_chapter -> assemble_book; run_all (embedded:
                 chapters gathered into engine calls, stitched beside the engine)
    stitch.py    Stitching settings, chapter masters (streamed, two passes, limiter), chapter files, the M4B
    loudness.py  loudness and true-peak measurement, the limiter
    covers.py    any cover image as JPEG/PNG for the M4B
    names.py     safe file names; every output path kept inside its folder
    qa_stage.py  every chunk checked (qa) and repaired right after synthesis, or on a QA queue
    qa_queue.py  check_chunks: the QA queue's step (no engine), failed takes sent back for new takes
    report.py    the per-book QA report (JSON, Markdown, plots, ACX figures)
    schedule.py  what runs next without chords: last synthesize (or check) -> stitch, last stitch -> assemble
    leases.py    heartbeat files of running work (the watchdog's evidence)
    space.py     free-space estimate, disk-full handling
    limits.py    manuscript size, book length, script checks
    cleanup.py   `tomecast rm` and `prune`
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
