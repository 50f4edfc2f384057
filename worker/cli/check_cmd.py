"""`tomecast check CLIP --text TEXT`: every QA check on one audio file against its text (``qa.clip.check_clip``,
the code the pipeline runs on every chunk). Exit 0 when every check passes, 1 when one fails, 2 on bad input."""

from __future__ import annotations

import argparse
import sys

from worker.cli.options import add_qa_options, qa_options

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="check one audio clip against its text (the pipeline's QA)",
                       description="Run every check of tomecast's QA on CLIP (wav, or anything ffmpeg decodes) "
                                   "against TEXT: speech duration, runaway, silences, clipping, DC offset, level, "
                                   "noise, a tail after the last word, and (with the asr extra) the words heard.\n"
                                   "Prints each check's verdict and figures. Exit 0: all pass; 1: a check failed; "
                                   "2: bad input.",
                       epilog="example: tomecast check take.wav --text \"The text it should say.\" --asr-model "
                              "small.en")
    p.add_argument("clip", help="the audio file")
    p.add_argument("--text", required=True, help="what the clip should say")
    p.add_argument("--language", default="en", metavar="TAG", help="the text's language (default en)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_qa_options(p)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from qa.asr import load_transcriber
    from qa.clip import check_clip
    from qa.errors import QAError
    from qa.settings import QASettings

    try:
        settings = QASettings.from_env(**qa_options(args))
        if not args.text.strip():
            raise QAError("--text is empty")
        transcriber = load_transcriber(settings)
        report = check_clip(args.clip, args.text, settings, asr=transcriber, language=args.language)
    except QAError as exc:
        print(f"tomecast: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    print(report.to_json() if args.json else report.render())
    return 0 if report.passed else 1
