"""`tomecast words BOOK`: the names, non-dictionary and rare words of a book, to start a pronunciation lexicon.
Never imports torch."""

from __future__ import annotations

import argparse
import sys

from text_prep.words import KINDS
from worker.cli.options import add_text_options, prepare_options

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "words",
        help="list a book's names and unusual words, to fill a pronunciation lexicon",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Prepare BOOK as `tomecast prepare` does and list the words of its speech text a narrator may\n"
                    "say wrong, as word<TAB>count<TAB>kind under a header:\n"
                    "  name     capitalised wherever it appears (people, places, ships)\n"
                    "  unknown  not in the dictionary (dialect, coinages, foreign words)\n"
                    "  rare     in the dictionary but rare in present-day English\n"
                    "Sorted by kind, then most frequent first. Words the --lexicon files (and the user's own\n"
                    "lexicon) already respell are left out. With --template, print a lexicon file to fill in.",
        epilog="exit status: 0 ok, 2 unusable input (one-line message on stderr)\n"
               "example: tomecast words book.epub --kind name --template > book.tsv",
    )
    p.add_argument("book", help="the manuscript file")
    p.add_argument("--kind", action="append", choices=KINDS, dest="kinds",
                   help="only words of this kind; repeatable (default: all)")
    p.add_argument("--template", action="store_true",
                   help="print a lexicon file (every word as a commented 'word<TAB>word' line) instead of the list")
    add_text_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from text_prep import PrepareOptions, prepare
    from text_prep.lexicon import load_lexicon
    from text_prep.words import book_words, lexicon_template, words_tsv

    options = PrepareOptions(**prepare_options(args))
    lexicon = load_lexicon(options.lexicon)   # a bad file fails here, before the book is read
    # Listed from the speech without the lexicon, so a respelled word drops out instead of its respelling showing.
    book = prepare(args.book, options.replace(lexicon=()))
    kinds = set(args.kinds or KINDS)
    rows = [r for r in book_words(book) if r[2] in kinds and lexicon.apply(r[0]) == r[0]]
    try:
        sys.stdout.write(lexicon_template(rows) if args.template else words_tsv(rows))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head
        sys.stdout = None
    return 0
