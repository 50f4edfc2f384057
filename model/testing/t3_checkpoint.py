"""Random T3 checkpoints in the official file layout, for tests, golden scripts and benchmarks.

``write_t3_files(folder, preset, seed)`` writes ``t3_cfg.safetensors`` (official key names, weights by the
shared rule in ``model/fill.py``) and a small valid ``tokenizer.json`` in the official format
(``[STOP]``=0, ``[UNK]``=1, ``[SPACE]``=2, ``[START]``=255, vocabulary 704). Multilingual presets write
``t3_mtl23ls_v2.safetensors`` and ``grapheme_mtl_merged_expanded_v1.json`` (vocabulary 2454) instead.
When the voice helper's ``model/testing/voice_checkpoint.py`` is present, ``ve.safetensors`` and
``conds.pt`` are written too.
"""

from __future__ import annotations

import importlib.util
import logging
import string
from pathlib import Path

import torch

from model.config import T3Config
from model.fill import fill_state_dict

log = logging.getLogger(__name__)

HEAD_SCALE = 20.0  # speech_head x20: clear argmax margins for greedy-token comparisons
PRESET_NAMES = {"tiny": "tiny", "full": "english", "tiny-multilingual": "tiny-multilingual",
                "full-multilingual": "multilingual"}
SPECIALS = ("[STOP]", "[UNK]", "[SPACE]", "[PAD]", "[SEP]", "[CLS]", "[MASK]")


def t3_config(preset: str) -> T3Config:
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown T3 checkpoint preset {preset!r} (known: {', '.join(PRESET_NAMES)})")
    return T3Config.from_name(PRESET_NAMES[preset])


def t3_shapes(cfg: T3Config) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of a T3 with official key names, in module order."""
    from model.t3 import T3

    with torch.device("meta"):
        model = T3(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def t3_state_dict(preset: str = "tiny", seed: int = 0, head_scale: float = HEAD_SCALE) -> dict[str, torch.Tensor]:
    """The filled T3 state dict of a preset (the same values the golden script puts in the official T3)."""
    return fill_state_dict(t3_shapes(t3_config(preset)), seed, scale={"speech_head.weight": head_scale})


def _vocab(size: int, multilingual: bool) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A BPE vocabulary of exactly ``size`` entries with the official special ids, and its merges."""
    vocab: dict[str, int] = {}

    def add(tok: str) -> None:
        if tok not in vocab:
            while len(vocab) == 255 and "[START]" not in vocab:
                vocab["[START]"] = 255
            vocab[tok] = len(vocab)

    for s in SPECIALS:
        add(s)
    if multilingual:
        from model.tokenizer import LANGUAGES

        for lang in LANGUAGES:
            add(f"[{lang}]")
    chars = string.ascii_lowercase + string.ascii_uppercase + string.digits + string.punctuation
    if multilingual:
        chars += "".join(chr(c) for c in range(0xC0, 0x250)) + "".join(chr(c) for c in range(0x300, 0x370))
    for ch in chars:
        add(ch)
    merges: list[tuple[str, str]] = []
    letters = string.ascii_lowercase + string.ascii_uppercase
    pairs = [(a, b) for a in letters for b in string.ascii_lowercase]
    for a, b in pairs:
        if len(vocab) >= size:
            break
        merges.append((a, b))
        add(a + b)
    i = 0
    while len(vocab) < size:  # pad with unused entries if letters ran out
        add(f"[unused{i}]")
        i += 1
    if "[START]" not in vocab:
        raise AssertionError("vocabulary too small for [START]=255")
    return vocab, merges


def write_tokenizer(path: str | Path, vocab_size: int = 704) -> Path:
    """A small valid tokenizer JSON in the official format (BPE, Whitespace pre-tokenizer, specials)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    multilingual = vocab_size > 704
    vocab, merges = _vocab(vocab_size, multilingual)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[START]", *SPECIALS]
    if multilingual:
        specials += [k for k in vocab if k.startswith("[") and k.endswith("]") and len(k) <= 4]
    tok.add_special_tokens(specials)
    path = Path(path)
    tok.save(str(path))
    return path


def write_t3_files(folder: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Write a random T3 checkpoint folder (see the module docstring); returns the folder."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = t3_config(preset)
    if cfg.is_multilingual:
        weights, tokenizer = "t3_mtl23ls_v2.safetensors", "grapheme_mtl_merged_expanded_v1.json"
    else:
        weights, tokenizer = "t3_cfg.safetensors", "tokenizer.json"
    save_file(t3_state_dict(preset, seed), str(folder / weights))
    write_tokenizer(folder / tokenizer, cfg.text_vocab)
    if importlib.util.find_spec("model.testing.voice_checkpoint") is not None:
        from model.testing.voice_checkpoint import write_voice_files

        write_voice_files(folder, "full" if preset.startswith("full") else "tiny", seed)
    else:
        log.info("model.testing.voice_checkpoint not present: ve.safetensors and conds.pt not written")
    return folder
