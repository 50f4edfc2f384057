"""The manifest of a job (``manifest.json``): every chunk of the plan exactly once, every chapter, and what is
left to do. Frozen: every change returns a new manifest, which the store writes under the job's lock.

On disk (the same keys as ever, so older job folders still load)::

    {"job": id, "model_id": ..., "voice_key": ..., "sample_rate": 24000,
     "chapters": [{"index", "title", "chunks", "state", "file", "duration", "stitch_key", "stitched"}],
     "chunks":   [{"id": "3.12", "chapter": 3, "position": 12, "key", "cache", "seed",
                   "state": "pending" | "unchecked" | "done" | "failed", "duration", "attempts", "synthesized", "error",
                   "qa_state", "qa_reasons", "qa_scores", "qa_attempts", "speech_seconds", "split_texts", "qa_round"}]}

``position`` is the chunk's place in its chapter; ``key`` the text_prep speech key; ``cache`` the content
address of its audio; ``attempts`` how many times this job ran synthesis on it; ``synthesized`` whether this job
made its audio (False: it came from the cache). Chunks are stored chapter by chapter, in order.

With a QA queue (``JobOptions.qa_queue``) a chunk goes pending -> unchecked (its first take cached; the take as made
and its token run in ``<cache>.take.npz``) -> done (checked on the QA queue), or back to pending with ``qa_state``
"retake" and its first take's scores and reasons when it needs new takes: its next synthesize step repairs it from
that take.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pipeline.errors import StoreError
from pipeline.keys import chunk_cache_key, chunk_seed
from pipeline.states import ChapterState, ChunkState

__all__ = ["ChapterEntry", "ChunkEntry", "Manifest", "WorkUnit", "chunk_id"]


def chunk_id(chapter: int, position: int) -> str:
    return f"{chapter}.{position}"


@dataclass(frozen=True)
class WorkUnit:
    """One synthesize task: a run of chunk positions of one chapter."""

    chapter: int
    positions: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.positions[0]}-{self.positions[-1]}" if len(self.positions) > 1 else str(self.positions[0])


@dataclass(frozen=True)
class ChunkEntry:
    id: str
    chapter: int
    position: int
    key: str                   # text_prep speech key
    cache: str                 # content address of its audio in the chunk cache
    seed: int
    state: ChunkState = ChunkState.PENDING
    duration: float | None = None
    attempts: int = 0
    synthesized: bool = False
    error: str | None = None
    # QA (``pipeline.qa_stage``): the verdict of its kept take. A qa "failed" chunk is still done (the job
    # completes); ``tomecast retry`` re-runs exactly those, ``qa_round`` salting their new takes' seeds.
    # passed | trimmed | repaired | split | failed | retake (pending: its first take needs new takes, see the
    # module docstring); None: not checked
    qa_state: str | None = None
    qa_reasons: tuple[str, ...] = ()
    qa_scores: tuple[float, ...] = ()      # one per attempt, in order
    qa_attempts: int = 0
    speech_seconds: float | None = None    # speech duration measured by QA (teaches the book's pace)
    split_texts: tuple[str, ...] = ()      # the halves, when the chunk was split
    qa_round: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ChunkState(self.state))
        for name in ("qa_reasons", "qa_scores", "split_texts"):   # JSON gives lists
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))


@dataclass(frozen=True)
class ChapterEntry:
    index: int
    title: str
    chunks: int                # how many chunks it has
    state: ChapterState = ChapterState.PENDING
    file: str | None = None    # its chapter file, relative to the job folder
    duration: float | None = None
    stitch_key: str | None = None
    stitched: bool = False     # whether this job built its master (False: from the chapter cache)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ChapterState(self.state))


_QA_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ChunkEntry)
                if f.name.startswith("qa_") or f.name in ("speech_seconds", "split_texts")}


def _chunk_dict(c: ChunkEntry) -> dict:
    """A chunk's JSON; QA fields at their defaults are left out, so a job without QA writes its old file. Fields
    are read flat (they are all scalars or tuples of scalars): ``dataclasses.asdict`` deep-copies, and the whole
    manifest is written after every batch, so its cost grew with the square of a book's length."""
    d = {k: getattr(c, k) for k in _CHUNK_FIELDS}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
            if k not in _QA_DEFAULTS or v != _QA_DEFAULTS[k]}


_CHUNK_FIELDS = tuple(f.name for f in dataclasses.fields(ChunkEntry))


