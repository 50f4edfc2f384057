"""`tomecast prepare BOOK`: show (or print as JSON) the plan text_prep makes of a manuscript. Never imports torch."""

from __future__ import annotations

import argparse
import sys

from worker.cli.options import add_text_options, prepare_options

__all__ = ["WORDS_PER_MINUTE", "register", "summary"]

WORDS_PER_MINUTE = 155  # a typical audiobook narration pace, for the duration estimate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare",
        help="show the chapters and chunks a book becomes (no model needed)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read BOOK (.txt, .md, .html, .xhtml, .epub) and show its plan: chapters, chunk counts, "
                    "words and an estimated duration;\nwith --json, print the whole plan (every chunk's text as "
                    "written, speech as it will be spoken,\npause after it and content key) to stdout.\n\n"
                    "Front and back matter (contents, imprint, colophon, copyright pages, Gutenberg licence) is "
                    "left out\nand listed as skipped unless --front-matter is given.",
        epilog="exit status: 0 ok, 2 unusable input (one-line message on stderr)\n"
               "example: tomecast prepare book.epub --json > plan.json",
    )
    p.add_argument("book", help="the manuscript file")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--indent", type=int, default=None, help="indent the JSON (default: compact)")
    add_text_options(p)
    p.set_defaults(func=run)


def _duration(words: int) -> str:
    minutes = round(words / WORDS_PER_MINUTE)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def summary(book) -> str:
    """Human-readable overview of a plan."""
    lines = [f"{book.title}" + (f" by {book.author}" if book.author else "") + f" [{book.language}]", ""]
    width = max((len(c.title) for c in book.chapters), default=5)
    width = min(max(width, 7), 60)
    lines.append(f"{'#':>3}  {'chapter':<{width}}  {'chunks':>6}  {'words':>7}  {'duration':>10}")
    total_words = 0
    for ch in book.chapters:
        words = sum(len(c.speech.split()) for c in ch.chunks)
        total_words += words
        title = ch.title if len(ch.title) <= width else ch.title[: width - 1] + "…"
        lines.append(f"{ch.index + 1:>3}  {title:<{width}}  {len(ch.chunks):>6}  {words:>7}  {_duration(words):>10}")
    n_chunks = sum(len(ch.chunks) for ch in book.chapters)
    lines.append("")
    lines.append(f"{len(book.chapters)} chapters, {n_chunks} chunks, {total_words} words, "
                 f"about {_duration(total_words)} at {WORDS_PER_MINUTE} words per minute")
    if book.skipped:
        lines.append("skipped: " + "; ".join(book.skipped))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from text_prep import PrepareOptions, prepare

    options = PrepareOptions(**prepare_options(args))
    with tqdm(desc="chapters", unit="ch", disable=not sys.stderr.isatty(), leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        book = prepare(args.book, options, progress=progress)
    try:
        if args.json:
            book.write_json(sys.stdout, indent=args.indent)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(summary(book) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head
        sys.stdout = None  # nothing more can be written; do not fail again at exit
    return 0
