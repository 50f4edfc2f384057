"""The job pipeline as plain functions: prepare -> synthesize (batches of chunks) -> stitch chapter -> assemble.

No Celery here. Celery tasks (``tasks.book``) and embedded mode (``tasks.embedded``) call exactly these, so both
produce the same files. Every function is idempotent: run twice, it finds its outputs and does nothing new.

The speech engine is passed in (``worker.engine`` implements ``SpeechEngine``); this module never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tasks.errors import JobStateError, StoreError, TaskError, TransientError
from tasks.manifest import WorkUnit, build_manifest, chapter_chunks, chunk_entry, pending_work
from tasks.stitch import ChapterMaster, encode_chapter, stitch_master, write_m4b
from tasks.store import Store, atomic_copy, atomic_write, now_iso, wav_duration, write_wav
from worker.settings import Stitching

__all__ = [
    "ChapterResult",
    "Speech",
    "SpeechEngine",
    "assemble_book",
    "load_plan",
    "prepare_job",
    "stitch_chapter",
    "synthesize_chunks",
]

log = logging.getLogger(__name__)


class VoiceLike(Protocol):
    key: str

    def save(self, path) -> None: ...


class Speech(Protocol):
    """A loaded model as the pipeline sees it (``worker.engine`` adapts ``model.tts.TTS`` to this)."""

    model_id: str
    sample_rate: int

    def prepare_voice(self, clip: Path | None) -> VoiceLike: ...           # None: the model's built-in voice
    def load_voice(self, path: Path) -> VoiceLike: ...
    def synthesize(self, texts: list[str], voice: VoiceLike, sampling: dict,
                   seeds: list[int]) -> list[np.ndarray]: ...


class SpeechEngine(Protocol):
    def speech(self, model: str, revision: str | None, purpose: str = "synthesis") -> Speech:
        """The loaded model; ``purpose="voice"`` needs only ``prepare_voice``/``load_voice``, ``model_id`` and
        ``sample_rate`` (an engine may then load just the voice networks)."""
        ...


def load_plan(store: Store, job_id: str):
    """The job's text_prep Book, read back from plan.json."""
    from text_prep.types import Book

    try:
        return Book.from_json((store.job_dir(job_id) / "plan.json").read_text("utf-8"))
    except FileNotFoundError:
        raise StoreError(f"job {job_id}: plan.json is missing (not prepared yet)") from None


def _cancelled(store: Store, job_id: str) -> bool:
    return store.state(job_id).get("state") == "cancelled"


def prepare_job(store: Store, job_id: str, engine: SpeechEngine) -> dict[int, list[WorkUnit]]:
    """Plan the book, prepare the voice, write the manifest; returns the synthesis still to do, by chapter.

    A job that was prepared before keeps its manifest (prepare is idempotent). A failure marks the job failed
    with its one-line message, then propagates."""
    spec = store.spec(job_id)
    if _cancelled(store, job_id):
        return {}
    if store.has_manifest(job_id):
        return pending_work(store.manifest(job_id), spec["chunks_per_task"])
    store.update_state(job_id, state="preparing", prepared_started=now_iso())
    try:
        return _prepare(store, job_id, spec, engine)
    except TransientError:
        raise
    except Exception as exc:
        store.update_state(job_id, state="failed", error=f"{spec['name']}: {exc}", finished=now_iso())
        raise


