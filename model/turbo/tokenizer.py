"""Turbo text front end: its ``punc_norm`` and the GPT-2 byte-level BPE read from the checkpoint's files.

The official path loads the folder with ``transformers.AutoTokenizer``; we build the same tokenizer with the
``tokenizers`` library alone: ``tokenizer.json`` when the folder has one, otherwise ``vocab.json`` +
``merges.txt`` as a byte-level BPE (no prefix space, as GPT-2) plus the added tokens of
``tokenizer_config.json`` (``added_tokens_decoder``, with their lstrip/rstrip/special flags) or
``added_tokens.json``. GPT-2 adds no BOS/EOS and Turbo no start/stop text tokens, so ``encode`` returns the
ids as they are. Texts longer than the tokenizer's ``model_max_length`` (1024 for GPT-2), which the official
call would silently truncate, are refused.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from model.errors import CheckpointError, ModelError

log = logging.getLogger(__name__)

EMPTY_TEXT = "You need to add some text for me to talk."
EXPECTED_SIZE = 50276
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json", "tokenizer.json")
_REPLACEMENTS = (("…", ", "), (":", ","), ("—", "-"), ("–", "-"), (" ,", ","), ("“", '"'), ("”", '"'),
                 ("‘", "'"), ("’", "'"))
_ENDINGS = (".", "!", "?", "-", ",")
_TAG = re.compile(r"^\[[^\[\]]+\]$")


def punc_norm(text: str) -> str:
    """Turbo's punctuation clean-up (no rules for '...', ' - ' or ';', unlike the original model's)."""
    if not text:
        return EMPTY_TEXT
    if text[0].islower():
        text = text[0].upper() + text[1:]
    text = " ".join(text.split())
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = text.rstrip(" ")
    if not text.endswith(_ENDINGS):
        text += "."
    return text


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.__class__.__name__})") from None


def _added_tokens(folder: Path) -> list[tuple[int, dict]]:
    """(id, properties) of every added token, from tokenizer_config.json or added_tokens.json."""
    config = _read_json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").is_file() else {}
    decoder = config.get("added_tokens_decoder")
    if isinstance(decoder, dict) and decoder:
        return sorted((int(i), dict(p)) for i, p in decoder.items())
    if (folder / "added_tokens.json").is_file():
        return sorted((int(i), {"content": c}) for c, i in _read_json(folder / "added_tokens.json").items())
    return []


def _build(folder: Path):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    if (folder / "tokenizer.json").is_file():
        return Tokenizer.from_file(str(folder / "tokenizer.json"))
    for name in ("vocab.json", "merges.txt"):
        if not (folder / name).is_file():
            raise CheckpointError(f"{folder}: missing {name} (Turbo GPT-2 tokenizer)")
    try:
        bpe = models.BPE.from_file(str(folder / "vocab.json"), str(folder / "merges.txt"))
    except Exception as exc:  # noqa: BLE001 - the Rust library raises a plain Exception for bad files
        raise CheckpointError(f"{folder}: cannot read vocab.json/merges.txt ({str(exc).splitlines()[0][:120]})") \
            from None
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    vocab = tok.get_vocab()
    for token_id, props in _added_tokens(folder):
        content = props["content"]
        special = bool(props.get("special", False))
        added = AddedToken(content, single_word=bool(props.get("single_word", False)),
                           lstrip=bool(props.get("lstrip", False)), rstrip=bool(props.get("rstrip", False)),
                           normalized=bool(props.get("normalized", not special)), special=special)
        if content in vocab:  # e.g. <|endoftext|>: already a vocabulary entry, only its matching changes
            if vocab[content] != token_id:
                raise CheckpointError(f"{folder}: added token {content!r} has id {token_id}, "
                                      f"the vocabulary {vocab[content]}")
            (tok.add_special_tokens if special else tok.add_tokens)([added])
            continue
        if token_id != tok.get_vocab_size():
            raise CheckpointError(f"{folder}: added token {content!r} has id {token_id}, expected "
                                  f"{tok.get_vocab_size()} (ids must follow the vocabulary)")
        (tok.add_special_tokens if special else tok.add_tokens)([added])
    _add_named_specials(tok, folder)
    return tok


def _add_named_specials(tok, folder: Path) -> None:
    """bos/eos/unk/pad of ``special_tokens_map.json`` match as whole special tokens, as transformers does."""
    from tokenizers import AddedToken

    if not (folder / "special_tokens_map.json").is_file():
        return
    known = {t.content for t in tok.get_added_tokens_decoder().values()}
    for value in _read_json(folder / "special_tokens_map.json").values():
        for item in value if isinstance(value, list) else [value]:
            content = item.get("content") if isinstance(item, dict) else item
            if isinstance(content, str) and content not in known and tok.token_to_id(content) is not None:
                tok.add_special_tokens([AddedToken(content, special=True, normalized=False)])
                known.add(content)


class TurboTokenizer:
    """GPT-2 BPE of a Turbo checkpoint folder; ``encode`` applies Turbo's ``punc_norm`` first."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.folder = folder
        self._tok = _build(folder)
        config = _read_json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").is_file() else {}
        limit = config.get("model_max_length")
        self.max_length = int(limit) if isinstance(limit, (int, float)) and limit < 1e9 else None
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=True)
        if self.vocab_size != EXPECTED_SIZE:
            log.info("%s: Turbo tokenizer has %d entries (the released one %d)", folder, self.vocab_size,
                     EXPECTED_SIZE)
        self.tags = tuple(t.content for t in self._tok.get_added_tokens_decoder().values()
                          if _TAG.match(t.content))

    def encode(self, text: str, normalize: bool = True) -> list[int]:
        """Ids of ``text`` (Turbo punctuation-normalised unless ``normalize=False``); no start/stop tokens."""
        if normalize:
            text = punc_norm(text)
        ids = self._tok.encode(text).ids
        if self.max_length is not None and len(ids) > self.max_length:
            raise ModelError(f"text of {len(ids)} GPT-2 tokens; Turbo takes at most {self.max_length} per chunk")
        return ids

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=False)
