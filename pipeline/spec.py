"""The job spec (``job.json``): what was asked for, written once at submit and never changed.

``JobOptions`` are the inputs a submitter chooses (model, seed, sampling, stitching, text options, priority);
``JobSpec`` adds what submitting decides (id, copied file names, creation time). The file is the flat JSON of
the spec, the same keys as ever, so job folders written by older versions still load::

    {"id", "name", "created", "book_file", "voice_file", "voice_source", "priority", "seed", "model",
     "revision", "sampling": {SynthesisParams}, "stitching": {Stitching}, "chunks_per_task", "prepare": {...},
     "qa": {...}, "qa_queue"}   (qa: the qa.QASettings fields chosen at submit; absent when none. qa_queue: the
                                 Celery queue of the job's check_chunks tasks; absent: QA inline in synthesize)

``prepare`` holds ``text_prep.PrepareOptions`` fields. Its ``lexicon`` is submitted as file paths and written as
the files' text (``[{"source": path, "text": ...}]``, see ``embed_lexicon``): job.json lives in the shared data
folder, so a worker on another host reads the same lexicon; ``JobSpec.prepare`` gives it back parsed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model.params import SynthesisParams
from pipeline.errors import SpecError, StoreError
from pipeline.stitch import Stitching
from text_prep.lexicon import Lexicon

__all__ = ["DEFAULT_MODEL", "PRIORITIES", "QUEUE_NAME", "JobOptions", "JobSpec", "embed_lexicon", "params_from_dict",
           "prepare_fields"]

PRIORITIES = range(0, 10)
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_MODEL = "ResembleAI/chatterbox"


def params_from_dict(d: Mapping) -> SynthesisParams:
    """SynthesisParams from its dict; keys this version does not know (a newer writer) are left out."""
    known = {f.name for f in dataclasses.fields(SynthesisParams)}
    return SynthesisParams(**{k: v for k, v in d.items() if k in known})


def embed_lexicon(files) -> list[dict[str, str]]:
    """Lexicon files (paths, or entries already embedded) as job.json entries ``{"source", "text"}``, in order.
    A path is read and parsed here: a missing or bad file raises ``InputFileError``/``LexiconError`` (one line)."""
    out = []
    for f in files:
        if isinstance(f, Mapping):
            out.append({"source": str(f["source"]), "text": str(f["text"])})
        else:
            Lexicon.load(f)   # text_prep's one-line errors, before anything is written
            out.append({"source": str(f), "text": Path(f).expanduser().read_text(encoding="utf-8")})
    return out


def prepare_fields(prepare: Mapping) -> dict:
    """``JobOptions.prepare`` as ``text_prep.PrepareOptions`` fields: the embedded lexicon files parsed, merged."""
    fields = dict(prepare)
    if "lexicon" in fields:
        fields["lexicon"] = Lexicon.merge(Lexicon.parse(e["text"], e["source"]) if isinstance(e, Mapping)
                                          else Lexicon.load(e) for e in fields["lexicon"])
    return fields


@dataclass(frozen=True)
class JobOptions:
    """What a submitter chooses for a job; everything else of the spec is decided at submit."""

    model: str = DEFAULT_MODEL
    revision: str | None = None
    seed: int = 0
    sampling: SynthesisParams = field(default_factory=SynthesisParams)
    stitching: Stitching = field(default_factory=Stitching)
    chunks_per_task: int = 16
    prepare: Mapping[str, object] = field(default_factory=dict)   # text_prep.PrepareOptions fields
    priority: int = 5
    qa: Mapping[str, object] = field(default_factory=dict)        # qa.QASettings fields (the checks, repair)
    # the queue of its check_chunks tasks (CPU hosts check while GPUs synthesize); "": checked inside synthesize.
    # Chosen at submit so every worker of the job agrees (``pipeline.qa_stage``)
    qa_queue: str = ""

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise SpecError(f"priority {self.priority} is not in 0..9 (9 runs first)")
        if self.qa_queue and not QUEUE_NAME.fullmatch(self.qa_queue):
            raise SpecError(f"QA queue {self.qa_queue!r} is not a queue name (letters, digits, '_', '-', '.')")
        if self.chunks_per_task < 1:
            raise SpecError(f"chunks per task {self.chunks_per_task} must be at least 1")


@dataclass(frozen=True)
class JobSpec:
    """job.json. ``voice_file`` is the copy in the job's input folder (None: the model's built-in voice)."""

    id: str
    name: str
    created: str
    book_file: str
    voice_file: str | None
    voice_source: str | None
    options: JobOptions
    book_source: str | None = None   # the user's path of the book, for messages (the job has its own copy)

    # the options, read through (the pipeline reads spec.model, spec.sampling, ...)
    model = property(lambda self: self.options.model)
    revision = property(lambda self: self.options.revision)
    seed = property(lambda self: self.options.seed)
    sampling = property(lambda self: self.options.sampling)
    stitching = property(lambda self: self.options.stitching)
    chunks_per_task = property(lambda self: self.options.chunks_per_task)
    qa_queue = property(lambda self: self.options.qa_queue)

    @property
    def prepare(self) -> dict:
        """The text options as ``text_prep.PrepareOptions`` fields (the lexicon parsed from job.json)."""
        return prepare_fields(self.options.prepare)

    priority = property(lambda self: self.options.priority)

    def to_dict(self) -> dict:
        o = self.options
        return {"id": self.id, "name": self.name, "created": self.created, "book_file": self.book_file,
                "voice_file": self.voice_file, "voice_source": self.voice_source, "priority": o.priority,
                "seed": o.seed, "model": o.model, "revision": o.revision, "sampling": o.sampling.to_dict(),
                "stitching": o.stitching.to_dict(), "chunks_per_task": o.chunks_per_task,
                "prepare": dict(o.prepare), **({"book_source": self.book_source} if self.book_source else {}),
                **({"qa": dict(o.qa)} if o.qa else {}), **({"qa_queue": o.qa_queue} if o.qa_queue else {})}

    @classmethod
    def from_dict(cls, d: Mapping) -> JobSpec:
        try:
            options = JobOptions(model=d["model"], revision=d.get("revision"), seed=int(d.get("seed", 0)),
                                 sampling=params_from_dict(d.get("sampling", {})),
                                 stitching=Stitching.from_dict(d["stitching"]) if d.get("stitching") else Stitching(),
                                 chunks_per_task=int(d.get("chunks_per_task", 16)), prepare=dict(d.get("prepare", {})),
                                 priority=int(d.get("priority", 5)), qa=dict(d.get("qa", {})),
                                 qa_queue=str(d.get("qa_queue") or ""))
            return cls(id=d["id"], name=d["name"], created=d.get("created", ""), book_file=d["book_file"],
                       voice_file=d.get("voice_file"), voice_source=d.get("voice_source"), options=options,
                       book_source=d.get("book_source"))
        except (KeyError, TypeError) as exc:
            raise StoreError(f"job.json of {d.get('id', '?')!r} is not a job spec ({type(exc).__name__}: {exc})") \
                from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        return cls.from_dict(json.loads(text))
