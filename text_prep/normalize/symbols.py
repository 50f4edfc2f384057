"""Symbols said as words: "&" -> "and", "°C" -> "degrees Celsius", "√2" -> "the square root of two",
"×" -> "times" (or "by" between numbers: "3×5 cards"), "#5" -> "number five", "and/or" -> "and or",
"31° 15′ 20″" -> "thirty-one degrees fifteen minutes twenty seconds" (or feet and inches: "5′ 6″")."""

from __future__ import annotations

import re

__all__ = ["NUMBER_SYMBOL_CHARS", "SYMBOL_CHARS", "say_number_symbols", "say_symbols"]

_SYMBOLS = [
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\w)@(?=\w)"), " at "),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"§§?\s?"), "section "),
    (re.compile(r"\s[+]\s|(?<=\d)\+(?=\d)"), " plus "),
    (re.compile(r"\s=\s"), " equals "),
    (re.compile(r"(?<=[A-Za-z])/(?=[A-Za-z])"), " "),
    (re.compile(r"\s?×\s?"), " times "),
    (re.compile(r"--+"), "—"),
]
# Before numbers are spelled out: they need the digits.
_NUMBER_SYMBOLS = [
    (re.compile(r"#\s?(?=\d)"), "number "),
    (re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)"), " by "),
    (re.compile(r"(?<=\d)\s?°\s?([CF])\b"), lambda m: " degrees " + ("Celsius" if m.group(1) == "C" else "Fahrenheit")),
    (re.compile(r"√\s?"), "the square root of "),
    (re.compile(r"−(?=\d)"), "minus "),
    (re.compile(r"(?<=\d)\s?′"), lambda m: _arc(m, "°", " minutes", " feet")),
    (re.compile(r"(?<=\d)\s?″"), lambda m: _arc(m, "minutes", " seconds", " inches")),
]


def _arc(m: re.Match, unit_before: str, arc: str, length: str) -> str:
    """Minutes and seconds of arc after degrees ("31° 15′"), else feet and inches ("5′ 6″")."""
    return arc if unit_before in m.string[max(0, m.start() - 24):m.start()] else length


SYMBOL_CHARS = frozenset("&@°§+=/-×")
NUMBER_SYMBOL_CHARS = frozenset("#°x×√′″−")


def say_number_symbols(s: str) -> str:
    for rx, repl in _NUMBER_SYMBOLS:
        s = rx.sub(repl, s)
    return s


def say_symbols(s: str) -> str:
    for rx, repl in _SYMBOLS:
        s = rx.sub(repl, s)
    return s
