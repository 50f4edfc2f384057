"""Command-line options, one definition per group; each command adds only the groups it acts on.

    group        flags                                                     commands
    data         --data                                                    every command with a data folder
    broker       --broker                                                  submit, retry, worker
    model        --model --revision                                        say, voice, convert, submit, worker
    engine       --device --dtype --threads --compile                      say, voice, convert, worker
    batch        --batch-size                                              convert, worker
    watermark    --no-watermark                                            say, convert, worker (voice: accepted)
    voice        --voice                                                   say, convert, submit
    sampling     --seed --temperature --top-p ... --tokens-per-char        say, convert, submit
    tasks        --chunks-per-task                                         submit
    qa queue     --qa-queue                                                submit, worker
    output       --format --bitrate --loudness --head-ms --tail-ms         convert, submit
    text         one flag per text_prep.PrepareOptions field (--max-chars --notes ... --lexicon --tags)
                                                                               prepare, convert, submit, words
    qa           one flag per qa.QASettings field (--no-asr --asr-model --qa-max-takes --no-repair ...)
                                                                               convert, submit, check
    speech       --engine chatterbox|espeak                                convert, submit

Every flag overrides its ``TOMECAST_*`` variable (``worker.settings``); shown defaults are the built-in ones
(sampling: ``model.params.SynthesisParams``, text: ``text_prep.PrepareOptions``, the one place each is defined:
the text flags are made from its fields, their help from its docstring).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import re
from pathlib import Path

from model.params import MAX_FLOW_STEPS, MAX_NEW_TOKENS, SynthesisParams
from pipeline.stitch import FORMATS, Stitching
from text_prep.lexicon import USER_LEXICON
from text_prep.types import PrepareOptions
from worker.settings import DEFAULT_BATCH_SIZE, DEFAULT_CHUNKS_PER_TASK, SMALL_TASK_CHUNKS, Settings

__all__ = [
    "CLIP_HELP",
    "add_batch_options",
    "add_broker_options",
    "add_data_options",
    "add_engine_options",
    "add_model_options",
    "add_output_options",
    "add_sampling_options",
    "add_task_options",
    "add_text_options",
    "add_voice_options",
    "add_qa_options",
    "add_qa_queue_options",
    "add_speech_engine_options",
    "add_watermark_options",
    "prepare_options",
    "qa_options",
    "settings_from",
    "user_lexicon",
]

# One description of a good reference clip, for --voice and `tomecast voice` (README: "Choosing a reference clip").
CLIP_HELP = ("10 s or more of one person reading calmly, no music or noise; the model uses the first 10 s and "
             "refuses clips under 3 s; wav, flac, mp3, m4a, ogg")

_P = SynthesisParams()
_S = Stitching()


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="data folder shared by all workers (TOMECAST_DATA)")


def add_broker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", metavar="URL", help="Redis broker URL (TOMECAST_BROKER_URL)")


def add_model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", help="Hugging Face repo id or local checkpoint folder (TOMECAST_MODEL, "
                                   f"default {Settings.model})")
    g.add_argument("--revision", help="model revision (TOMECAST_MODEL_REVISION)")


ENGINE_GROUP = "engine (the process that runs the model)"


def _engine_group(p: argparse.ArgumentParser):
    """The engine group of ``p`` (made on first use), so engine flags added by several helpers list together."""
    for g in p._action_groups:
        if g.title == ENGINE_GROUP:
            return g
    return p.add_argument_group(ENGINE_GROUP)


def add_engine_options(p: argparse.ArgumentParser) -> None:
    g = _engine_group(p)
    g.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (TOMECAST_DEVICE, default auto)")
    g.add_argument("--dtype", help="float32, bfloat16 or float16 (TOMECAST_DTYPE, default: the model's choice)")
    g.add_argument("--threads", type=int, metavar="N", help="torch CPU threads per process (TOMECAST_THREADS)")
    g.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the original model's decode step and S3Gen's estimator: CUDA only, minutes "
                        "of compiling per process and shape, then faster (TOMECAST_COMPILE=1)")


def add_batch_options(p: argparse.ArgumentParser) -> None:
    _engine_group(p).add_argument("--batch-size", type=int, dest="batch_size", metavar="N",
                   help=f"texts per engine batch (TOMECAST_BATCH_SIZE; default: on CUDA what fits the free memory, "
                        f"else {DEFAULT_BATCH_SIZE})")


def add_watermark_options(p: argparse.ArgumentParser, *, help: str | None = None) -> None:
    _engine_group(p).add_argument("--no-watermark", action="store_false", dest="watermark", default=None,
                   help=help or "do not embed the Perth watermark (TOMECAST_WATERMARK=0)")


def add_voice_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--voice", metavar="CLIP", help=f"voice clip ({CLIP_HELP}) or a .voice file made by "
                                                   "`tomecast voice` (TOMECAST_VOICE); default: the built-in voice")


def add_sampling_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sampling (TOMECAST_<NAME> sets a default; shown: the built-in ones)")
    g.add_argument("--seed", type=int, metavar="N",
                   help="seed; each chunk's seed derives from it and its text (default 0)")
    g.add_argument("--temperature", type=float, metavar="X",
                   help=f"randomness of speech tokens, > 0; lower is flatter (default {_P.temperature})")
    g.add_argument("--top-p", type=float, metavar="X", dest="top_p",
                   help=f"nucleus sampling: keep the likeliest tokens up to this mass, (0, 1] (default {_P.top_p})")
    g.add_argument("--min-p", type=float, metavar="X", dest="min_p",
                   help="drop tokens less likely than this times the likeliest, [0, 1] "
                        f"(default {_P.min_p})")
    g.add_argument("--repetition-penalty", "--rep-penalty", type=float, metavar="X", dest="repetition_penalty",
                   help=f"penalty on tokens already spoken, > 0; 1 is off (default {_P.repetition_penalty})")
    g.add_argument("--cfg-weight", type=float, metavar="X", dest="cfg_weight",
                   help="how closely delivery follows the reference clip, >= 0; lower for fast speakers "
                        f"(default {_P.cfg_weight})")
    g.add_argument("--exaggeration", type=float, metavar="X",
                   help=f"emotion exaggeration, [0, 2]; 0.5 is neutral (default {_P.exaggeration})")
    g.add_argument("--max-new-tokens", type=int, metavar="N", dest="max_new_tokens",
                   help=f"cap on speech tokens per chunk, [1, {MAX_NEW_TOKENS}] (default {_P.max_new_tokens})")
    g.add_argument("--flow-steps", type=int, metavar="N", dest="n_flow_steps",
                   help=f"flow-matching solver steps, [1, {MAX_FLOW_STEPS}] (default {_P.n_flow_steps})")
    g.add_argument("--flow-cfg-rate", type=float, metavar="X", dest="flow_cfg_rate",
                   help=f"flow classifier-free guidance, >= 0 (default {_P.flow_cfg_rate})")
    g.add_argument("--tokens-per-char", type=float, metavar="X", dest="tokens_per_char",
                   help="runaway cap: at most 50 + this x characters speech tokens per chunk; 0: off "
                        f"(default {_P.tokens_per_char:g})")


def add_task_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chunks-per-task", type=int, metavar="N", dest="chunks_per_task",
                   help=f"chunks per synthesize task (TOMECAST_CHUNKS_PER_TASK, default {DEFAULT_CHUNKS_PER_TASK}: a "
                        f"GPU's batch; a worker without CUDA makes {SMALL_TASK_CHUNKS} of a task and queues the rest)")


def add_qa_queue_options(p: argparse.ArgumentParser, *, worker: bool = False) -> None:
    help = ("the QA queue this worker may serve (--queues NAME) and its watchdog watches" if worker else
            "check the takes in their own tasks on this queue, served by CPU workers (`tomecast worker --queues "
            "NAME`), while GPU workers synthesize; re-takes still run on the GPU workers")
    p.add_argument("--qa-queue", metavar="NAME", dest="qa_queue",
                   help=f"{help} (TOMECAST_QA_QUEUE; default none: QA inside the synthesize tasks)")


def add_output_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--format", choices=FORMATS, help=f"chapter file format (TOMECAST_FORMAT, default {_S.format})")
    g.add_argument("--bitrate", help=f"mp3/opus/AAC bit rate (TOMECAST_BITRATE, default {_S.bitrate})")
    g.add_argument("--loudness", type=float, metavar="LUFS", dest="loudness_lufs",
                   help=f"target integrated loudness, LUFS (TOMECAST_LOUDNESS, default {_S.loudness_lufs:g})")
    g.add_argument("--head-ms", type=int, metavar="MS", dest="head_ms",
                   help=f"room tone (silence) before each chapter's first sound, ms; ACX asks 500-1000 "
                        f"(TOMECAST_HEAD_MS, default {_S.head_ms})")
    g.add_argument("--tail-ms", type=int, metavar="MS", dest="tail_ms",
                   help=f"room tone after each chapter's last sound, ms; ACX asks 1000-5000 "
                        f"(TOMECAST_TAIL_MS, default {_S.tail_ms})")


class _NoTitles(argparse.Action):
    """``prepare --no-titles`` (old spelling): neither the opening nor chapter titles."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.speak_title = namespace.speak_chapter_titles = False