def _prepare(store: Store, job_id: str, spec: dict, engine: SpeechEngine) -> dict[int, list[WorkUnit]]:
    from text_prep import prepare as plan_book
    from text_prep.types import PrepareOptions

    folder = store.job_dir(job_id)
    book = plan_book(folder / "input" / spec["book_file"], PrepareOptions(**spec["prepare"]))
    atomic_write(folder / "plan.json", book.to_json())
    cover = None
    if book.cover is not None:
        ext = {"image/jpeg": ".jpg", "image/png": ".png"}.get(book.cover.media_type, ".img")
        cover = atomic_write(folder / f"cover{ext}", book.cover.data).name
    speech = engine.speech(spec["model"], spec.get("revision"), purpose="voice")  # no T3/S3Gen needed here
    voice_file = spec.get("voice_file")
    voice_key = _voice_key(store, speech, folder / "input" / voice_file if voice_file else None)
    manifest = build_manifest(job_id, book, model_id=speech.model_id, voice_key=voice_key,
                              sample_rate=speech.sample_rate, sampling=spec["sampling"], seed=spec["seed"],
                              cache_exists=lambda key: store.chunk_path(key).is_file())
    for c in manifest["chunks"]:
        if c["state"] == "done":
            c["duration"] = wav_duration(store.chunk_path(c["cache"]))
    with store.locked(job_id):
        if not store.has_manifest(job_id):
            store.write_json(job_id, "manifest.json", manifest)
    store.update_state(job_id, state="synthesizing", title=book.title, author=book.author, cover=cover,
                       model_id=speech.model_id, voice_key=voice_key, synth_started=now_iso())
    cached = sum(c["state"] == "done" for c in manifest["chunks"])
    log.info("job %s (%s): %d chapters, %d chunks, %d already in the cache", job_id, book.title,
             len(book.chapters), len(manifest["chunks"]), cached)
    return pending_work(store.manifest(job_id), spec["chunks_per_task"])


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
        vpath.parent.mkdir(parents=True, exist_ok=True)
        tmp = vpath.with_name(f".{vpath.name}.{os.getpid()}.tmp")
        voice.save(tmp)
        tmp.replace(vpath)
    if memo is not None:
        atomic_write(memo, voice.key)
    return voice.key


@dataclass(frozen=True)
class SynthesisResult:
    synthesized: int      # chunks this call made
    skipped: int          # chunks already in the cache
    failed: int
    audio_seconds: float  # audio of the chunks this call made


def synthesize_chunks(store: Store, job_id: str, chapter: int, positions: Sequence[int], engine: SpeechEngine,
                      batch_size: int, on_batch: Callable[[int, float], None] | None = None) -> SynthesisResult:
    """Make the audio of the given chunks of one chapter (skipping those already cached), in engine batches.

    A chunk that fails is recorded in the manifest (state failed, attempts, error) and the call goes on;
    ``TransientError`` (e.g. device out of memory) propagates so the task is retried as a whole."""
    if _cancelled(store, job_id):
        return SynthesisResult(0, 0, 0, 0.0)
    spec, state = store.spec(job_id), store.state(job_id)
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    ch = book.chapters[chapter]
    entries = [chunk_entry(manifest, chapter, p) for p in positions]
    todo = [e for e in entries if not store.chunk_path(e["cache"]).is_file()]
    skipped = [e for e in entries if e not in todo]
    _record(store, job_id, {e["id"]: {"state": "done", "error": None,
                                      "duration": wav_duration(store.chunk_path(e["cache"]))} for e in skipped})
    if not todo:
        return SynthesisResult(0, len(skipped), 0, 0.0)
    try:
        speech = engine.speech(spec["model"], spec.get("revision"))
        if speech.model_id != manifest["model_id"]:
            raise JobStateError(f"job {job_id}: worker model {speech.model_id} differs from the job's "
                                f"{manifest['model_id']}")
        voice = speech.load_voice(store.voice_path(manifest["voice_key"]))
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - no model, no voice: these chunks fail, the job reports it
        log.error("job %s: chapter %d: cannot synthesize: %s", job_id, chapter, exc)
        msg = f"{type(exc).__name__}: {exc}"[:300]
        _record(store, job_id, {e["id"]: {"state": "failed", "error": msg} for e in todo})
        return SynthesisResult(0, len(skipped), len(todo), 0.0)
    made = failed = 0
    audio_total = 0.0
    for start in range(0, len(todo), batch_size):
        batch = todo[start: start + batch_size]
        _record(store, job_id, {e["id"]: {} for e in batch}, increment=True)
        texts = [ch.chunks[e["position"]].speech for e in batch]
        where = f"{state.get('title', job_id)}: chapter {chapter} ({ch.title}), chunks {batch[0]['position']}-" \
                f"{batch[-1]['position']}"
        try:
            audios = speech.synthesize(texts, voice, spec["sampling"], [e["seed"] for e in batch])
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded per chunk, shown by `tomecast status`
            log.error("%s: synthesis failed: %s", where, exc)
            msg = f"{type(exc).__name__}: {exc}"[:300]
            _record(store, job_id, {e["id"]: {"state": "failed", "error": msg} for e in batch})
            failed += len(batch)
            continue
        updates = {}
        for e, audio in zip(batch, audios, strict=True):
            path = store.chunk_path(e["cache"])
            write_wav(path, audio, speech.sample_rate)
            dur = wav_duration(path)
            updates[e["id"]] = {"state": "done", "error": None, "duration": dur, "synthesized": True}
            audio_total += dur
        _record(store, job_id, updates)
        made += len(batch)
        log.info("%s: %d chunks, %.1f s of audio", where, len(batch), sum(u["duration"] for u in updates.values()))
        if on_batch is not None:
            on_batch(len(batch), sum(u["duration"] for u in updates.values()))
    return SynthesisResult(made, len(skipped), failed, audio_total)


