"""Speech text of real passages: the table in data/normalize_cases.tsv (books of many shapes), one case each."""

from pathlib import Path

import pytest

from text_prep.normalize import speech_text

TABLE = Path(__file__).parent / "data" / "normalize_cases.tsv"


def _cases() -> list:
    cases = []
    for n, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        source, text, speech = line.split("\t")
        cases.append(pytest.param(text.replace("\\n", "\n"), speech, id=f"{source}:{n}"))
    return cases


CASES = _cases()


def test_the_table_is_large_and_varied():
    assert len(CASES) >= 200
    sources = {c.id.split(":")[0].removeprefix("wrapped:") for c in CASES}
    assert len(sources) >= 8  # novels, a play, poetry, a dictionary, natural history, an autobiography...


@pytest.mark.parametrize("text,speech", CASES)
def test_real_passage(text, speech):
    assert speech_text(text) == speech
