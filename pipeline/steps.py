"""The job pipeline as plain functions: prepare -> synthesize (batches of chunks) -> stitch chapter -> assemble.

No Celery here. The Celery tasks (``worker.tasks``) and embedded mode (``run_all``, used by ``tomecast convert``)
call exactly these, so both produce the same files. Every function is idempotent: run twice, it finds its outputs
and does nothing new.

The speech engine is passed in (a ``pipeline.speech.SpeechEngine``; ``worker.engine`` implements it for
``model.tts.TTS``); this module never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import JobStateError, PipelineError, StoreError, TransientError
from pipeline.files import atomic_copy, atomic_write, is_disk_full, replacing, wav_duration
from pipeline.manifest import Manifest, WorkUnit
from pipeline.names import book_file_name, chapter_file_name, inside
from pipeline.qa_stage import UNCHECKED_FIELDS, ChunkQA, chapter_summary, takes_of
from pipeline.report import Delivered, measure_chapters, write_book_report
from pipeline.space import check_space
from pipeline.spec import JobSpec
from pipeline.speech import Purpose, Speech, SpeechEngine
from pipeline.states import ChapterState, ChunkState, JobState, StitchOutcome
from pipeline.stitch import VERSION as STITCH_VERSION
from pipeline.stitch import ChapterMaster, Stitching, encode_chapter, encode_m4b, stitch_master
from pipeline.store import Store, now_iso

__all__ = [
    "ChapterResult",
    "SynthesisResult",
    "assemble_book",
    "call_size",
    "chapter_groups",
    "even_calls",
    "load_plan",
    "prepare_job",
    "run_all",
    "stitch_chapter",
    "synthesize_chapters",
    "synthesize_chunks",
]

log = logging.getLogger(__name__)


def load_plan(store: Store, job_id: str):
    """The job's text_prep Book, read back from plan.json."""
    from text_prep.types import Book

    try:
        return Book.from_json((store.job_dir(job_id) / "plan.json").read_text("utf-8"))
    except FileNotFoundError:
        raise StoreError(f"job {job_id}: plan.json is missing (not prepared yet)") from None


def _cancelled(store: Store, job_id: str) -> bool:
    return store.state(job_id).state == JobState.CANCELLED


# what a synthesize step still has to do in this process (run_all): unchecked chunks are checked there too
_TO_MAKE = (ChunkState.PENDING, ChunkState.UNCHECKED)


def prepare_job(store: Store, job_id: str, engine: SpeechEngine) -> dict[int, list[WorkUnit]]:
    """Plan the book, prepare the voice, write the manifest; returns the synthesis still to do, by chapter.

    A job that was prepared before keeps its manifest (prepare is idempotent). A failure marks the job failed
    with its one-line message, then propagates."""
    spec = store.spec(job_id)
    if _cancelled(store, job_id):
        return {}
    if store.has_manifest(job_id):
        return store.manifest(job_id).pending_work(spec.chunks_per_task, _TO_MAKE)
    store.update_state(job_id, state=JobState.PREPARING, prepared_started=now_iso())
    try:
        return _prepare(store, job_id, spec, engine)
    except TransientError:
        raise
    except Exception as exc:
        store.update_state(job_id, state=JobState.FAILED, error=store.user_terms(spec, f"{spec.name}: {exc}"),
                           finished=now_iso())
        raise


