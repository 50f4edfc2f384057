"""qa: every chunk heard and checked against its text, bad takes repaired, a report the producer can act on.

Layering: sits just above text_prep. Imports numpy, scipy, stdlib, text_prep (number normalization for the word
alignment) and the optional extras faster-whisper, rapidfuzz, matplotlib; never model, tasks, pipeline, worker,
celery or torch (checked by tests/qa/test_layers.py).

    from qa import QASettings, check_clip, load_transcriber
    report = check_clip("take.wav", "The text it should say.", QASettings(), asr=load_transcriber(QASettings()))
    report.passed, report.reasons, report.trim_at

Modules: ``settings`` (thresholds, once), ``features`` (frame analysis), ``signal`` (the signal checks),
``pace`` (expected duration learned from the book), ``align`` (words heard vs text, mishearing rule), ``asr``
(faster-whisper, packed batches), ``chunk`` (all checks on many chunks), ``clip`` (one file), ``repair`` (the
policy), ``stage`` (check + repair + pace over one batch: what the pipeline calls), ``acx`` / ``report`` /
``plots`` (the book report). Errors: ``errors.QAError`` and subclasses.
"""

from qa.acx import AcxFigures, acx_figures
from qa.asr import Transcriber, Transcript, Word, asr_available, default_model, load_transcriber
from qa.chunk import ChunkInput, check_chunk, check_chunks, score
from qa.clip import check_clip, read_audio
from qa.errors import AsrUnavailableError, AudioInputError, QAError, SettingsError
from qa.pace import PaceModel
from qa.repair import Attempt, ChunkState, NeedsTakes, RepairOutcome, repair_chunk, repair_seeds, split_clause
from qa.report import BookReport, ChapterRecord, ChunkRecord, ReportFiles, write_report
from qa.settings import QASettings
from qa.signal import SIGNAL_CHECKS, signal_checks
from qa.stage import ChunkTake, repair_takes, run_qa, speech_seconds
from qa.types import Check, CheckResult, ChunkContext, ClipReport, Take

__all__ = [
    "AcxFigures", "AsrUnavailableError", "Attempt", "AudioInputError", "BookReport", "ChapterRecord", "Check",
    "CheckResult", "ChunkContext", "ChunkInput", "ChunkRecord", "ChunkState", "ChunkTake", "ClipReport",
    "NeedsTakes", "PaceModel", "QAError", "QASettings", "RepairOutcome", "ReportFiles", "SIGNAL_CHECKS",
    "SettingsError", "Take", "Transcriber", "Transcript", "Word", "acx_figures", "asr_available", "check_chunk",
    "check_chunks", "check_clip", "default_model", "load_transcriber", "read_audio", "repair_chunk", "repair_seeds",
    "repair_takes", "run_qa", "score", "signal_checks", "speech_seconds", "split_clause", "write_report",
]
