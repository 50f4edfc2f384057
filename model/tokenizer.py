"""Text front end of T3: the official punctuation normalisation and the ``tokenizers`` vocabulary.

``TextTokenizer.encode(text)`` returns ids WITHOUT the start/stop text tokens; ``model.generate`` adds
SOT (255) and EOT (0). Spaces become the literal ``[SPACE]`` token before encoding, as in the official
tokenizer. The multilingual variant lowercases, NFKD-normalises and prefixes ``[<lang>]``; its
language-specific steps for zh/ja/he/ru (Cangjie, kana readings, diacritics, stress marks) are not
implemented and those languages are refused.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from model.errors import CheckpointError, ModelError

SOT, EOT, UNK, SPACE = "[START]", "[STOP]", "[UNK]", "[SPACE]"
EMPTY_TEXT = "You need to add some text for me to talk."
LANGUAGES = ("ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja", "ko", "ms", "nl", "no",
             "pl", "pt", "ru", "sv", "sw", "tr", "zh")
UNSUPPORTED_LANGUAGES = ("zh", "ja", "he", "ru")

_REPLACEMENTS = (("...", ", "), ("…", ", "), (":", ","), (" - ", ", "), (";", ", "), ("—", "-"), ("–", "-"),
                 (" ,", ","), ("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"))
_ENDINGS = (".", "!", "?", "-", ",")
_MTL_ENDINGS = _ENDINGS + ("、", "，", "。", "？", "！")


def punc_norm(text: str, multilingual: bool = False) -> str:
    """The official punctuation clean-up (English and multilingual)."""
    if not text:
        return EMPTY_TEXT
    if text[0].islower():
        text = text[0].upper() + text[1:]
    text = " ".join(text.split())
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = text.rstrip(" ")
    if not text.endswith(_MTL_ENDINGS if multilingual else _ENDINGS):
        text += "."
    return text


class TextTokenizer:
    """A ``tokenizer.json`` (English) or the multilingual grapheme vocabulary, with official encoding."""

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        path = Path(path)
        try:
            self._tok = Tokenizer.from_file(str(path))
        except Exception as exc:  # noqa: BLE001 - the Rust library raises a plain Exception for bad files
            raise CheckpointError(f"{path}: cannot read tokenizer ({str(exc).splitlines()[0][:120]})") from None
        vocab = self._tok.get_vocab()
        for special in (SOT, EOT):
            if special not in vocab:
                raise CheckpointError(f"{path}: tokenizer lacks the special token {special}")
        self.path = path
        self.vocab_size = self._tok.get_vocab_size()
        self.start_id, self.stop_id = vocab[SOT], vocab[EOT]

    @property
    def is_multilingual(self) -> bool:
        return self.vocab_size > 704

    def encode(self, text: str, language: str | None = None, normalize: bool = True) -> list[int]:
        """Ids of ``text`` (punctuation-normalised unless ``normalize=False``), no SOT/EOT."""
        if normalize:
            text = punc_norm(text, multilingual=self.is_multilingual)
        if self.is_multilingual:
            text = unicodedata.normalize("NFKD", text.lower())
            if language is not None:
                lang = language.lower()
                if lang not in LANGUAGES:
                    raise ModelError(f"unsupported language {language!r} (known: {', '.join(LANGUAGES)})")
                if lang in UNSUPPORTED_LANGUAGES:
                    raise ModelError(f"language {language!r} needs a text front end tomecast does not have yet")
                text = f"[{lang}]" + text
        elif language not in (None, "en"):
            raise ModelError(f"language {language!r} needs the multilingual model (this one is English)")
        return self._tok.encode(text.replace(" ", SPACE)).ids

    def decode(self, ids: list[int]) -> str:
        """Debugging aid: ids back to text, special tokens dropped."""
        text = self._tok.decode(list(ids), skip_special_tokens=False).replace(" ", "")
        return text.replace(SPACE, " ").replace(EOT, "").replace(UNK, "")
