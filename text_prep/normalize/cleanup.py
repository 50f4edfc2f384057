"""What is not read as written: invisible characters, emoji, editorial tags and footnote markers, section
breaks, URLs and e-mail addresses, line-end hyphenation ("after-\\nlecture"), and blanks ("To ⸻")."""

from __future__ import annotations

import re

from text_prep.normalize.dictionary import is_word

__all__ = ["join_line_hyphens", "speak_blanks", "strip_marks"]

INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f]")
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\U000e0000-\U000e007f]"
)
_BRACKET_TAG = re.compile(r"\[(?:Illustration|Footnote|Sidenote|Transcriber'?s? [Nn]ote|Note|Blank Page)[^\]]*\]?",
                          re.I)
_FOOTNOTE_MARK = re.compile(r"\[(?:\d{1,3}|[a-z]|[*†‡§])\]|\{\d{1,3}\}|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|(?<=[\w.,;:!?\"”’])[*†‡]+")
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"“”]+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SECTION_BREAK = re.compile(r"\*(?:\s*\*)+|-(?:\s*-){3,}|_(?:\s*_){2,}|=(?:\s*=){2,}|~(?:\s*~){2,}")
_MARK_CHARS = frozenset("[{¹²³⁴⁵⁶⁷⁸⁹⁰*†‡")
_BREAK_CHARS = frozenset("*-_=~")

# A word broken at a line end: "after-\nlecture" (keep the hyphen) or "pro-\nceed" (join).
_LINE_HYPHEN = re.compile(r"([^\W\d_]+)-[ \t]*\r?\n([ \t]*)([^\W\d_]+)")
_FUNCTION_WORDS = frozenset("a an and as at but by for from in into nor of on or so than that the then to with".split())
# A blank standing for a suppressed name or word: "To ⸻", "your friend ⸻'s", "Mr. ——", "in ---- Lane".
_BLANK = re.compile(r"(?:⸺|⸻|—{2,}|-{4,}|_{4,})(?:[ \t]*(?:⸺|⸻|—{2,}))*")
_BLANK_BEFORE = re.compile(r"(?:^|[\s(“\"‘']|(?<![\w.])[B-HJ-Z])$")  # "To ⸻", "Mrs. T⸺"
_BLANK_AFTER = re.compile(r"(?:$|[\s,.;:!?)”\"’']|['’]s\b)")


def _joined(m: re.Match) -> str:
    a, indent, b = m.group(1), m.group(2), m.group(3)
    if len(indent) > 1 or b[0].isupper() and a[0].islower() or b.lower() in _FUNCTION_WORDS and not is_word(a + b):
        return m.group(0)  # a dash ending a verse line ("velvet-\n  and", "then-\nWe"), not a broken word
    if b[0].isupper() or is_word(a + "-" + b) or not is_word(a + b):
        return f"{a}-{b}"  # a real compound ("after-lecture", "well-known", "Anglo-Saxon")
    return a + b


def join_line_hyphens(text: str) -> str:
    return _LINE_HYPHEN.sub(_joined, text)


def speak_blanks(text: str) -> str:
    """ "blank" for a dash run that stands where a word was left out; a dash after a word ("I—— I") stays."""
    def blank(m: re.Match) -> str:
        before, after = m.string[max(0, m.start() - 2):m.start()], m.string[m.end():]
        line_before = m.string[:m.start()].rsplit("\n", 1)[-1]
        line_after = after.split("\n", 1)[0]
        if not (_BLANK_BEFORE.search(before) and _BLANK_AFTER.match(after)):
            return m.group(0)
        if not re.search(r"\w", line_before) and not re.search(r"\w", line_after):
            return m.group(0)  # alone on its line: a section break
        return " blank" if before[-1:].isalpha() else "blank"

    return _BLANK.sub(blank, text)


def _speakable_url(m: re.Match) -> str:
    url = m.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?)'’":
        trail = url[-1] + trail
        url = url[:-1]
    host = re.sub(r"^(?:https?|ftp)://", "", url, flags=re.I)
    host = re.sub(r"^www\.", "", host, flags=re.I).split("/", 1)[0].split("?", 1)[0]
    return host.replace(".", " dot ") + trail


def _speakable_email(m: re.Match) -> str:
    user, domain = m.group(0).split("@", 1)
    return f"{user.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def strip_marks(s: str) -> str:
    """Invisible characters, emoji, editorial tags, footnote markers and section breaks removed; line-end
    hyphens joined; blanks said; URLs and e-mail addresses made speakable."""
    s = INVISIBLE.sub("", s)
    s = EMOJI.sub("", s)
    chars = frozenset(s)
    if "\n" in chars and "-" in chars:
        s = join_line_hyphens(s)
    if chars & {"⸺", "⸻"} or "——" in s or "----" in s or "____" in s:
        s = speak_blanks(s)
    if "_" in chars:  # _italics_ in Gutenberg texts
        s = s.replace("_", "")
    if "[" in chars:
        s = _BRACKET_TAG.sub(" ", s)
    if chars & _MARK_CHARS:
        s = _FOOTNOTE_MARK.sub("", s)
    if chars & _BREAK_CHARS:
        s = _SECTION_BREAK.sub(" ", s)
    if "@" in chars:
        s = _EMAIL.sub(_speakable_email, s)
    if "www" in s or "://" in s:
        s = _URL.sub(_speakable_url, s)
    return s