# Text flags whose spelling is not the generated one (--<field>, or --no-<field> for a field that is on by default).
_TEXT_SPELLING = {"speak_title": "--no-title", "speak_chapter_titles": "--no-chapter-titles",
                  "include_front_matter": "--front-matter"}
_TEXT_HELP = {
    "lexicon": f"pronunciation lexicon: word<TAB>respelling per line (docs/usage.md); repeatable, a later file wins; "
               f"{USER_LEXICON}, when it exists, is read first",
    "language": "override the book's language (BCP 47, e.g. en, en-GB, fr)",
}
_TEXT_METAVAR = {int: "N", float: "X", str: "TEXT", "language": "TAG"}


def _field_docs(cls) -> dict[str, str]:
    """The ``name: text`` entries of a dataclass docstring (continuation lines indented deeper), by field."""
    names = {f.name for f in dataclasses.fields(cls)}
    docs: dict[str, str] = {}
    name = None
    for line in (cls.__doc__ or "").splitlines():
        m = re.match(r"^    (\w+): (.*)$", line)
        if m and m.group(1) in names:
            name = m.group(1)
            docs[name] = m.group(2).strip()
        elif name and line.startswith("        ") and line.strip():
            docs[name] += " " + line.strip()
        else:
            name = None
    return {k: _plain(v) for k, v in docs.items()}


