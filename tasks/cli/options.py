"""Shared command-line options: every engine and stitching setting as a flag that overrides the environment."""

from __future__ import annotations

import argparse

from worker.settings import FORMATS, Settings

__all__ = ["add_engine_options", "add_prepare_options", "add_service_options", "prepare_options", "settings_from"]


def add_service_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("service")
    g.add_argument("--data", metavar="DIR", help="data folder shared by all workers (TOMECAST_DATA)")
    g.add_argument("--broker", metavar="URL", help="Redis broker URL (TOMECAST_BROKER_URL)")


def add_engine_options(p: argparse.ArgumentParser, *, voice: bool = True, stitching: bool = True,
                       sampling: bool = True, watermark: bool = True) -> None:
    """Model flags; ``sampling`` adds the per-job ones (seed, sampling, chunks per task), absent on workers;
    ``watermark`` the engine's watermark switch, absent on submit (the workers' setting decides)."""
    g = p.add_argument_group("model and sampling (defaults from TOMECAST_* variables)")
    g.add_argument("--model", help="Hugging Face repo id or local checkpoint folder (TOMECAST_MODEL)")
    g.add_argument("--revision", help="model revision (TOMECAST_MODEL_REVISION)")
    g.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (TOMECAST_DEVICE)")
    g.add_argument("--dtype", help="float32, bfloat16 or float16 (TOMECAST_DTYPE)")
    if voice:
        g.add_argument("--voice", metavar="CLIP", help="voice clip (wav/flac/mp3/m4a, 5-20 s) or a .voice file; "
                                                      "default: the model's built-in voice")
    if sampling:
        g.add_argument("--seed", type=int, help="job seed; each chunk's seed derives from it and its text")
        g.add_argument("--temperature", type=float)
        g.add_argument("--top-p", type=float, dest="top_p")
        g.add_argument("--min-p", type=float, dest="min_p")
        g.add_argument("--repetition-penalty", "--rep-penalty", type=float, dest="repetition_penalty")
        g.add_argument("--cfg-weight", type=float, dest="cfg_weight")
        g.add_argument("--exaggeration", type=float, help="emotion exaggeration, 0..2 (0.5 neutral)")
        g.add_argument("--max-new-tokens", type=int, dest="max_new_tokens", help="cap on speech tokens per chunk")
        g.add_argument("--flow-steps", type=int, dest="n_flow_steps", help="flow-matching solver steps")
        g.add_argument("--flow-cfg-rate", type=float, dest="flow_cfg_rate", help="flow classifier-free guidance")
        g.add_argument("--tokens-per-char", type=float, dest="tokens_per_char",
                       help="runaway cap: at most 50 + this x characters speech tokens per chunk; 0: off (default 6)")
    g.add_argument("--batch-size", type=int, dest="batch_size", help="texts per engine batch (TOMECAST_BATCH_SIZE)")
    g.add_argument("--threads", type=int, help="torch CPU threads per process (TOMECAST_THREADS)")
    if sampling:
        g.add_argument("--chunks-per-task", type=int, dest="chunks_per_task",
                       help="chunks per synthesize task (TOMECAST_CHUNKS_PER_TASK)")
    if watermark:
        g.add_argument("--no-watermark", action="store_false", dest="watermark", default=None,
                       help="do not embed the Perth watermark")
    if stitching:
        s = p.add_argument_group("output")
        s.add_argument("--format", choices=FORMATS, help="chapter file format (default mp3)")
        s.add_argument("--bitrate", help="mp3/opus/AAC bit rate (default 64k)")
        s.add_argument("--loudness", type=float, dest="loudness_lufs", help="target LUFS (default -18)")


def add_prepare_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("text preparation")
    g.add_argument("--max-chars", type=int, dest="max_chars", help="longest chunk in characters (default 300)")
    g.add_argument("--no-title", action="store_false", dest="speak_title", default=None,
                   help="do not open with a spoken 'Title, by Author'")
    g.add_argument("--no-chapter-titles", action="store_false", dest="speak_chapter_titles", default=None,
                   help="do not speak chapter titles")
    g.add_argument("--front-matter", action="store_true", dest="include_front_matter", default=None,
                   help="keep front and back matter (contents, imprint, colophon)")
    g.add_argument("--language", help="override the book's language (BCP 47, e.g. en)")


def prepare_options(args: argparse.Namespace) -> dict:
    keys = ("max_chars", "speak_title", "speak_chapter_titles", "include_front_matter", "language")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


_SETTING_FLAGS = ("model", "revision", "device", "dtype", "voice", "seed", "temperature", "top_p", "min_p",
                  "repetition_penalty", "cfg_weight", "exaggeration", "max_new_tokens", "n_flow_steps", "flow_cfg_rate",
                  "tokens_per_char", "batch_size", "threads", "chunks_per_task", "watermark", "format", "bitrate",
                  "loudness_lufs")


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings.from_env() with every flag given on the command line applied."""
    flags = {k: getattr(args, k) for k in _SETTING_FLAGS if getattr(args, k, None) is not None}
    if getattr(args, "data", None):
        flags["data_dir"] = args.data
    if getattr(args, "broker", None):
        flags["broker_url"] = args.broker
    return Settings.from_env().override(**flags)
