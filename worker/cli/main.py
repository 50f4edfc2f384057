"""`tomecast` entry point: builds the argument parser from the subcommand modules and maps errors to exits.

Each subcommand module exposes ``register(subparsers)``, which adds its parsers and sets ``func``; a new
command is a new ``*_cmd.py`` module listed in ``COMMAND_MODULES``, built from the option groups of
``worker.cli.options``. Commands import heavy parts (torch, the model) inside ``func`` only, so building the
parser and the light commands (prepare, submit, status, jobs, cancel, retry) never import torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Subcommand modules, in the order their commands appear in --help.
COMMAND_MODULES = (
    "worker.cli.prepare_cmd",
    "worker.cli.words_cmd",
    "worker.cli.model_cmd",
    "worker.cli.jobs_cmd",
    "worker.cli.report_cmd",
    "worker.cli.check_cmd",
    "worker.cli.maintenance_cmd",
)

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit code 2."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Every package's base user-facing error, when that package is importable without torch."""
    types: list[type[BaseException]] = [UserError]
    for mod, name in (("text_prep.errors", "TextPrepError"), ("model.errors", "ModelError"),
                      ("pipeline.errors", "PipelineError"), ("worker.errors", "WorkerError"),
                      ("qa.errors", "QAError"), ("engines.errors", "EngineError")):
        m = sys.modules.get(mod)
        if m is not None and hasattr(m, name):
            types.append(getattr(m, name))
    return tuple(types)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tomecast",
        description="Turn whole books into audiobooks with Chatterbox TTS.",
        epilog="Set TOMECAST_DEBUG=1 (or pass -v) for debug logs and full tracebacks.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, tracebacks on error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command group is not built yet
                continue
            raise
        module.register(sub)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into the closed pipe raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.verbose or os.environ.get("TOMECAST_DEBUG") == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not debug:   # its retries while offline are one warning each; the error that follows says it in one line
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        print("tomecast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:   # the reader went away (`tomecast status | head -2`): end quietly
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - mapped to one line below
        if debug:
            raise
        if isinstance(exc, _user_error_types() + (FileNotFoundError, IsADirectoryError, PermissionError)):
            print(f"tomecast: error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        print(f"tomecast: failed: {type(exc).__name__}: {exc} (TOMECAST_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