def _entry(cls, d: Mapping):
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Manifest:
    job: str
    model_id: str
    voice_key: str
    sample_rate: int
    chapters: tuple[ChapterEntry, ...]
    chunks: tuple[ChunkEntry, ...]

    # ---- building and (de)serializing
    @classmethod
    def build(cls, job_id: str, book, *, model_id: str, voice_key: str, sample_rate: int, sampling: dict,
              seed: int, cache_exists: Callable[[str], bool]) -> Manifest:
        """A fresh manifest for ``book`` (a text_prep Book); chunks whose audio is cached start as done."""
        chapters, chunks = [], []
        for ci, ch in enumerate(book.chapters):
            chapters.append(ChapterEntry(ci, ch.title, len(ch.chunks)))
            for pos, c in enumerate(ch.chunks):
                s = chunk_seed(seed, c.key)
                cache = chunk_cache_key(model_id, voice_key, sampling, s, c.speech)
                state = ChunkState.DONE if cache_exists(cache) else ChunkState.PENDING
                chunks.append(ChunkEntry(chunk_id(ci, pos), ci, pos, c.key, cache, s, state))
        return cls(job_id, model_id, voice_key, sample_rate, tuple(chapters), tuple(chunks))

    def to_dict(self) -> dict:
        return {"job": self.job, "model_id": self.model_id, "voice_key": self.voice_key,
                "sample_rate": self.sample_rate, "chapters": [dataclasses.asdict(c) for c in self.chapters],
                "chunks": [_chunk_dict(c) for c in self.chunks]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Manifest:
        try:
            return cls(d["job"], d["model_id"], d["voice_key"], int(d["sample_rate"]),
                       tuple(_entry(ChapterEntry, c) for c in d["chapters"]),
                       tuple(_entry(ChunkEntry, c) for c in d["chunks"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"manifest.json of {d.get('job', '?')!r} is not a manifest "
                             f"({type(exc).__name__}: {exc})") from None

    def to_json(self) -> str:
        """One chapter or chunk a line: readable and diffable, and written by json's C encoder (``indent`` would
        select the pure-Python one, several times slower on a book's thousands of chunks)."""
        d = self.to_dict()

        def rows(items: list[dict]) -> str:
            if not items:
                return "[]"
            return "[\n" + ",\n".join("  " + json.dumps(x, ensure_ascii=False, sort_keys=True) for x in items) + "\n ]"

        head = {k: v for k, v in d.items() if k not in ("chapters", "chunks")}
        lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(head.items())]
        lines += [f' "chapters": {rows(d["chapters"])}', f' "chunks": {rows(d["chunks"])}']
        return "{\n" + ",\n".join(lines) + "\n}"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls.from_dict(json.loads(text))

    # ---- reading
    def _base(self, chapter: int) -> int:
        return sum(ch.chunks for ch in self.chapters[:chapter])

    def chunk(self, chapter: int, position: int) -> ChunkEntry:
        """The entry of one chunk."""
        entry = self.chunks[self._base(chapter) + position]
        assert entry.chapter == chapter and entry.position == position, entry
        return entry

    def chapter_chunks(self, chapter: int) -> tuple[ChunkEntry, ...]:
        base = self._base(chapter)
        return self.chunks[base: base + self.chapters[chapter].chunks]

    def count(self, state: ChunkState) -> int:
        return sum(c.state == state for c in self.chunks)

    def qa_failed(self) -> tuple[ChunkEntry, ...]:
        """Chunks kept with a failed QA verdict (done: their audio is in the book, with their reasons)."""
        return tuple(c for c in self.chunks if c.qa_state == "failed" and c.state == ChunkState.DONE)

    def pending_work(self, chunks_per_task: int,
                     states: Iterable[ChunkState] = (ChunkState.PENDING,)) -> dict[int, list[WorkUnit]]:
        """Chapter -> synthesize tasks for its chunks in ``states``, each at most ``chunks_per_task`` long.

        Every chapter that is not done appears (with an empty list when only its stitching is left)."""
        states = tuple(states)
        work: dict[int, list[WorkUnit]] = {}
        for ch in self.chapters:
            if ch.state == ChapterState.DONE:
                continue
            todo = [c.position for c in self.chapter_chunks(ch.index) if c.state in states]
            work[ch.index] = [WorkUnit(ch.index, tuple(todo[i: i + chunks_per_task]))
                              for i in range(0, len(todo), chunks_per_task)]
        return work

    # ---- changing (each returns a new manifest)
    def with_chunks(self, updates: Mapping[str, Mapping[str, object]]) -> Manifest:
        """Chunk id -> fields to set."""
        unknown = set(updates) - {c.id for c in self.chunks}
        assert not unknown, unknown
        chunks = tuple(dataclasses.replace(c, **updates[c.id]) if c.id in updates else c for c in self.chunks)
        return dataclasses.replace(self, chunks=chunks)

    def with_attempt(self, ids: Iterable[str]) -> Manifest:
        """One more synthesis attempt on each chunk of ``ids``."""
        ids = set(ids)
        return self.with_chunks({c.id: {"attempts": c.attempts + 1} for c in self.chunks if c.id in ids})

    def with_chapter(self, index: int, **fields) -> Manifest:
        chapters = tuple(dataclasses.replace(ch, **fields) if ch.index == index else ch for ch in self.chapters)
        return dataclasses.replace(self, chapters=chapters)

    def with_failures_reset(self) -> Manifest:
        """Failed chunks and chapters back to pending (a retry); their errors cleared."""
        chunks = tuple(dataclasses.replace(c, state=ChunkState.PENDING, error=None)
                       if c.state == ChunkState.FAILED else c for c in self.chunks)
        chapters = tuple(dataclasses.replace(ch, state=ChapterState.PENDING)
                         if ch.state == ChapterState.FAILED else ch for ch in self.chapters)
        return dataclasses.replace(self, chunks=chunks, chapters=chapters)