def _record(store: Store, job_id: str, updates: dict[str, dict], increment: bool = False) -> None:
    """Apply per-chunk field updates to the manifest under its lock; ``increment`` adds one attempt instead."""
    if not updates:
        return

    def change(doc: dict) -> None:
        by_id = {c["id"]: c for c in doc["chunks"] if c["id"] in updates}
        for cid, fields in updates.items():
            entry = by_id[cid]
            if increment:
                entry["attempts"] = entry["attempts"] + 1
            else:
                entry.update(fields)

    store.update_manifest(job_id, change)


def _slug(text: str, limit: int = 60) -> str:
    s = re.sub(r"[^\w\s.,'()-]+", "", text, flags=re.UNICODE).strip()
    return re.sub(r"\s+", " ", s)[:limit].strip() or "untitled"


def chapter_file_name(index: int, title: str, fmt: str) -> str:
    return f"{index + 1:02d} {_slug(title)}.{fmt}"


def stitch_key(caches: Sequence[str], pauses: Sequence[str], st: Stitching, sample_rate: int) -> str:
    ident = {"chunks": list(caches), "pauses": list(pauses), "sample_rate": sample_rate,
             "stitching": {k: v for k, v in st.to_dict().items() if k not in ("format", "bitrate")}}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ChapterResult:
    chapter: int
    state: str             # done | failed | waiting (chunks still pending)
    stitched: bool         # the master was built now (False: from the cache, or not built)
    path: Path | None = None
    duration: float | None = None


def stitch_chapter(store: Store, job_id: str, chapter: int) -> ChapterResult:
    """Join a chapter's chunks into its normalized master (cached by content) and encode its chapter file."""
    if _cancelled(store, job_id):
        return ChapterResult(chapter, "cancelled", False)
    spec = store.spec(job_id)
    st = Stitching.from_dict(spec["stitching"])
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    entries = chapter_chunks(manifest, chapter)
    failed = [e for e in entries if e["state"] == "failed"]
    missing = [e for e in entries if e["state"] != "failed" and not store.chunk_path(e["cache"]).is_file()]
    title = book.chapters[chapter].title
    if failed:
        _set_chapter(store, job_id, chapter, state="failed")
        return ChapterResult(chapter, "failed", False)
    if missing:
        return ChapterResult(chapter, "waiting", False)
    if all(c["state"] == "done" for c in manifest["chunks"]):
        store.update_state(job_id, state="stitching")
    pauses = [str(c.pause) for c in book.chapters[chapter].chunks]
    key = stitch_key([e["cache"] for e in entries], pauses, st, manifest["sample_rate"])
    master = ChapterMaster.load(store.chapter_cache_path(key))
    built = master is None
    if built:
        master = stitch_master([store.chunk_path(e["cache"]) for e in entries],
                               [st.pauses_ms[p] for p in pauses], st, store.chapter_cache_path(key))
    out = store.job_dir(job_id) / "chapters" / chapter_file_name(chapter, title, st.format)
    stamp = out.with_name(f".{out.name}.key")
    if not (out.is_file() and stamp.is_file() and stamp.read_text() == key):
        tags = {"title": title, "album": book.title, "artist": book.author, "album_artist": book.author,
                "track": f"{chapter + 1}/{len(book.chapters)}", "genre": "Audiobook"}
        if st.format == "wav":
            atomic_copy(master.path, out, link=True)
        else:
            encode_chapter(master.path, out, st.format, st.bitrate, tags)
        atomic_write(stamp, key)
    _set_chapter(store, job_id, chapter, state="done", file=f"chapters/{out.name}", duration=master.duration,
                 stitch_key=key, stitched=built)
    log.info("%s: chapter %d (%s) %s, %.1f s", book.title, chapter, title, "stitched" if built else "from cache",
             master.duration)
    return ChapterResult(chapter, "done", built, out, master.duration)


