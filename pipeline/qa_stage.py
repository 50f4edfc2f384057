"""QA of a job's chunks inside the pipeline: every take checked against its text, bad takes repaired (``qa``).

``synthesize_chunks`` (both modes: embedded ``convert`` and the distributed ``synthesize`` task) hands each
synthesized batch to ``ChunkQA.check``: ``qa.stage.run_qa`` checks the first takes (one packed ASR call), repairs
the failed ones (trim, re-takes with seeds from the chunk's key, split) with the same speech engine, and returns
the audio to keep. Design: QA and repair run inside the synthesize task, right after the batch, because repairs
need the speech engine and the voice already loaded there; a separate QA queue would have to send repairs back to
the GPU queue and double the task traffic for ~1% of chunks. A GPU worker's CPU cores run Whisper (CTranslate2)
while its GPU is idle between batches; ``TOMECAST_QA_ASR_DEVICE=cuda`` puts Whisper on the GPU instead.

The verdict is written beside the chunk's cached audio (``<cache>.qa.json``) and into the manifest entry (qa
fields). A cache hit reuses the verdict; a cache hit without one (made before QA) is checked only. A chunk kept
with a failed verdict is done: the job completes, the report lists it, ``tomecast retry`` re-runs exactly those
(``retry_qa_failed``: their ``qa_round`` goes up, which salts the seeds of their new takes).

Random weights (the README's offline demo) fail every check by design: when the job's first ``HOPELESS_AFTER``
checked chunks all fail their first take, scoring under ``HOPELESS_SCORE`` (ASR heard almost none of their words;
without ASR any failure counts), repair is turned off for the job, said once (no repair loop tripling the demo's
time).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from pipeline.errors import JobStateError
from pipeline.files import atomic_write, read_wav
from pipeline.manifest import ChunkEntry, Manifest
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.store import Store, now_iso
from qa.asr import Transcriber, load_transcriber
from qa.chunk import ChunkInput, check_chunks
from qa.errors import AsrUnavailableError
from qa.pace import PaceModel
from qa.repair import Attempt, RepairOutcome
from qa.repair import ChunkState as QAState
from qa.settings import QASettings
from qa.stage import ChunkTake, run_qa, speech_seconds
from qa.types import ChunkContext, ClipReport, Take

__all__ = ["HOPELESS_AFTER", "HOPELESS_SCORE", "ChunkQA", "Verdict", "chapter_summary", "job_qa_settings",
           "retry_qa_failed", "sidecar_path", "takes_of", "transcriber_for"]

log = logging.getLogger(__name__)

HOPELESS_AFTER = 6        # first checked chunks of a job that decide it is hopeless (random weights)
HOPELESS_SCORE = 0.25     # a first take scoring under this is hopeless (no word right, or signal faults too)
ACCEPTED = frozenset({QAState.PASSED, QAState.TRIMMED, QAState.REPAIRED})   # teach the book's pace

_transcribers: dict[tuple, Transcriber | None] = {}
_said: set[tuple[str, str]] = set()


def _once(job_id: str, what: str, msg: str, *args) -> None:
    if (job_id, what) not in _said:
        _said.add((job_id, what))
        log.warning(msg, *args)


def job_qa_settings(spec) -> QASettings:
    """The job's QA settings: this process's ``TOMECAST_QA_*`` variables (host matters: ASR device, threads),
    then the fields chosen at submit (``JobOptions.qa``); validated."""
    known = {f.name for f in fields(QASettings)}
    return QASettings.from_env(**{k: v for k, v in dict(spec.options.qa).items() if k in known})


def transcriber_for(settings: QASettings, job_id: str = "") -> Transcriber | None:
    """The Whisper model for ``settings``, loaded once per process; None when ASR is off, its extra is not
    installed or the model cannot be loaded (said once)."""
    key = (os.getpid(), settings.asr, settings.asr_model, settings.asr_device, settings.asr_compute_type,
           settings.asr_threads, settings.asr_pack_seconds)
    if key not in _transcribers:
        try:
            _transcribers[key] = load_transcriber(settings)
        except AsrUnavailableError as exc:
            _once(job_id, "asr", "ASR check is off: %s (signal checks still run)", str(exc).splitlines()[0])
            _transcribers[key] = None
    return _transcribers[key]


def sidecar_path(store: Store, cache: str) -> Path:
    return store.chunk_path(cache).with_suffix(".qa.json")


@dataclass(frozen=True)
class Verdict:
    """What QA decided about a chunk's kept audio: ``<cache>.qa.json`` and the manifest's qa fields."""

    state: QAState
    report: ClipReport                        # of the kept audio
    attempts: tuple[Attempt, ...] = ()
    split_texts: tuple[str, ...] = ()
    round: int = 0
    asr_model: str | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(self.report.reasons) if self.state == QAState.FAILED else ()

    @classmethod
    def of(cls, outcome: RepairOutcome, round: int, asr_model: str | None) -> Verdict:
        return cls(outcome.state, outcome.report, outcome.attempts, outcome.texts, round, asr_model)

    def manifest_fields(self) -> dict:
        return {"qa_state": str(self.state), "qa_reasons": self.reasons,
                "qa_scores": tuple(round(a.score, 4) for a in self.attempts) or (round(self.report.score, 4),),
                "qa_attempts": len(self.attempts), "speech_seconds": speech_seconds(self.report),
                "split_texts": tuple(self.split_texts)}

    def to_json(self) -> str:
        return json.dumps({"state": str(self.state), "round": self.round, "asr_model": self.asr_model,
                           "attempts": [a.to_dict() for a in self.attempts], "split_texts": list(self.split_texts),
                           "report": self.report.to_dict()}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        d = json.loads(text)
        attempts = tuple(Attempt(a["kind"], a["seed"], a["score"], a["passed"], tuple(a.get("reasons", ())))
                         for a in d.get("attempts", ()))
        return cls(QAState(d["state"]), ClipReport.from_dict(d["report"]), attempts,
                   tuple(d.get("split_texts", ())), int(d.get("round", 0)), d.get("asr_model"))

    @classmethod
    def load(cls, store: Store, cache: str) -> Verdict | None:
        try:
            return cls.from_json(sidecar_path(store, cache).read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:   # a damaged sidecar: checked again, like no sidecar
            log.warning("QA verdict %s unreadable (%s): the chunk is checked again", sidecar_path(store, cache), exc)
            return None

    def save(self, store: Store, cache: str) -> None:
        atomic_write(sidecar_path(store, cache), self.to_json())


def takes_of(speech, texts: list[str], voice, params, seeds: list[int]) -> list:
    """``speech.synthesize_takes`` when the engine has it (token counts, runaway at cap), else its audio as takes."""
    if hasattr(speech, "synthesize_takes"):
        return list(speech.synthesize_takes(texts, voice, params, seeds))
    return [Take(np.asarray(a, np.float32)) for a in speech.synthesize(texts, voice, params, seeds)]


@dataclass
class ChunkQA:
    """QA for one synthesize call of one job: its settings, the process's transcriber, the book's pace."""

    store: Store
    job_id: str
    settings: QASettings
    language: str
    texts: dict[str, str]                       # chunk id -> speech text
    pace: PaceModel = field(init=False)
    _transcriber: Transcriber | None | str = field(init=False, default="unloaded")

    @classmethod
    def for_job(cls, store: Store, job_id: str, spec, book, manifest: Manifest) -> ChunkQA:
        texts = {e.id: book.chapters[e.chapter].chunks[e.position].speech for e in manifest.chunks}
        qa = cls(store, job_id, job_qa_settings(spec), book.language or "en", texts)
        qa.pace = PaceModel(qa.settings)
        for e in manifest.chunks:   # the book's pace, from the chunks accepted so far
            if e.qa_state in ACCEPTED and e.speech_seconds:
                qa.pace.accept(texts[e.id], e.speech_seconds)
        return qa

    @property
    def transcriber(self) -> Transcriber | None:
        if self._transcriber == "unloaded":
            self._transcriber = transcriber_for(self.settings, self.job_id)
        return self._transcriber  # type: ignore[return-value]

    @property
    def asr_model(self) -> str | None:
        t = self.transcriber
        return t.name if t is not None else None

    # ---- cache hits
    def wants_retake(self, e: ChunkEntry) -> bool:
        """A cached chunk that ``tomecast retry`` asked to re-run (its kept take failed QA in an earlier round)."""
        if e.qa_round == 0:
            return False
        v = Verdict.load(self.store, e.cache)
        return v is not None and v.state == QAState.FAILED and v.round < e.qa_round

    def cached(self, entries: Sequence[ChunkEntry]) -> dict[str, dict]:
        """Manifest qa fields of cached chunks: their saved verdict, or (made before QA) a check without repair."""
        out, unchecked = {}, []
        for e in entries:
            v = Verdict.load(self.store, e.cache)
            if v is None:
                unchecked.append(e)
            else:
                out[e.id] = v.manifest_fields()
        if unchecked:
            audios = [read_wav(self.store.chunk_path(e.cache)) for e in unchecked]
            reports = check_chunks([ChunkInput(a, rate, self._context(e, Take(a))) for e, (a, rate)
                                    in zip(unchecked, audios, strict=True)], self.settings, self.transcriber)
            for e, rep in zip(unchecked, reports, strict=True):
                v = Verdict(QAState.PASSED if rep.passed else QAState.FAILED, rep,
                            (Attempt("take", e.seed, rep.score, rep.passed, tuple(rep.reasons)),),
                            round=e.qa_round, asr_model=self.asr_model)
                v.save(self.store, e.cache)
                out[e.id] = v.manifest_fields()
        return out

    def _context(self, e: ChunkEntry, take: Take) -> ChunkContext:
        text = self.texts[e.id]
        return ChunkContext(text, self.language, take.tokens, take.token_cap, take.hit_cap, self.pace.expect(text))

    # ---- synthesized batches
    def first_takes(self, batch: Sequence[ChunkEntry], synthesize: Callable[[list[str], list[int]], list]
                    ) -> list:
        """The batch's first takes: synthesized, except a retried chunk's, which starts from its kept audio."""
        takes: list = [None] * len(batch)
        fresh = [i for i, e in enumerate(batch) if not self.wants_retake(e)]
        for i, e in enumerate(batch):
            if i not in fresh:
                takes[i] = Take(read_wav(self.store.chunk_path(e.cache))[0])
        if fresh:
            made = synthesize([self.texts[batch[i].id] for i in fresh], [batch[i].seed for i in fresh])
            for i, t in zip(fresh, made, strict=True):
                takes[i] = t
        return takes

    def check(self, batch: Sequence[ChunkEntry], takes: Sequence, sample_rate: int,
              synthesize: Callable[[list[str], list[int]], list]) -> list[tuple[np.ndarray, Verdict]]:
        """Check and repair one batch; (audio to keep, its verdict) per chunk, in order."""
        chunks = [ChunkTake(e.cache if e.qa_round == 0 else f"{e.cache}:round{e.qa_round}", self.texts[e.id],
                            e.seed, t if isinstance(t, Take) else Take(t.audio, t.tokens, t.token_cap, t.hit_cap),
                            self.language) for e, t in zip(batch, takes, strict=True)]
        retried = any(e.qa_round for e in batch)   # a retry asks for repair: no random-weights guard
        outcomes = run_qa(chunks, synthesize=synthesize, sample_rate=sample_rate, settings=self.settings,
                          transcriber=self.transcriber, pace=self.pace,
                          repair_if=None if retried else self._worth_repairing)
        return [(np.asarray(o.audio, np.float32), Verdict.of(o, e.qa_round, self.asr_model))
                for e, o in zip(batch, outcomes, strict=True)]

    def _worth_repairing(self, reports: Sequence[ClipReport]) -> bool:
        """False once the job's first checked chunks are all hopeless (random weights): said once."""
        # a first take is hopeless when it failed and either ASR heard almost none of it or there is no ASR
        asr = self.transcriber is not None
        firsts = [e.qa_state != QAState.PASSED and (e.qa_scores[0] < HOPELESS_SCORE or not asr)
                  for e in self.store.manifest(self.job_id).chunks if e.qa_scores]
        firsts += [not r.passed and (r.score < HOPELESS_SCORE or not asr) for r in reports]
        if len(firsts) >= HOPELESS_AFTER and all(firsts[:HOPELESS_AFTER]):
            _once(self.job_id, "hopeless", "QA: the first %d chunks all fail their checks badly (random or untrained "
                  "weights fail them by design): repair is off for this job; every chunk is still checked and "
                  "recorded (`tomecast report`)", len(firsts))
            return False
        return True


