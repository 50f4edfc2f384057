"""The job record (``state.json``): where a job is, updated as it goes (under the job's lock, by the store).

Only the fields that have a value are written, the same keys as ever, so older job folders still load::

    {"state": "synthesizing", "title", "author", "cover", "model_id", "voice_key", "error", "output",
     "updated", "prepared_started", "synth_started", "finished", "duplicates"}
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import StoreError
from pipeline.states import FINAL_JOB_STATES, JobState

__all__ = ["JobRecord"]


@dataclass(frozen=True)
class JobRecord:
    state: JobState = JobState.QUEUED
    title: str | None = None
    author: str | None = None
    cover: str | None = None          # file name in the job folder
    model_id: str | None = None       # once prepared
    voice_key: str | None = None      # once prepared
    error: str | None = None          # the last job-level error, one line
    output: str | None = None         # the M4B, once done
    updated: str | None = None
    prepared_started: str | None = None
    synth_started: str | None = None
    finished: str | None = None
    duplicates: int | None = None     # chunks a task found already made (a redelivered or re-dispatched copy)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "state", JobState(self.state))
        except ValueError:
            raise StoreError(f"state.json: unknown job state {self.state!r}") from None

    @property
    def final(self) -> bool:
        return self.state in FINAL_JOB_STATES

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping) -> JobRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        return cls.from_dict(json.loads(text))
