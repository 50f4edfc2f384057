"""Which tables a narrator reads: a two-column list of words (a cast list, "King   Rob Moore") is read row by
row ("King, Rob Moore."); a table of figures or of three or more columns (a chart, a timetable, strata with
depths) is skipped by default (``TablesPolicy.SKIP``) and read row by row only when asked (``ROWS``)."""

from __future__ import annotations

import re

from text_prep.types import TablesPolicy

__all__ = ["read_rows", "row_speech"]

_FIGURE = re.compile(r"^[\W\d_]*\d[\W\d_]*$|^[\W_]*$")  # "1,250", "$2.00", "5", "—"


def _data_table(rows: list[list[str]]) -> bool:
    cells = [c for r in rows for c in r]
    if not cells:
        return True
    if max(len(r) for r in rows) >= 3:
        return True
    figures = sum(1 for c in cells if _FIGURE.match(c) or len(c.rstrip(".")) <= 1)
    return figures * 5 >= len(cells)


def read_rows(rows: list[list[str]], policy: TablesPolicy) -> bool:
    """True when the table's rows are to be read (policy ROWS, or a list of words), False to skip it."""
    return policy == TablesPolicy.ROWS or not _data_table(rows)


def row_speech(cells: list[str]) -> str:
    """A row as one sentence: cells joined by commas, a final period."""
    text = ", ".join(c.strip().rstrip(",;") for c in cells if c.strip())
    return text if text[-1:] in ".!?" or not text else text + "."