def _prepare(store: Store, job_id: str, spec: JobSpec, engine: SpeechEngine) -> dict[int, list[WorkUnit]]:
    from text_prep import prepare as plan_book
    from text_prep.types import PrepareOptions

    folder = store.job_dir(job_id)
    book = plan_book(folder / "input" / spec.book_file, PrepareOptions(**spec.prepare))
    atomic_write(folder / "plan.json", book.to_json())
    cover = None
    if book.cover is not None:
        ext = {"image/jpeg": ".jpg", "image/png": ".png"}.get(book.cover.media_type, ".img")
        cover = atomic_write(folder / f"cover{ext}", book.cover.data).name
    speech = engine.speech(spec.model, spec.revision, purpose=Purpose.VOICE)  # no T3/S3Gen needed here
    voice_key = _voice_key(store, speech, folder / "input" / spec.voice_file if spec.voice_file else None)
    manifest = Manifest.build(job_id, book, model_id=speech.model_id, voice_key=voice_key,
                              sample_rate=speech.sample_rate, sampling=spec.sampling.to_dict(), seed=spec.seed,
                              cache_exists=lambda key: store.chunk_ok(key, deep=False))
    done = [c for c in manifest.chunks if c.state == ChunkState.DONE]
    # cache hits: their saved verdict, or checked: on the QA queue, by the checks alone (audio made before QA), or
    # (a first take made for a QA queue, in a job without one) by the whole policy in their synthesize step
    verdicts, for_queue, with_engine = ChunkQA.for_job(store, job_id, spec, book, manifest).sort_cached(
        done, queue=bool(spec.qa_queue)) if done else ({}, [], [])
    states = {**{c.id: ChunkState.UNCHECKED for c in for_queue}, **{c.id: ChunkState.PENDING for c in with_engine}}
    manifest = manifest.with_chunks({c.id: {"duration": wav_duration(store.chunk_path(c.cache)),
                                            "state": states.get(c.id, ChunkState.DONE), **verdicts.get(c.id, {})}
                                     for c in done})
    manifest = store.write_manifest(manifest, only_if_absent=True)
    check_space(store, manifest)   # before any synthesis: DiskFullError says how much more it needs
    store.update_state(job_id, state=JobState.SYNTHESIZING, title=book.title, author=book.author, cover=cover,
                       model_id=speech.model_id, voice_key=voice_key, synth_started=now_iso())
    log.info("job %s (%s): %d chapters, %d chunks, %d already in the cache", job_id, book.title,
             len(book.chapters), len(manifest.chunks), manifest.count(ChunkState.DONE))
    return manifest.pending_work(spec.chunks_per_task, _TO_MAKE)


def _voice_key(store: Store, speech: Speech, src: Path | None) -> str:
    """The key of the job's voice, saved in the voice cache. A clip already prepared for this model (same
    bytes) is not prepared again: ``cache/voices/clips/<model>-<clip hash>`` remembers its voice key."""
    memo = None
    if src is not None and src.suffix != ".voice":
        model = hashlib.sha256(speech.model_id.encode()).hexdigest()[:16]
        clip = hashlib.sha256(src.read_bytes()).hexdigest()[:32]
        memo = store.root / "cache" / "voices" / "clips" / f"{model}-{clip}"
        if memo.is_file():
            key = memo.read_text().strip()
            if store.voice_path(key).is_file():
                return key
    if src is None:
        voice = speech.prepare_voice(None)
    elif src.suffix == ".voice":
        voice = speech.load_voice(src)
    else:
        voice = speech.prepare_voice(src)
    vpath = store.voice_path(voice.key)
    if not vpath.is_file():
        with replacing(vpath, suffix=".voice") as tmp:
            voice.save(tmp)
    if memo is not None:
        atomic_write(memo, voice.key)
    return voice.key


@dataclass(frozen=True)
class SynthesisResult:
    synthesized: int      # chunks this call made
    skipped: int          # chunks already in the cache
    failed: int
    audio_seconds: float  # audio of the chunks this call made
    to_check: tuple[tuple[int, ...], ...] = ()   # positions left unchecked for the QA queue, one tuple per batch


def synthesize_chunks(store: Store, job_id: str, chapter: int, positions: Sequence[int], engine: SpeechEngine,
                      batch_size: int | None, on_batch: Callable[[int, float], None] | None = None, *,
                      qa_queue: bool = False) -> SynthesisResult:
    """Make the audio of the given chunks of one chapter (skipping those already cached), in engine batches.

    Every take is checked (``pipeline.qa_stage``) right after its batch, or with ``qa_queue`` (a job with a QA
    queue, in a worker) left unchecked for the ``check_chunks`` step, one per batch (``to_check``); chunks sent back
    from there for new takes, and chunks ``tomecast retry`` re-runs, are repaired here with the engine.
    A chunk that fails is recorded in the manifest (state failed, attempts, error) and the call goes on;
    ``TransientError`` (e.g. device out of memory) propagates so the task is retried as a whole.
    ``batch_size`` None: as many chunks per engine call as the loaded model takes best (its ``call_size``, else its
    ``batch_size``, e.g. chosen from a GPU's free memory; the job's task size for a model that says neither)."""
    return synthesize_chapters(store, job_id, {chapter: positions}, engine, batch_size, on_batch, qa_queue=qa_queue)


