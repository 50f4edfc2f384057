"""Paralinguistic tags of the Turbo tokenizer (``[laugh]``, ``[sigh]`` ...): keep them for Turbo or strip them.

The released ``ResembleAI/chatterbox-turbo`` tokenizer adds 19 tokens after GPT-2's 50257 (``len`` 50276):
nine sounds and ten delivery styles, listed in ``TURBO_TAGS`` (public sources; the checkpoint's own
``added_tokens.json`` is authoritative and ``TurboTokenizer.tags`` reads it). Tags match exactly as written,
case-sensitive, as the tokenizer's added tokens do. Torch-free, so ``text_prep`` may import it.

``apply_tags(text, keep)`` is the one switch: ``keep=True`` returns the text untouched (Turbo then gets one
token per tag); ``keep=False`` removes every known tag and the space it leaves, so "Well [sigh] fine." reads
"Well fine." and "Oh [laugh]." reads "Oh." (for the original model, or Turbo without tags).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["TURBO_TAGS", "SOUND_TAGS", "STYLE_TAGS", "apply_tags", "find_tags", "strip_tags"]

SOUND_TAGS = ("[laugh]", "[chuckle]", "[sigh]", "[gasp]", "[cough]", "[clear throat]", "[sniff]", "[groan]",
              "[shush]")
STYLE_TAGS = ("[whispering]", "[angry]", "[fear]", "[surprised]", "[crying]", "[happy]", "[sarcastic]",
              "[dramatic]", "[narration]", "[advertisement]")
TURBO_TAGS = SOUND_TAGS + STYLE_TAGS
_PUNCT_AFTER = ".,!?;:)]}\"'”’…"


@lru_cache(maxsize=8)
def _pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
    return re.compile(rf"[ \t]*(?:{alternatives})[ \t]*")


def find_tags(text: str, tags: Iterable[str] = TURBO_TAGS) -> list[str]:
    """The known tags in ``text``, in order of appearance."""
    return [m.group().strip() for m in _pattern(tuple(tags)).finditer(text)]


def strip_tags(text: str, tags: Iterable[str] = TURBO_TAGS) -> str:
    """``text`` without its tags; a removed tag leaves one space between words and none before punctuation."""
    def gap(m: re.Match[str]) -> str:
        before, after = text[: m.start()], text[m.end():]
        if not before or before[-1] in "\n([{" or not after or after[0] in _PUNCT_AFTER or after[0] == "\n":
            return ""
        return " "

    return _pattern(tuple(tags)).sub(gap, text)


def apply_tags(text: str, keep: bool, tags: Iterable[str] = TURBO_TAGS) -> str:
    """Keep the tags (Turbo with tags on) or strip them (every other case)."""
    return text if keep else strip_tags(text, tags)
