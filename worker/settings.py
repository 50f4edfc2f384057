"""Runtime settings of tomecast: one frozen ``Settings`` read once from the environment; CLI flags override.

Never imports torch: submitting a job reads these settings too. The sampling parameters are the model's own
``model.params.SynthesisParams`` (its limits, checked here when settings are built); the stitching settings are the
stitcher's ``pipeline.stitch.Stitching``; ``job_options()`` turns settings into what a job is submitted with.

Environment (all optional):
    TOMECAST_BROKER_URL        redis://localhost:6379/0   Celery broker (Redis)
    TOMECAST_RESULT_BACKEND    (broker URL)               Celery result backend (task states for Flower)
    TOMECAST_DATA              ~/.local/share/tomecast    data folder shared by every worker (jobs, caches)
    TOMECAST_MODEL             ResembleAI/chatterbox      model: Hugging Face repo id or local folder
    TOMECAST_MODEL_REVISION    (none)                     revision of the repo
    TOMECAST_ENGINE            chatterbox                 speech engine of jobs submitted: chatterbox, or espeak
                                                          (espeak-ng drafts; the job's model becomes "espeak")
    TOMECAST_DEVICE            auto                       auto, cpu, cuda, cuda:N, mps
    TOMECAST_DTYPE             (model's choice)           float32, bfloat16, float16
    TOMECAST_BATCH_SIZE        auto                       texts per engine batch; auto: on CUDA the loaded model's
                                                          suggestion for the free memory (TTS.suggested_batch_size),
                                                          elsewhere 8
    TOMECAST_THREADS           (torch's choice)           CPU threads per process for torch (CPU devices)
    TOMECAST_COMPILE           0                          1: torch.compile the original model's decode step and
                                                          S3Gen's estimator (CUDA only; minutes of compiling per
                                                          process and shape, for long runs on a dedicated GPU)
    TOMECAST_CHUNKS_PER_TASK   auto                       chunks per synthesize task: 2 x TOMECAST_BATCH_SIZE when
                                                          that is given, else 256 (a GPU's batch); a worker without
                                                          CUDA or with a batch size given takes 2 x its batch (16
                                                          with an auto batch) of a task and queues the rest
    TOMECAST_VOICE             (built-in voice)           default voice clip or .voice file
    TOMECAST_SEED              0                          job seed (per-chunk seeds derive from it)
    TOMECAST_TEMPERATURE, TOMECAST_TOP_P, TOMECAST_MIN_P, TOMECAST_REPETITION_PENALTY, TOMECAST_CFG_WEIGHT,
    TOMECAST_EXAGGERATION, TOMECAST_MAX_NEW_TOKENS, TOMECAST_N_FLOW_STEPS, TOMECAST_FLOW_CFG_RATE,
    TOMECAST_TOKENS_PER_CHAR                              sampling defaults (the last: runaway cap per chunk,
                                                          50 + this x characters speech tokens; 0 turns it off)
    TOMECAST_WATERMARK         1                          0 turns the Perth watermark off
    TOMECAST_FORMAT            mp3                        chapter files: mp3, flac, wav, opus
    TOMECAST_LOUDNESS          -18                        integrated loudness target, LUFS
    TOMECAST_TRUE_PEAK         -3                         true-peak ceiling, dBTP
    TOMECAST_PAUSES            sentence=350,paragraph=800,title=1200,line=250,scene=1800
                                                          pause after a chunk, ms
    TOMECAST_HEAD_MS           750                        room tone before a chapter's first sound, ms
    TOMECAST_TAIL_MS           2000                       room tone after a chapter's last sound, ms (it is the
                                                          pause after the chapter's last chunk)
    TOMECAST_VISIBILITY_TIMEOUT 1800                      seconds before the broker redelivers an unacknowledged
                                                          task (keep it well above a task's run time)
    TOMECAST_HEARTBEAT         15                         seconds between a running task's heartbeats; a task
                                                          silent for 4x this is dead and its work dispatched again
    TOMECAST_MAX_RESENDS       5                          times the watchdog re-sends a job's work with no progress
                                                          before it fails the job (`tomecast retry` resets it)
    TOMECAST_QA_QUEUE          (none)                     queue of the QA step of jobs submitted (`qa`: CPU hosts
                                                          check takes while GPUs synthesize; a worker serves it with
                                                          --queues qa); unset: QA inside the synthesize task
    TOMECAST_MAX_BOOK_MB       50                         largest manuscript file accepted, MB
    TOMECAST_MAX_BOOK_HOURS    200                        longest book accepted, hours of speech (estimated)
    TOMECAST_<FIELD>           (text_prep's defaults)     text preparation, one variable per text_prep.PrepareOptions
                                                          field: TOMECAST_MAX_CHARS=250, TOMECAST_NOTES=chapter-end,
                                                          TOMECAST_VERSE_LINES=0, TOMECAST_TAGS=keep,
                                                          TOMECAST_LEXICON=a.tsv:b.tsv (files, os.pathsep between)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import ParamsError
from model.params import SynthesisParams
from pipeline.errors import SpecError
from pipeline.spec import DEFAULT_MODEL, QUEUE_NAME, JobOptions
from pipeline.stitch import PAUSE_KINDS, Stitching
from text_prep.errors import TextPrepError
from text_prep.types import PrepareOptions
from worker.errors import SettingsError

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_CHUNKS_PER_TASK", "SMALL_TASK_CHUNKS", "Settings"]

DEFAULT_BATCH_SIZE = 8          # an auto batch off CUDA (and what the pipeline slices a task by, see Settings)
# With an auto chunk count: enough for a large GPU's batch (the submitting host cannot know the workers' GPUs). A
# worker that would not fill such a batch (no CUDA, or a batch size given) takes only its ``task_share`` of a task
# and queues the rest, so its tasks stay well inside the broker's visibility timeout.
DEFAULT_CHUNKS_PER_TASK = 256
SMALL_TASK_CHUNKS = 16          # a worker's share of a task with an auto batch off CUDA


def _checked_params(params: SynthesisParams) -> SynthesisParams:
    """``params`` if the model accepts them, else a SettingsError naming the parameter and its value."""
    try:
        params.validate()
    except ParamsError as exc:
        name = str(exc).split()[0]   # the model's messages open with the parameter's name
        if name in _field_names(SynthesisParams):
            raise SettingsError(f"sampling parameter {name}={getattr(params, name)!r}: {exc}") from None
        raise SettingsError(f"sampling parameters: {exc}") from None
    return params


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tomecast"


@dataclass(frozen=True)
class Settings:
    """Everything a worker or a CLI command needs to know; ``from_env`` reads it, ``override`` applies flags."""

    broker_url: str = "redis://localhost:6379/0"
    result_backend: str | None = None
    data_dir: Path = field(default_factory=_default_data_dir)
    model: str = DEFAULT_MODEL
    revision: str | None = None
    engine: str = "chatterbox"        # chatterbox, or espeak (engines.EspeakEngine: drafts, tests)
    device: str = "auto"
    dtype: str | None = None
    # None = auto, resolved in __post_init__: batch_size becomes DEFAULT_BATCH_SIZE (the pipeline slices tasks by it)
    # with auto_batch set, so a CUDA engine uses its model's suggestion instead (worker.engine); chunks_per_task
    # becomes 2 x an explicit batch size, else DEFAULT_CHUNKS_PER_TASK.
    batch_size: int | None = None
    threads: int | None = None
    compile: bool = False             # torch.compile the decode step and S3Gen's estimator (CUDA)
    chunks_per_task: int | None = None
    voice: str | None = None
    seed: int = 0
    watermark: bool = True
    sampling: SynthesisParams = field(default_factory=SynthesisParams)
    stitching: Stitching = field(default_factory=Stitching)
    visibility_timeout: int = 1800
    heartbeat: float = 15.0
    max_resends: int = 5
    qa_queue: str = ""                # the QA step's own queue ("": QA inside synthesize); recorded in each job
    max_book_mb: float = 50.0
    max_book_hours: float = 200.0
    text: Mapping[str, object] = field(default_factory=dict)   # PrepareOptions fields (TOMECAST_<FIELD>)
    auto_batch: bool = field(init=False, default=False)         # batch_size was not given
    auto_chunks: bool = field(init=False, default=False)        # chunks_per_task was not given

    def __post_init__(self) -> None:
        object.__setattr__(self, "auto_batch", self.batch_size is None)
        object.__setattr__(self, "auto_chunks", self.chunks_per_task is None)
        if self.batch_size is None:
            object.__setattr__(self, "batch_size", DEFAULT_BATCH_SIZE)
        elif self.chunks_per_task is None and self.batch_size >= 1:
            object.__setattr__(self, "chunks_per_task", 2 * self.batch_size)   # a task feeds two full batches
        if self.chunks_per_task is None:
            object.__setattr__(self, "chunks_per_task", DEFAULT_CHUNKS_PER_TASK)
        if self.engine not in ("chatterbox", "espeak"):
            raise SettingsError(f"engine {self.engine!r} is not chatterbox or espeak")
        if self.batch_size < 1:
            raise SettingsError(f"batch size {self.batch_size} must be at least 1")
        if self.compile and not (self.device == "auto" or self.device.startswith("cuda")):
            raise SettingsError(f"compile needs a CUDA device, not {self.device!r}")
        if self.threads is not None and self.threads < 1:
            raise SettingsError(f"threads {self.threads} must be at least 1")
        if self.chunks_per_task < 1:
            raise SettingsError(f"chunks per task {self.chunks_per_task} must be at least 1")
        if self.visibility_timeout < 1:
            raise SettingsError(f"visibility timeout {self.visibility_timeout} must be at least 1 s")
        if self.heartbeat < 0.05:
            raise SettingsError(f"heartbeat {self.heartbeat} s must be at least 0.05 s")
        if self.max_resends < 1:
            raise SettingsError(f"max resends {self.max_resends} must be at least 1")
        if self.qa_queue and not QUEUE_NAME.fullmatch(self.qa_queue):
            raise SettingsError(f"QA queue {self.qa_queue!r} is not a queue name (letters, digits, '_', '-', '.')")
        if self.max_book_mb <= 0 or self.max_book_hours <= 0:
            raise SettingsError(f"book limits must be positive (max_book_mb={self.max_book_mb}, "
                                f"max_book_hours={self.max_book_hours})")
        _checked_params(self.sampling)
        try:
            PrepareOptions(**self.text)
        except (TextPrepError, TypeError) as exc:
            raise SettingsError(f"text options: {exc}") from None

    @property
    def chunks_per_call(self) -> int:
        """Chunks per engine call when synthesizing: the batch size given; with an auto batch a whole task, so a
        CUDA engine whose suggested batch is larger gets every chunk of the task at once (it fills its own slots)."""
        return self.chunks_per_task if self.auto_batch else self.batch_size

    def task_share(self, cuda: bool) -> int | None:
        """Chunks of a synthesize task this worker makes itself (it queues the rest as smaller tasks); None: all.

        A CUDA worker with an auto batch fills its batch from the whole task; any other worker takes two of its
        batches (``SMALL_TASK_CHUNKS`` with an auto batch)."""
        if cuda and self.auto_batch:
            return None
        return SMALL_TASK_CHUNKS if self.auto_batch else 2 * self.batch_size

    @property
    def backend_url(self) -> str:
        return self.result_backend or self.broker_url

    def job_options(self, *, priority: int = 5, prepare: Mapping[str, object] | None = None) -> JobOptions:
        """The options of a job submitted with these settings (what ``pipeline.jobs.submit_job`` takes)."""
        try:
            # --engine espeak travels with the job as its model name: whichever worker takes it speaks it so
            model = "espeak" if self.engine == "espeak" else self.model
            return JobOptions(model=model, revision=self.revision, seed=self.seed, sampling=self.sampling,
                              stitching=self.stitching, chunks_per_task=self.chunks_per_task,
                              prepare={**self.text, **(prepare or {})}, priority=priority,
                              qa_queue=self.qa_queue)
        except SpecError as exc:
            raise SettingsError(str(exc)) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, conv=str, default=None):
            raw = env.get("TOMECAST_" + name)
            if raw is None or raw == "":
                return default
            try:
                return conv(raw)
            except ValueError:
                raise SettingsError(f"TOMECAST_{name}={raw!r} is not a valid {conv.__name__}") from None

        base = cls()
        sampling = _checked_params(SynthesisParams(**{
            f.name: get(f.name.upper(), type(f.default), f.default) for f in dataclasses.fields(SynthesisParams)}))
        pauses = dict(base.stitching.pauses_ms)
        pauses.update(_parse_pauses(get("PAUSES", str, "")))
        stitching = _stitching(
            pauses_ms=pauses,
            loudness_lufs=get("LOUDNESS", float, base.stitching.loudness_lufs),
            true_peak_db=get("TRUE_PEAK", float, base.stitching.true_peak_db),
            head_ms=get("HEAD_MS", int, base.stitching.head_ms),
            tail_ms=get("TAIL_MS", int, base.stitching.tail_ms),
            format=get("FORMAT", str, base.stitching.format),
            bitrate=get("BITRATE", str, base.stitching.bitrate),
        )
        return cls(
            broker_url=get("BROKER_URL", str, base.broker_url),
            result_backend=get("RESULT_BACKEND", str, None),
            data_dir=Path(get("DATA", str, str(base.data_dir))).expanduser(),
            model=get("MODEL", str, base.model),
            revision=get("MODEL_REVISION", str, None),
            engine=get("ENGINE", str, base.engine),
            device=get("DEVICE", str, base.device),
            dtype=get("DTYPE", str, None),
            batch_size=get("BATCH_SIZE", int, None),
            threads=get("THREADS", int, None),
            compile=get("COMPILE", _parse_bool, False),
            chunks_per_task=get("CHUNKS_PER_TASK", int, None),
            voice=get("VOICE", str, None),
            seed=get("SEED", int, base.seed),
            watermark=get("WATERMARK", _parse_bool, True),
            sampling=sampling,
            stitching=stitching,
            visibility_timeout=get("VISIBILITY_TIMEOUT", int, base.visibility_timeout),
            heartbeat=get("HEARTBEAT", float, base.heartbeat),
            max_resends=get("MAX_RESENDS", int, base.max_resends),
            qa_queue=get("QA_QUEUE", str, base.qa_queue).strip(),
            max_book_mb=get("MAX_BOOK_MB", float, base.max_book_mb),
            max_book_hours=get("MAX_BOOK_HOURS", float, base.max_book_hours),
            text={f.name: v for f in dataclasses.fields(PrepareOptions)
                  if (v := get(f.name.upper(), _text_parser(f.default), None)) is not None},
        )

    def override(self, **flags) -> Settings:
        """A copy with every flag that is not None applied; sampling and stitching fields are accepted by name."""
        flags = {k: v for k, v in flags.items() if v is not None}
        samp = {k: flags.pop(k) for k in list(flags) if k in _field_names(SynthesisParams)}
        stit = {k: flags.pop(k) for k in list(flags) if k in _field_names(Stitching)}
        unknown = set(flags) - _init_names(Settings)
        if unknown:
            raise SettingsError(f"unknown settings {sorted(unknown)}")
        if "data_dir" in flags:
            flags["data_dir"] = Path(flags["data_dir"]).expanduser()
        # what was auto stays auto (resolved again: chunks per task follow a batch size given now)
        for name, auto in (("batch_size", self.auto_batch), ("chunks_per_task", self.auto_chunks)):
            if auto and name not in flags:
                flags[name] = None
        return dataclasses.replace(
            self,
            sampling=_checked_params(dataclasses.replace(self.sampling, **samp)),
            stitching=_stitching(**{**self.stitching.to_dict(), **stit}),
            **flags,
        )


def _stitching(**fields) -> Stitching:
    try:
        return Stitching(**fields)
    except SpecError as exc:
        raise SettingsError(str(exc)) from None


def _field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _init_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.init}


def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_parse_bool.__name__ = "boolean"


def _parse_files(raw: str) -> tuple[str, ...]:
    return tuple(p for p in raw.split(os.pathsep) if p.strip())


_parse_files.__name__ = "list of files"


def _text_parser(default):
    """How a TOMECAST_<FIELD> variable of a PrepareOptions field is read, by the field's default."""
    if isinstance(default, bool):
        return _parse_bool
    if isinstance(default, tuple):
        return _parse_files
    return str if default is None or isinstance(default, str) else type(default)


_PAUSE_FLAGS = tuple(k for k in PAUSE_KINDS if k != "chapter")


def _parse_pauses(raw: str) -> dict[str, int]:
    """``"sentence=300,paragraph=900"`` -> {"sentence": 300, "paragraph": 900} (milliseconds)."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, value = part.partition("=")
        if name.strip() == "chapter":   # one setting for one silence: the stitcher puts the tail there
            raise SettingsError(f"pause {part!r}: a chapter ends with its tail room tone, set by TOMECAST_TAIL_MS")
        if not sep or name.strip() not in _PAUSE_FLAGS or not value.strip().isdigit():
            raise SettingsError(f"pause {part!r} is not KIND=MILLISECONDS with KIND one of {', '.join(_PAUSE_FLAGS)}")
        out[name.strip()] = int(value)
    return out