def synthesize_chapters(store: Store, job_id: str, spans: Mapping[int, Sequence[int]], engine: SpeechEngine,
                        batch_size: int | None, on_batch: Callable[[int, float], None] | None = None, *,
                        qa_queue: bool = False) -> SynthesisResult:
    """``synthesize_chunks`` over several chapters (chapter -> positions, in book order): an engine call may
    span a chapter's end, so a model that refills its slots (continuous batching) keeps them full across it
    instead of draining at every chapter. With ``qa_queue``, one chapter only (``to_check`` holds positions).
    A batch's chunks are split evenly into calls of at most ``batch_size``, so no call is a small remainder."""
    if qa_queue and len(spans) > 1:
        raise ValueError("synthesize_chapters: a QA queue takes the chunks of one chapter")
    if _cancelled(store, job_id):
        return SynthesisResult(0, 0, 0, 0.0)
    spec, record = store.spec(job_id), store.state(job_id)
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    entries = [manifest.chunk(chapter, p) for chapter, positions in spans.items() for p in positions]
    qa = ChunkQA.for_job(store, job_id, spec, book, manifest)
    # a bad cache entry is discarded and made again
    cached = [e for e in entries if store.chunk_ok(e.cache)]
    verdicts, for_queue, with_engine = qa.sort_cached(cached, queue=qa_queue)
    _record(store, job_id, {e.id: {"state": ChunkState.DONE, "error": None, **verdicts[e.id],
                                   "duration": wav_duration(store.chunk_path(e.cache))} for e in cached
                            if e.id in verdicts})
    handed = [e for e in for_queue if e.state != ChunkState.UNCHECKED]   # (unchecked: a duplicate delivery)
    _record(store, job_id, {e.id: {"state": ChunkState.UNCHECKED, "error": None,
                                   "duration": wav_duration(store.chunk_path(e.cache))} for e in handed})
    to_check = [tuple(e.position for e in handed)] if handed else []
    fresh = [e for e in entries if e not in cached]
    from_cache = {e.id for e in with_engine}
    # with a QA queue, fresh first takes are only made here; else every take is checked (and repaired) here
    units = [(e, qa_queue and e in fresh) for e in entries if e in fresh or e.id in from_cache]
    skipped = len(entries) - len(units) - len(handed)
    if not units:
        return SynthesisResult(0, skipped, 0, 0.0, tuple(to_check))
    try:
        speech = engine.speech(spec.model, spec.revision)
        if speech.model_id != manifest.model_id:
            raise JobStateError(f"job {job_id}: worker model {speech.model_id} differs from the job's "
                                f"{manifest.model_id}")
        voice = speech.load_voice(store.voice_path(manifest.voice_key))
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - no model, no voice: these chunks fail, the job reports it
        log.error("job %s: chapters %s: cannot synthesize: %s", job_id, ", ".join(map(str, spans)), exc)
        msg = f"{type(exc).__name__}: {exc}"[:300]
        _record(store, job_id, {e.id: {"state": ChunkState.FAILED, "error": msg} for e, _ in units})
        return SynthesisResult(0, skipped, len(units), 0.0, tuple(to_check))
    made = failed = 0
    audio_total = 0.0
    batch_size = batch_size or call_size(speech, spec)

    def takes(texts: list[str], seeds: list[int]) -> list:   # first takes and the re-takes of repairs
        return takes_of(speech, texts, voice, spec.sampling, seeds)

    batches = [b for kind in (True, False) for b in even_calls([e for e, first in units if first == kind], batch_size)]
    for batch in batches:
        unchecked = qa_queue and batch[0] in fresh
        store.update_manifest(job_id, lambda m, ids=[e.id for e in batch]: m.with_attempt(ids))
        where = _where(record.title or job_id, book, batch)
        try:   # QA: every take checked against its text, failed ones repaired (pipeline.qa_stage)
            firsts = qa.first_takes(batch, takes, from_cache)
            kept = [(t.audio, None) for t in firsts] if unchecked else \
                qa.check(batch, firsts, speech.sample_rate, takes)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded per chunk, shown by `tomecast status`
            log.error("%s: synthesis failed: %s", where, exc)
            msg = f"{type(exc).__name__}: {exc}"[:300]
            _record(store, job_id, {e.id: {"state": ChunkState.FAILED, "error": msg} for e in batch})
            failed += len(batch)
            continue
        updates = {}
        for e, take, (audio, verdict) in zip(batch, firsts, kept, strict=True):
            if verdict is None:   # checked on the QA queue: the take as made kept beside it first
                qa.hand_over(e, take)
            path = store.write_chunk(e.cache, audio, speech.sample_rate)
            dur = wav_duration(path)
            if verdict is None:
                updates[e.id] = {"state": ChunkState.UNCHECKED, "error": None, "duration": dur, "synthesized": True,
                                 **UNCHECKED_FIELDS}
            else:
                verdict.save(store, e.cache)
                updates[e.id] = {"state": ChunkState.DONE, "error": None, "duration": dur, "synthesized": True,
                                 **verdict.manifest_fields()}
            audio_total += dur
        _record(store, job_id, updates)
        if unchecked:
            to_check.append(tuple(e.position for e in batch))
        made += len(batch)
        log.info("%s: %d chunks, %.1f s of audio", where, len(batch), sum(u["duration"] for u in updates.values()))
        if on_batch is not None:
            on_batch(len(batch), sum(u["duration"] for u in updates.values()))
    return SynthesisResult(made, skipped, failed, audio_total, tuple(to_check))