def _set_chapter(store: Store, job_id: str, chapter: int, **fields) -> None:
    store.update_manifest(job_id, lambda doc: doc["chapters"][chapter].update(fields))


def assemble_book(store: Store, job_id: str) -> Path | None:
    """The M4B from every chapter master, once all chapters are done; else the job is marked failed."""
    if _cancelled(store, job_id):
        return None
    spec, state = store.spec(job_id), store.state(job_id)
    st = Stitching.from_dict(spec["stitching"])
    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    not_done = [ch for ch in manifest["chapters"] if ch["state"] != "done"]
    if not_done:
        failed = sum(c["state"] == "failed" for c in manifest["chunks"])
        msg = (f"{book.title}: {len(not_done)} of {len(manifest['chapters'])} chapters not done, "
               f"{failed} chunk{'s' if failed != 1 else ''} failed; run `tomecast retry {job_id}`")
        store.update_state(job_id, state="failed", error=msg, finished=now_iso())
        log.error(msg)
        return None
    store.update_state(job_id, state="assembling")
    masters = []
    for ch in manifest["chapters"]:
        m = ChapterMaster.load(store.chapter_cache_path(ch["stitch_key"]))
        if m is None:
            raise StoreError(f"job {job_id}: chapter {ch['index']} master {ch['stitch_key']} is missing")
        masters.append(m)
    folder = store.job_dir(job_id)
    cover = folder / state["cover"] if state.get("cover") else None
    out = folder / f"{_slug(book.title, 80)}.m4b"
    write_m4b(masters, [ch.title for ch in book.chapters], out, title=book.title, author=book.author,
              language=book.language, cover=cover, bitrate=st.bitrate)
    store.update_state(job_id, state="done", error=None, output=str(out), finished=now_iso())
    log.info("%s: %s written (%d chapters, %.1f min)", book.title, out, len(masters),
             sum(m.duration for m in masters) / 60)
    return out


def ensure_job_runnable(store: Store, job_id: str) -> None:
    state = store.state(job_id).get("state")
    if state == "cancelled":
        raise JobStateError(f"job {job_id} is cancelled")


def run_all(store: Store, job_id: str, engine: SpeechEngine, batch_size: int,
            on_batch: Callable[[int, float], None] | None = None,
            on_plan: Callable[[dict], None] | None = None) -> Path | None:
    """The whole pipeline in this process, in the same work units as the distributed canvas."""
    ensure_job_runnable(store, job_id)
    work = prepare_job(store, job_id, engine)
    if on_plan is not None:
        on_plan(store.manifest(job_id))
    for chapter, units in work.items():
        for unit in units:
            synthesize_chunks(store, job_id, chapter, unit.positions, engine, batch_size, on_batch)
        result = stitch_chapter(store, job_id, chapter)
        if result.state == "waiting":
            raise TaskError(f"job {job_id}: chapter {chapter} still has chunks without audio")
    return assemble_book(store, job_id)
