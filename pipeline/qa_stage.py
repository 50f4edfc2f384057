"""QA of a job's chunks inside the pipeline: every take checked against its text, bad takes repaired (``qa``).

Inline (embedded ``convert``, and the distributed ``synthesize`` task of a job without a QA queue):
``synthesize_chunks`` hands each synthesized batch to ``ChunkQA.check``: ``qa.stage.run_qa`` checks the first takes
(one packed ASR call), repairs the failed ones (trim, re-takes with seeds from the chunk's key, split) with the same
speech engine, and returns the audio to keep. A GPU worker's CPU cores run Whisper (CTranslate2) while its GPU is
idle between batches; ``TOMECAST_QA_ASR_DEVICE=cuda`` puts Whisper on the GPU instead.

On a QA queue (``JobOptions.qa_queue``: CPU hosts check while GPUs synthesize): the synthesize task keeps each
first take as it is (``TakeRecord`` beside the cached audio: its samples and token run, for the check) and marks
the chunk unchecked; the ``check_chunks`` task (``pipeline.qa_queue``) runs the same ``ChunkQA.check`` with no
engine, one call per synthesized batch (so ASR packs the same windows). Passing and trimmed takes are done there;
a take that needs new takes (``qa.repair.NeedsTakes``, ~1% of chunks) goes back to pending with qa_state "retake"
and its first take's scores, and the synthesize task repairs it from that take (``qa.stage.repair_takes``) with
the engine: the same takes and verdicts as inline. What can differ is the book's learned pace while a repair is
outstanding (a repaired chunk teaches it later than inline): a duration check at the edge of the band could judge
differently. The check hears the take exactly as the engine made it (``TakeRecord``), not its 16-bit WAV.

The verdict is written beside the chunk's cached audio (``<cache>.qa.json``) and into the manifest entry (qa
fields). A cache hit reuses the verdict; a cache hit without one is checked: a first take made for a QA queue
(it has its ``TakeRecord``) by the whole policy, audio made before QA by the checks only. A chunk kept with a
failed verdict is done: the job completes, the report lists it, ``tomecast retry`` re-runs exactly those
(``retry_qa_failed``: their ``qa_round`` goes up, which salts the seeds of their new takes).

Random weights (the README's offline demo) fail every check by design: when the job's first ``HOPELESS_AFTER``
checked chunks all fail their first take, scoring under ``HOPELESS_SCORE`` (ASR heard almost none of their words;
without ASR any failure counts), repair is turned off for the job, said once (no repair loop tripling the demo's
time). The check task decides it as the inline stage does, so nothing is sent back to the GPUs then.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections.abc import Callable, Collection, Sequence
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
from qa.repair import Attempt, NeedsTakes, RepairOutcome
from qa.repair import ChunkState as QAState
from qa.settings import QASettings
from qa.stage import ChunkTake, repair_takes, run_qa, speech_seconds
from qa.types import ChunkContext, ClipReport, Take

__all__ = ["HOPELESS_AFTER", "HOPELESS_SCORE", "RETAKE", "ChunkQA", "TakeRecord", "Verdict", "chapter_summary",
           "UNCHECKED_FIELDS", "job_qa_settings", "retake_fields", "retry_qa_failed", "sidecar_path", "take_path",
           "takes_of", "transcriber_for"]

log = logging.getLogger(__name__)

HOPELESS_AFTER = 6        # first checked chunks of a job that decide it is hopeless (random weights)
HOPELESS_SCORE = 0.25     # a first take scoring under this is hopeless (no word right, or signal faults too)
ACCEPTED = frozenset({QAState.PASSED, QAState.TRIMMED, QAState.REPAIRED})   # teach the book's pace
RETAKE = "retake"   # manifest qa_state of a pending chunk whose first take needs new takes (checked on a QA queue)
# the qa fields of a chunk whose (new) first take is not checked yet
UNCHECKED_FIELDS = {"qa_state": None, "qa_reasons": (), "qa_scores": (), "qa_attempts": 0, "speech_seconds": None,
                    "split_texts": ()}

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


def take_path(store: Store, cache: str) -> Path:
    return store.chunk_path(cache).with_suffix(".take.npz")


@dataclass(frozen=True)
class TakeRecord:
    """A first take as the engine made it, kept beside its cached audio until its check on the QA queue
    (``<cache>.take.npz``): its samples before the 16-bit WAV (ASR hears differences that small, and inline QA hears
    these) and its token run (the runaway check needs it, the WAV does not carry it); once sent back for new takes,
    also the book's pace when it was checked (``pace``: ``PaceModel`` logs), which its repair expects with, as inline
    repair right after the check would. Saving the chunk's verdict removes it; while it exists without a verdict, the
    cached audio is a first take waiting for its check or its repair."""

    take: Take
    pace: tuple[float, ...] | None = None

    def save(self, store: Store, cache: str) -> None:
        t = self.take
        buf = io.BytesIO()
        np.savez(buf, audio=np.asarray(t.audio, np.float32), tokens=int(t.tokens),
                 token_cap=-1 if t.token_cap is None else int(t.token_cap), hit_cap=bool(t.hit_cap),
                 **({} if self.pace is None else {"pace": np.asarray(self.pace, np.float64)}))
        atomic_write(take_path(store, cache), buf.getvalue())

    @classmethod
    def load(cls, store: Store, cache: str) -> TakeRecord | None:
        try:
            with np.load(take_path(store, cache)) as d:
                cap = int(d["token_cap"])
                pace = tuple(float(x) for x in d["pace"]) if "pace" in d.files else None
                return cls(Take(d["audio"], int(d["tokens"]), None if cap < 0 else cap, bool(d["hit_cap"])), pace)
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, OSError) as exc:   # damaged: the cached WAV is checked, without its token run
            log.warning("take record %s unreadable (%s)", take_path(store, cache), exc)
            return None


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
        """Beside the kept audio; the first take's ``TakeRecord`` goes (the chunk is checked)."""
        atomic_write(sidecar_path(store, cache), self.to_json())
        take_path(store, cache).unlink(missing_ok=True)


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

    def waiting_check(self, e: ChunkEntry) -> bool:
        """Its cached audio is a first take made for a QA queue and not checked yet (a ``TakeRecord``, no verdict)."""
        return take_path(self.store, e.cache).is_file() and not sidecar_path(self.store, e.cache).is_file()

    def sort_cached(self, entries: Sequence[ChunkEntry], *, queue: bool
                    ) -> tuple[dict[str, dict], list[ChunkEntry], list[ChunkEntry]]:
        """Chunks whose audio is cached, by what they still need: (the manifest qa fields of those that are checked:
        their verdict, or, made before QA, the checks alone now; those for the QA queue when ``queue``; those whose
        QA runs with the engine: sent back for new takes, re-run by ``tomecast retry``, and without ``queue`` a first
        take still waiting for its check)."""
        done, for_queue, with_engine = [], [], []
        for e in entries:
            if e.qa_state == RETAKE or self.wants_retake(e):
                with_engine.append(e)
            elif queue and Verdict.load(self.store, e.cache) is None:
                for_queue.append(e)
            elif not queue and self.waiting_check(e):
                with_engine.append(e)
            else:
                done.append(e)
        return self.cached(done), for_queue, with_engine

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

    def cached_take(self, e: ChunkEntry) -> Take:
        """The take in the cache: as the engine made it when a ``TakeRecord`` keeps it, else its WAV."""
        rec = TakeRecord.load(self.store, e.cache)
        return rec.take if rec is not None else Take(read_wav(self.store.chunk_path(e.cache))[0])

    def hand_over(self, e: ChunkEntry, take: Take) -> None:
        """Before a first take is cached for its check on the QA queue: no verdict of older audio stays, and the
        take itself is kept beside it (``TakeRecord``)."""
        sidecar_path(self.store, e.cache).unlink(missing_ok=True)
        TakeRecord(take).save(self.store, e.cache)

    # ---- synthesized batches
    def first_takes(self, batch: Sequence[ChunkEntry], synthesize: Callable[[list[str], list[int]], list],
                    from_cache: Collection[str] = ()) -> list[Take]:
        """The batch's first takes: synthesized, or from the cache for the chunk ids of ``from_cache`` (a retried
        chunk's kept audio, a first take waiting for its check or its re-takes)."""
        takes: list = [None] * len(batch)
        fresh = [i for i, e in enumerate(batch) if e.id not in from_cache]
        for i, e in enumerate(batch):
            if e.id in from_cache:
                takes[i] = self.cached_take(e)
        if fresh:
            made = synthesize([self.texts[batch[i].id] for i in fresh], [batch[i].seed for i in fresh])
            for i, t in zip(fresh, made, strict=True):
                takes[i] = t if isinstance(t, Take) else Take(t.audio, t.tokens, t.token_cap, t.hit_cap)
        return takes

    def check(self, batch: Sequence[ChunkEntry], takes: Sequence, sample_rate: int,
              synthesize: Callable[[list[str], list[int]], list] | None
              ) -> list[tuple[np.ndarray, Verdict] | NeedsTakes]:
        """Check and repair one batch: (audio to keep, its verdict) per chunk, in order. Without an engine
        (``synthesize`` None: the QA queue) a chunk whose repair needs new takes is ``NeedsTakes``; a chunk sent
        back so (qa_state "retake") goes straight to its repair, from the same first take."""
        chunks = [ChunkTake(e.cache if e.qa_round == 0 else f"{e.cache}:round{e.qa_round}", self.texts[e.id],
                            e.seed, t if isinstance(t, Take) else Take(t.audio, t.tokens, t.token_cap, t.hit_cap),
                            self.language) for e, t in zip(batch, takes, strict=True)]
        outcomes: list = [None] * len(batch)
        again = [i for i, e in enumerate(batch) if e.qa_state == RETAKE]
        first = [i for i in range(len(batch)) if i not in again]
        if first:
            retried = any(batch[i].qa_round for i in first)   # a retry asks for repair: no random-weights guard
            done = run_qa([chunks[i] for i in first], synthesize=synthesize, sample_rate=sample_rate,
                          settings=self.settings, transcriber=self.transcriber, pace=self.pace,
                          repair_if=None if retried else self._worth_repairing)
            for i, o in zip(first, done, strict=True):
                outcomes[i] = o
        for i in again:   # each expecting with the book's pace as its check saw it (TakeRecord.pace)
            if synthesize is None:
                raise JobStateError(f"job {self.job_id}: chunks sent back for new takes need the speech engine")
            rec = TakeRecord.load(self.store, batch[i].cache)
            pace = self.pace if rec is None or rec.pace is None else PaceModel(self.settings, list(rec.pace))
            outcomes[i] = repair_takes([chunks[i]], synthesize=synthesize, sample_rate=sample_rate,
                                       settings=self.settings, transcriber=self.transcriber, pace=pace)[0]
        return [o if isinstance(o, NeedsTakes) else
                (np.asarray(o.audio, np.float32), Verdict.of(o, e.qa_round, self.asr_model))
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


def retake_fields(need: NeedsTakes) -> dict:
    """Manifest fields of a chunk sent back from the QA queue for new takes: pending, its first take's scores and
    reasons (what the random-weights guard reads), repaired by its next synthesize step."""
    return {"state": ChunkState.PENDING, "qa_state": RETAKE, "qa_reasons": tuple(need.report.reasons),
            "qa_scores": tuple(round(a.score, 4) for a in need.attempts), "qa_attempts": len(need.attempts),
            "speech_seconds": None, "split_texts": ()}


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
