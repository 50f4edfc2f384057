"""Input limits, each configurable (``worker.settings``) and each a one-line ``LimitError`` naming the limit and
how to raise it: the manuscript's size (checked before a job is made) and the book's length in hours of speech
(estimated from its planned text, checked before synthesis). Text in another script than the book's language
is warned about.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from pipeline.errors import LimitError
from pipeline.states import JobState
from pipeline.store import Store, now_iso

__all__ = ["CHARS_PER_SECOND", "check_book_length", "check_book_size", "foreign_script_share", "script_warning"]

log = logging.getLogger(__name__)

CHARS_PER_SECOND = 15.0   # English narration: ~150 words a minute of ~6 characters with the space


def check_book_size(path: Path, max_mb: float) -> None:
    size = path.stat().st_size
    if size > max_mb * 1e6:
        raise LimitError(f"book file {str(path)!r} is {size / 1e6:.1f} MB, over the {max_mb:g} MB limit "
                         f"(TOMECAST_MAX_BOOK_MB raises it)")


def book_hours(book) -> float:
    """Estimated hours of speech of a text_prep Book."""
    chars = sum(len(c.speech) for ch in book.chapters for c in ch.chunks)
    return chars / CHARS_PER_SECOND / 3600


def check_book_length(store: Store, job_id: str, max_hours: float) -> None:
    """Fail the job (and raise LimitError) when its planned book is longer than ``max_hours``; warn about text in
    another script than the book's language."""
    from pipeline.steps import load_plan

    if store.state(job_id).final:
        return
    book = load_plan(store, job_id)
    warning = script_warning(book)
    if warning:
        log.warning("job %s: %s", job_id, warning)
    hours = book_hours(book)
    if hours > max_hours:
        msg = (f"{book.title}: about {hours:.0f} hours of speech, over the {max_hours:g} hour limit "
               f"(TOMECAST_MAX_BOOK_HOURS raises it)")
        store.update_state(job_id, state=JobState.FAILED, error=msg, finished=now_iso())
        raise LimitError(msg)


def foreign_script_share(text: str, script: str = "LATIN") -> tuple[float, str]:
    """(share of letters not in ``script``, a few of them) for ``text``."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0, ""
    foreign = [ch for ch in letters if not unicodedata.name(ch, "").startswith(script)]
    return len(foreign) / len(letters), "".join(dict.fromkeys(foreign))[:8]


def script_warning(book, threshold: float = 0.02) -> str | None:
    """A warning when an English book has more than ``threshold`` of its letters in another script."""
    if not (book.language or "en").lower().startswith("en"):
        return None
    share, sample = foreign_script_share(" ".join(c.speech for ch in book.chapters for c in ch.chunks))
    if share <= threshold:
        return None
    return (f"{share:.0%} of the letters are not Latin script (e.g. {sample!r}): the English model will not "
            f"pronounce them; pass --language with the book's language for the multilingual model")