def chapter_summary(manifest: Manifest, chapter: int) -> tuple[str, bool] | None:
    """One line about a chapter's QA (repairs, failures and their kinds), and whether anything failed; None when
    every chunk passed first time or none was checked."""
    entries = [e for e in manifest.chapter_chunks(chapter) if e.qa_state]
    if not entries:
        return None
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.qa_state] = counts.get(e.qa_state, 0) + 1
    if counts.get("passed", 0) == len(entries):
        return None
    kinds: dict[str, int] = {}
    for e in entries:
        for r in e.qa_reasons:
            k = r.split(":", 1)[0]
            kinds[k] = kinds.get(k, 0) + 1
    parts = [f"{n} {s}" for s, n in counts.items()]
    line = f"chapter {chapter + 1} ({manifest.chapters[chapter].title}): QA {', '.join(parts)} of {len(entries)}"
    if kinds:
        line += " (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
    return line, counts.get("failed", 0) > 0


def retry_qa_failed(store: Store, job_id: str, chunks_per_task: int):
    """Put a done job's QA-failed chunks back to pending (their round up: new seeds for their re-takes) and their
    chapters with them; returns the work by chapter. ``JobStateError`` when it has none."""
    manifest = store.manifest(job_id)
    failed = manifest.qa_failed()
    if not failed:
        raise JobStateError(f"job {job_id} is {store.state(job_id).state} and has no chunk that failed QA")
    ids = {e.id for e in failed}
    chapters = {e.chapter for e in failed}

    def reset(m: Manifest) -> Manifest:
        m = m.with_chunks({e.id: {"state": ChunkState.PENDING, "qa_state": None, "qa_round": e.qa_round + 1}
                           for e in m.chunks if e.id in ids})
        for ch in chapters:
            m = m.with_chapter(ch, state=ChapterState.PENDING)
        return m

    manifest = store.update_manifest(job_id, reset)
    shutil.rmtree(store.job_dir(job_id) / "claims", ignore_errors=True)   # follow-ups may be dispatched anew
    store.update_state(job_id, state=JobState.SYNTHESIZING, error=None, synth_started=now_iso(), force=True)
    return manifest.pending_work(chunks_per_task)