def _plain(doc: str) -> str:
    return doc.replace("``", "").replace("%", "%%").strip().rstrip(".")


def _add_text_flag(g, f: dataclasses.Field, doc: str) -> None:
    default = f.default
    help = _TEXT_HELP.get(f.name, doc)
    if isinstance(default, bool):
        flag = _TEXT_SPELLING.get(f.name, ("--no-" if default else "--") + f.name.replace("_", "-"))
        g.add_argument(flag, dest=f.name, default=None, action="store_false" if default else "store_true",
                       help=help + (" (default: on)" if default else ""))
    elif isinstance(default, enum.Enum):   # the policy's own docstring says what the choices do
        kind = type(default)
        summary = " ".join((kind.__doc__ or doc).strip().split("\n\n")[0].split())   # its first paragraph
        help = _TEXT_HELP.get(f.name, _plain(summary))
        g.add_argument("--" + f.name.replace("_", "-"), dest=f.name, choices=[str(v) for v in kind],
                       help=f"{help} (default {default})")
    elif isinstance(default, (int, float, str)) or default is None:
        kind = type(default) if default is not None else str
        shown = "" if default is None else f" (default {default})"
        g.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind,
                       metavar=_TEXT_METAVAR.get(f.name, _TEXT_METAVAR[kind]), help=help + shown)
    elif isinstance(default, tuple):   # a list of files: the flag repeats
        g.add_argument("--" + f.name.replace("_", "-"), dest=f.name, action="append", metavar="FILE", help=help)
    # another kind of field has no flag yet (tests/cli/test_text_options.py names it)


def add_text_options(p: argparse.ArgumentParser) -> None:
    """One flag per ``text_prep.PrepareOptions`` field, made from the dataclass (help from its docstring, defaults
    from its defaults); ``--no-titles``, ``--no-opening`` and ``--include-front-matter`` are the old ``prepare``
    spellings, still accepted and not shown."""
    g = p.add_argument_group("text preparation")
    docs = _field_docs(PrepareOptions)
    for f in dataclasses.fields(PrepareOptions):
        _add_text_flag(g, f, docs.get(f.name, f.name.replace("_", " ")))
    g.add_argument("--no-opening", action="store_false", dest="speak_title", help=argparse.SUPPRESS)
    g.add_argument("--no-titles", action=_NoTitles, help=argparse.SUPPRESS)
    g.add_argument("--include-front-matter", action="store_true", dest="include_front_matter",
                   help=argparse.SUPPRESS)


# QA flags whose spelling is not the generated one (--asr-<x> for asr fields, --qa-<field> for the rest,
# --no-... for a switch that is on by default)
_QA_SPELLING = {"asr": "--no-asr", "repair": "--no-repair", "split": "--no-qa-split"}
_QA_HELP = {
    "asr": "no ASR check (signal checks only)",
    "asr_model": "Whisper model for the ASR check: a hub id (base.en, small.en, large-v3) or a local CTranslate2 "
                 "folder",
    "repair": "check and record only: no re-takes, trims or splits",
    "max_takes": "re-takes with new seeds of a chunk that fails a check, before splitting it",
    "split": "never split a chunk that still fails after its re-takes",
}