def call_size(speech: Speech, spec: JobSpec) -> int:
    """Chunks per engine call when the caller leaves it to the model: its ``call_size``, else its ``batch_size``,
    else the job's task size."""
    return int(getattr(speech, "call_size", getattr(speech, "batch_size", spec.chunks_per_task)))


def even_calls(items: list, size: int) -> list[list]:
    """``items`` in order, in the fewest calls of at most ``size``, as even as they come (1,100 by 1,024: two
    calls of 550, not 1,024 and a 76-chunk tail that would leave most of a batch idle)."""
    if not items:
        return []
    n = -(-len(items) // size)
    cuts = [len(items) * i // n for i in range(n + 1)]
    return [items[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def chapter_groups(todo: Mapping[int, int], size: int) -> list[list[int]]:
    """Consecutive chapters (chapter -> chunks to make, in book order) gathered as long as they fit in ``size``
    chunks (a longer chapter alone); a last group of under half that joins the one before (a book's last short
    chapters would otherwise run alone in a mostly idle batch)."""
    groups: list[list[int]] = []
    count = 0
    for chapter, n in todo.items():
        if not groups or count + n > size:
            groups.append([])
            count = 0
        groups[-1].append(chapter)
        count += n
    if len(groups) > 1 and count < size / 2:
        groups[-2].extend(groups.pop())
    return groups


def _where(title: str, book, batch) -> str:
    """Book, chapter(s) and chunks of a batch, for logs and errors."""
    first, last = batch[0], batch[-1]
    head = f"{title}: chapter {first.chapter} ({book.chapters[first.chapter].title})"
    if first.chapter == last.chapter:
        return f"{head}, chunks {first.position}-{last.position}"
    return f"{head} chunk {first.position} to chapter {last.chapter} ({book.chapters[last.chapter].title}) " \
           f"chunk {last.position}"


def _record(store: Store, job_id: str, updates: dict[str, dict]) -> None:
    """Set per-chunk fields (chunk id -> fields) in the manifest, under its lock."""
    if updates:
        store.update_manifest(job_id, lambda m: m.with_chunks(updates))


def stitch_key(caches: Sequence[str], pauses: Sequence[str], st: Stitching, sample_rate: int) -> str:
    ident = {"chunks": list(caches), "pauses": list(pauses), "sample_rate": sample_rate, "stitcher": STITCH_VERSION,
             "stitching": {k: v for k, v in st.to_dict().items() if k not in ("format", "bitrate")}}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ChapterResult:
    chapter: int
    state: StitchOutcome
    stitched: bool         # the master was built now (False: from the cache, or not built)
    path: Path | None = None
    duration: float | None = None


def stitch_chapter(store: Store, job_id: str, chapter: int) -> ChapterResult:
    """Join a chapter's chunks into its normalized master (cached by content) and encode its chapter file."""
    if _cancelled(store, job_id):
        return ChapterResult(chapter, StitchOutcome.CANCELLED, False)
    st = store.spec(job_id).stitching
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    entries = manifest.chapter_chunks(chapter)
    failed = [e for e in entries if e.state == ChunkState.FAILED]
    missing = [e for e in entries if e.state != ChunkState.FAILED and not store.chunk_ok(e.cache)]
    unfinished = [e for e in entries if e.state in (ChunkState.PENDING, ChunkState.UNCHECKED)]
    title = book.chapters[chapter].title
    if failed:
        _set_chapter(store, job_id, chapter, state=ChapterState.FAILED)
        return ChapterResult(chapter, StitchOutcome.FAILED, False)
    if missing or unfinished:   # not made or not checked yet, or its cached audio was bad (discarded): pending again
        _record(store, job_id, {e.id: {"state": ChunkState.PENDING, "duration": None}
                                for e in missing if e.state in (ChunkState.DONE, ChunkState.UNCHECKED)})
        return ChapterResult(chapter, StitchOutcome.WAITING, False)
    if all(c.state == ChunkState.DONE for c in manifest.chunks):
        store.update_state(job_id, state=JobState.STITCHING)
    # a pause written in the text ([pause 2s]) overrides its kind's length; the key sees the lengths themselves
    pauses = [str(c.pause_ms or st.pauses_ms[str(c.pause)]) for c in book.chapters[chapter].chunks]
    key = stitch_key([e.cache for e in entries], pauses, st, manifest.sample_rate)
    master = ChapterMaster.load(store.chapter_cache_path(key))
    built = master is None
    if built:
        master = stitch_master([store.chunk_path(e.cache) for e in entries],
                               [int(p) for p in pauses], st, store.chapter_cache_path(key))
    out = inside(store.job_dir(job_id) / "chapters", chapter_file_name(chapter, title, st.format))
    stamp = out.with_name(f".{out.name}.key")
    if not (out.is_file() and stamp.is_file() and stamp.read_text() == key):
        tags = {"title": title, "album": book.title, "artist": book.author, "album_artist": book.author,
                "track": f"{chapter + 1}/{len(book.chapters)}", "genre": "Audiobook"}
        if st.format == "wav":
            atomic_copy(master.path, out, link=True)
        else:
            encode_chapter(master.path, out, st.format, st.bitrate, tags, true_peak_db=st.true_peak_db)
        atomic_write(stamp, key)
    _set_chapter(store, job_id, chapter, state=ChapterState.DONE, file=f"chapters/{out.name}",
                 duration=master.duration, stitch_key=key, stitched=built)
    summary = chapter_summary(manifest, chapter)   # QA, once per chapter (per-chunk records: manifest, report)
    if summary is not None:
        (log.warning if summary[1] else log.info)("%s: %s", book.title, summary[0])
    log.info("%s: chapter %d (%s) %s, %.1f s", book.title, chapter, title, "stitched" if built else "from cache",
             master.duration)
    return ChapterResult(chapter, StitchOutcome.DONE, built, out, master.duration)


def _set_chapter(store: Store, job_id: str, chapter: int, **fields) -> None:
    store.update_manifest(job_id, lambda m: m.with_chapter(chapter, **fields))


def assemble_book(store: Store, job_id: str) -> Path | None:
    """The M4B from every chapter master, once all chapters are done; else the job is marked failed."""
    if _cancelled(store, job_id):
        return None
    st, record = store.spec(job_id).stitching, store.state(job_id)
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    not_done = [ch for ch in manifest.chapters if ch.state != ChapterState.DONE]
    if not_done:
        failed = manifest.count(ChunkState.FAILED)
        msg = (f"{book.title}: {len(not_done)} of {len(manifest.chapters)} chapters not done, "
               f"{failed} chunk{'s' if failed != 1 else ''} failed; run `tomecast retry {job_id}`")
        store.update_state(job_id, state=JobState.FAILED, error=msg, finished=now_iso())
        log.error(msg)
        return None
    store.update_state(job_id, state=JobState.ASSEMBLING)
    masters = []
    for ch in manifest.chapters:
        m = ChapterMaster.load(store.chapter_cache_path(ch.stitch_key))
        if m is None:
            raise StoreError(f"job {job_id}: chapter {ch.index} master {ch.stitch_key} is missing")
        masters.append(m)
    folder = store.job_dir(job_id)
    cover = folder / record.cover if record.cover else None
    out = inside(folder, book_file_name(book.title))
    # the report's figures of the chapter files are measured while ffmpeg encodes the M4B (a core each)
    with ThreadPoolExecutor(1, thread_name_prefix="m4b") as pool:
        encoding = pool.submit(encode_m4b, masters, [ch.title for ch in book.chapters], out, title=book.title,
                               author=book.author, language=book.language, cover=cover, bitrate=st.bitrate,
                               true_peak_db=st.true_peak_db)
        chapters = _measured_chapters(store, job_id)
        out, loudness = encoding.result()
    _qa_report(store, job_id, Delivered(chapters, loudness))
    store.update_state(job_id, state=JobState.DONE, error=None, output=str(out), finished=now_iso())
    log.info("%s: %s written (%d chapters, %.1f min)", book.title, out, len(masters),
             sum(m.duration for m in masters) / 60)
    return out


def _measured_chapters(store: Store, job_id: str) -> dict:
    """The report's chapter figures; none where they cannot be measured (the report then says why)."""
    try:
        return measure_chapters(store, job_id)
    except Exception as exc:  # noqa: BLE001 - measured again (and the failure logged) by the report
        if is_disk_full(exc):
            raise
        return {}


def _qa_report(store: Store, job_id: str, delivered: Delivered) -> None:
    """The QA report next to the M4B; a report that cannot be written is logged, the book is still delivered."""
    try:
        write_book_report(store, job_id, delivered=delivered)
    except Exception as exc:  # noqa: BLE001 - the audiobook is made; `tomecast report` says it is missing
        if is_disk_full(exc):
            raise
        log.error("job %s: the QA report could not be written: %s: %s", job_id, type(exc).__name__, exc)


def ensure_job_runnable(store: Store, job_id: str) -> None:
    if _cancelled(store, job_id):
        raise JobStateError(f"job {job_id} is cancelled")


def run_all(store: Store, job_id: str, engine: SpeechEngine, batch_size: int | None,
            on_batch: Callable[[int, float], None] | None = None,
            on_plan: Callable[[Manifest], None] | None = None, *,
            stitch_threads: int | None = None) -> Path | None:
    """The whole pipeline in this process, chapter by chapter.

    ``batch_size`` chunks go to the engine per call, in the same work units as the distributed canvas; None: the
    model's own call size (``call_size``), over consecutive chapters gathered until they fill a call
    (``chapter_groups``), so short chapters do not each end in a half-empty batch. A group's chapters are
    stitched and encoded on ``stitch_threads`` threads of their own (default: half the cores, up to 4) while the
    engine makes the next group (CPU and ffmpeg work beside the accelerator's); a chapter whose cached audio
    proves bad there is made again afterwards, once.
    """
    ensure_job_runnable(store, job_id)
    work = prepare_job(store, job_id, engine)
    if on_plan is not None:
        on_plan(store.manifest(job_id))
    todo = {c: sum(len(u.positions) for u in units) for c, units in work.items()}
    if batch_size or not any(todo.values()):   # (nothing to make: the model is not even loaded)
        groups = [[chapter] for chapter in work]
    else:
        groups = chapter_groups(todo, _engine_call_size(store, job_id, engine))
    stitches: list[Future] = []
    with ThreadPoolExecutor(stitch_threads or _stitch_threads(), thread_name_prefix="stitch") as stitcher:
        try:
            for group in groups:
                if batch_size:
                    for unit in work[group[0]]:
                        synthesize_chunks(store, job_id, group[0], unit.positions, engine, batch_size, on_batch)
                else:
                    synthesize_chapters(store, job_id, {c: [p for u in work[c] for p in u.positions] for c in group},
                                        engine, None, on_batch)
                for f in stitches:   # a stitch that failed stops the book now, not hours later
                    if f.done():
                        f.result()
                stitches += [stitcher.submit(stitch_chapter, store, job_id, chapter) for chapter in group]
            results = [f.result() for f in stitches]
        finally:
            for f in stitches:
                f.cancel()
    for result in results:
        if result.state == StitchOutcome.WAITING:   # cached audio found bad at stitching: made again, once
            chapter = result.chapter
            todo_again = [c.position for c in store.manifest(job_id).chapter_chunks(chapter) if c.state in _TO_MAKE]
            synthesize_chunks(store, job_id, chapter, todo_again, engine, batch_size, on_batch)
            if stitch_chapter(store, job_id, chapter).state == StitchOutcome.WAITING:
                raise PipelineError(f"job {job_id}: chapter {chapter} still has chunks without audio")
    return assemble_book(store, job_id)


def _stitch_threads() -> int:
    """Chapters stitched at once beside the engine: half the cores, up to 4 (each runs an ffmpeg encoder and a
    streaming loudness pass; the engine's own host work keeps the other half)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _engine_call_size(store: Store, job_id: str, engine: SpeechEngine) -> int:
    """The loaded model's call size; a model that does not load: the job's task size (``synthesize_chapters``
    then records why each chunk failed)."""
    spec = store.spec(job_id)
    try:
        return call_size(engine.speech(spec.model, spec.revision), spec)
    except TransientError:
        raise
    except Exception:  # noqa: BLE001 - reported per chunk by the synthesis that follows
        return spec.chunks_per_task
