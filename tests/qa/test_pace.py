"""PaceModel: the prior band until enough chunks are accepted, then a band around the book's own pace."""

import math

import pytest

from qa.pace import PaceModel, letters
from qa.settings import QASettings


def test_letters_count_only_letters_and_digits():
    assert letters("It's 42, sir!") == 8


def test_prior_until_learned_then_book_pace():
    s = QASettings()
    p = PaceModel(s)
    text = "x" * 130  # 10 s at the prior 13 letters/s
    assert p.expect(text) == pytest.approx((10.0, 10 * s.prior_min_ratio, 10 * s.prior_max_ratio))
    for i in range(s.learned_after):
        p.accept(text, 12.0 + (i % 2) * 0.2)
    exp, lo, hi = p.expect(text)
    assert p.learned and exp == pytest.approx(12.1, rel=0.01)
    assert lo == pytest.approx(exp * math.exp(-s.learned_spread), rel=0.02)
    assert PaceModel.from_dict(p.to_dict(), s).expect(text) == (exp, lo, hi)


def test_short_titles_neither_teach_nor_use_the_learned_band():
    s = QASettings()
    p = PaceModel(s)
    p.accept("Hi.", 3.0)
    assert not p.to_dict()["logs"]