_QA_METAVAR = {"asr_model": "NAME_OR_PATH", "asr_device": "DEVICE", "asr_compute_type": "TYPE"}


def qa_flag(name: str, default) -> str:
    """The flag of a ``qa.QASettings`` field."""
    if name in _QA_SPELLING:
        return _QA_SPELLING[name]
    if isinstance(default, bool):
        return "--no-qa-" + name.replace("_", "-") if default else "--qa-" + name.replace("_", "-")
    return "--" + (name if name.startswith("asr_") else "qa_" + name).replace("_", "-")


def add_qa_options(p: argparse.ArgumentParser) -> None:
    """One flag per ``qa.QASettings`` field (each also ``TOMECAST_QA_<FIELD>``); shown defaults are QASettings'."""
    from qa.settings import QASettings

    g = p.add_argument_group("quality checks (TOMECAST_QA_<FIELD> sets a default)")
    base = QASettings()
    for f in dataclasses.fields(QASettings):
        default = getattr(base, f.name)
        help = _QA_HELP.get(f.name, f.name.replace("_", " "))
        if isinstance(default, bool):
            g.add_argument(qa_flag(f.name, default), dest="qa_" + f.name, default=None,
                           action="store_false" if default else "store_true",
                           help=help + f" (TOMECAST_QA_{f.name.upper()})")
        else:
            g.add_argument(qa_flag(f.name, default), dest="qa_" + f.name, type=type(default),
                           metavar=_QA_METAVAR.get(f.name, _TEXT_METAVAR.get(type(default), "X")),
                           help=f"{help} (TOMECAST_QA_{f.name.upper()}, default {default})")


def qa_options(args: argparse.Namespace) -> dict:
    """The QA fields given as flags (checked with the ``TOMECAST_QA_*`` variables: ``qa.SettingsError``); a job
    records them (``JobOptions.qa``), the process that runs it adds its own variables under them."""
    from qa.errors import SettingsError
    from qa.settings import QASettings

    given = {f.name: getattr(args, "qa_" + f.name) for f in dataclasses.fields(QASettings)
             if getattr(args, "qa_" + f.name, None) is not None}
    QASettings.from_env(**given)
    model = given.get("asr_model")
    if model and ("/" in model or model.startswith(".")) and not Path(model).expanduser().is_dir():
        raise SettingsError(f"--asr-model {model}: no such folder (give a local model folder or a hub id)")
    return given


ENGINES = ("chatterbox", "espeak")


def add_speech_engine_options(p: argparse.ArgumentParser) -> None:
    _engine_group(p).add_argument(
        "--engine", choices=ENGINES, help="speech engine (TOMECAST_ENGINE, default chatterbox): espeak speaks the "
                                          "book with espeak-ng in minutes, for proof-listening pronunciation and "
                                          "chapter structure before spending GPU time (no voice cloning)")


def user_lexicon() -> list[Path]:
    """The user's own lexicon (``text_prep.lexicon.USER_LEXICON``) when it exists: read before a book's files."""
    path = USER_LEXICON.expanduser()
    return [path] if path.is_file() else []


def prepare_options(args: argparse.Namespace) -> dict:
    """The text options as ``text_prep.PrepareOptions`` fields: ``TOMECAST_<FIELD>`` variables, overridden by
    the flags given; the lexicon is the user's file (when it exists) then the ``--lexicon`` files (without any,
    ``TOMECAST_LEXICON``'s), in order."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(PrepareOptions)
             if getattr(args, f.name, None) is not None}
    out = {**Settings.from_env().text, **given}
    lexicon = [str(p) for p in (*user_lexicon(), *out.pop("lexicon", ()))]
    if lexicon:
        out["lexicon"] = lexicon
    return out


_SETTING_FLAGS = ("model", "revision", "device", "dtype", "voice", "seed", "temperature", "top_p", "min_p",
                  "repetition_penalty", "cfg_weight", "exaggeration", "max_new_tokens", "n_flow_steps", "flow_cfg_rate",
                  "tokens_per_char", "batch_size", "threads", "compile", "chunks_per_task", "watermark", "format",
                  "bitrate", "loudness_lufs", "head_ms", "tail_ms", "engine", "qa_queue")


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings.from_env() with every flag given on the command line applied (validated: SettingsError)."""
    flags = {k: getattr(args, k) for k in _SETTING_FLAGS if getattr(args, k, None) is not None}
    if getattr(args, "data", None):
        flags["data_dir"] = args.data
    if getattr(args, "broker", None):
        flags["broker_url"] = args.broker
    return Settings.from_env().override(**flags)
