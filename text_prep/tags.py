"""Turbo's paralinguistic tags in a manuscript ("[laugh]", "[sigh]", "[whispering]"...): kept or stripped.

``TAGS`` is the list of ``model.turbo.tags.TURBO_TAGS`` (text_prep never imports model; a test holds the two
equal). Tags match exactly as written, case-sensitive, as the Turbo tokenizer's added tokens do, so an author's
"[Laughs]" or a play's "[_Exit._]" is not one. ``TagsPolicy``: ``strip`` (default) removes them from the speech
text with clean spacing ("Well [sigh] fine." says "Well fine."); ``keep`` passes them verbatim, one token each,
to a Turbo model (the CLI refuses it with any other model).

Normalization would read a bracket's word aloud, so tags do not go through it as brackets: ``mask`` puts a
placeholder word of the same length in place of each tag (spans stay offsets into the source text, the chunker
sees one word), and ``unmask`` turns the placeholders of a speech text back into tags or removes them.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["SOUND_TAGS", "STYLE_TAGS", "TAGS", "TagsPolicy", "find_tags", "has_placeholder", "mask", "unmask"]

SOUND_TAGS = ("[laugh]", "[chuckle]", "[sigh]", "[gasp]", "[cough]", "[clear throat]", "[sniff]", "[groan]",
              "[shush]")
STYLE_TAGS = ("[whispering]", "[angry]", "[fear]", "[surprised]", "[crying]", "[happy]", "[sarcastic]",
              "[dramatic]", "[narration]", "[advertisement]")
TAGS = SOUND_TAGS + STYLE_TAGS


class TagsPolicy(StrEnum):
    """Turbo's paralinguistic tags ("[laugh]", "[sigh]"...) in the speech text: removed (every model) or kept
    verbatim (Turbo only)."""

    STRIP = "strip"
    KEEP = "keep"


# A placeholder is lower-case letters only (normalization leaves such a word as it is): "zqj", a letter naming
# the tag, "q" up to the tag's length. No English word holds "zqj".
_PREFIX = "zqj"
_PLACEHOLDERS = {tag: _PREFIX + chr(ord("a") + i) + "q" * (len(tag) - len(_PREFIX) - 1) for i, tag in enumerate(TAGS)}
_TAG_OF = {p: t for t, p in _PLACEHOLDERS.items()}
_CLOSING = ".,!?;:)]}”’…"   # after these a removed tag leaves no space
_OPENING = "\n([{“‘"        # nor before these


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_TAG = re.compile(_alternation(TAGS))
_PLACEHOLDER = re.compile(rf"[ \t]*(?:{_alternation(_TAG_OF)})[ \t]*")


def find_tags(text: str) -> list[str]:
    """The tags of ``text``, in order."""
    return _TAG.findall(text)


def mask(text: str) -> str:
    """``text`` with each tag replaced by its placeholder word (same length)."""
    if "[" not in text:
        return text
    return _TAG.sub(lambda m: _PLACEHOLDERS[m.group()], text)


def has_placeholder(speech: str) -> bool:
    return _PREFIX in speech and _PLACEHOLDER.search(speech) is not None


_SPACES = re.compile(r"[ \t]{2,}")


def _quote_opens(before: str) -> bool:
    return before[-1] in "\"'" and (len(before) == 1 or before[-2].isspace())


def _quote_closes(after: str) -> bool:
    return after[0] in "\"'" and (len(after) == 1 or not after[1].isalnum())


def unmask(speech: str, policy: TagsPolicy | str = TagsPolicy.STRIP) -> str:
    """A speech text made from masked text: placeholders back to their tags (``keep``), or removed, leaving one
    space between words and none before punctuation or at either end (``strip``)."""
    if _PREFIX not in speech:
        return speech
    if TagsPolicy(policy) == TagsPolicy.KEEP:
        return _PLACEHOLDER.sub(lambda m: m.group().replace(m.group().strip(), _TAG_OF[m.group().strip()]), speech)

    def gap(m: re.Match[str]) -> str:
        before, after = speech[: m.start()], speech[m.end():]
        if not before or not after or before[-1] in _OPENING or after[0] in _CLOSING or after[0] == "\n" \
                or _quote_opens(before) or _quote_closes(after):
            return ""
        return " "

    out = _PLACEHOLDER.sub(gap, speech)
    return _SPACES.sub(" ", out).strip(" \t")
