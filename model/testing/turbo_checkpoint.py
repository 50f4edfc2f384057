"""Random Turbo checkpoints in the official ``ResembleAI/chatterbox-turbo`` file layout, for tests and goldens.

``write_turbo_checkpoint(folder, preset, seed)`` writes ``t3_turbo_v1.safetensors`` (every official key,
``tfmr.wte`` and ``text_head`` included, filled by ``model.fill``, speech_head x20 for clear argmax margins),
``s3gen_meanflow.safetensors`` (meanflow estimator, the voice keys and the tokenizer's mel-filter and window
buffers, which the official strict loader requires), ``ve.safetensors``, a built-in ``conds.pt`` with a
375-token T3 prompt, and GPT-2 tokenizer files: ``vocab.json``/``merges.txt`` of a small byte-level BPE
learnt deterministically from a fixed English text (padded with unreachable fillers to the preset's size,
``<|endoftext|>`` last), the 19 Turbo tags as added tokens, ``tokenizer_config.json`` and
``special_tokens_map.json``. Presets: ``tiny`` (2048 text ids, 2 GPT-2 layers; CPU tests) and ``full``
(released shapes: 50257 + 19 text ids, 24 layers).
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import torch

from model.fill import fill_state_dict
from model.turbo.config import TurboConfig
from model.turbo.tags import TURBO_TAGS

__all__ = ["write_turbo_checkpoint", "write_turbo_tokenizer", "turbo_t3_state_dict", "turbo_config"]

HEAD_SCALE = 20.0
PRESETS = {"tiny": "tiny", "full": "turbo"}
EOT = "<|endoftext|>"
# Word frequencies of this text decide the merges; any fixed text would do.
TEXT = """Printing, in the only sense with which we are at present concerned, differs from most if not from all
the arts and crafts represented in the Exhibition. For although the Chinese took impressions from wood blocks
engraved in relief for centuries before the woodcutters of the Netherlands, by a similar process, produced the
block books, which were the immediate predecessors of the true printed book, the invention of movable metal
letters in the middle of the fifteenth century may justly be considered as the invention of the art of printing.
It was a long time before the chapter ended, and she said that there were many things they would have to do,
but that none of them could be done tonight. He laughed, then sighed, and the house was quiet again."""


def turbo_config(preset: str) -> TurboConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown Turbo checkpoint preset {preset!r} (known: {', '.join(PRESETS)})")
    return TurboConfig.from_name(PRESETS[preset])


def turbo_t3_shapes(cfg: TurboConfig) -> dict[str, tuple[int, ...]]:
    """``{official key: shape}`` of the Turbo T3, the unused tables included."""
    from model.turbo.t3 import TurboT3

    with torch.device("meta"):
        model = TurboT3(cfg, with_unused=True)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def turbo_t3_state_dict(preset: str = "tiny", seed: int = 0, head_scale: float = HEAD_SCALE
                        ) -> dict[str, torch.Tensor]:
    """The filled Turbo T3 state dict (the same values the golden script puts in the official T3)."""
    return fill_state_dict(turbo_t3_shapes(turbo_config(preset)), seed, scale={"speech_head.weight": head_scale})


def _byte_symbols() -> list[str]:
    """GPT-2's byte -> printable-character table, in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    out, extra = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + extra))
            extra += 1
    return out


@lru_cache(maxsize=4)
def _learn_merges(n_merges: int) -> list[tuple[str, str]]:
    """Deterministic BPE merges over TEXT's byte-level words (ties broken by the pair's text)."""
    from collections import Counter

    from tokenizers import pre_tokenizers

    words = Counter(w for w, _ in pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(TEXT))
    seqs = {w: list(w) for w in words}
    merges: list[tuple[str, str]] = []
    while len(merges) < n_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for w, s in seqs.items():
            for a, b in zip(s, s[1:], strict=False):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        for w, s in seqs.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


def write_turbo_tokenizer(folder: str | Path, base_vocab: int = 50257, tags: tuple[str, ...] = TURBO_TAGS,
                          special_tags: bool = False, config_decoder: bool = True) -> Path:
    """GPT-2 tokenizer files of ``base_vocab`` entries (``<|endoftext|>`` last) plus ``tags`` as added tokens.

    ``special_tags`` marks the tags special (as ``add_special_tokens`` would); ``config_decoder=False`` writes
    only the legacy ``added_tokens.json`` instead of ``added_tokens_decoder`` in ``tokenizer_config.json``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {s: i for i, s in enumerate(_byte_symbols())}
    merges = _learn_merges(min(1500, base_vocab - 257))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    i = 0
    while len(vocab) < base_vocab - 1:
        vocab[f"<|filler{i}|>"] = len(vocab)  # unreachable by merges: keeps the real id layout
        i += 1
    vocab[EOT] = base_vocab - 1
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges),
                                       encoding="utf-8")
    added = {t: base_vocab + j for j, t in enumerate(tags)}
    (folder / "added_tokens.json").write_text(json.dumps(added, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": EOT, "eos_token": EOT, "unk_token": EOT}, indent=2), encoding="utf-8")
    config: dict = {"add_prefix_space": False, "bos_token": EOT, "eos_token": EOT, "unk_token": EOT,
                    "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer", "clean_up_tokenization_spaces": False}
    if config_decoder:
        def entry(content: str, special: bool) -> dict:
            return {"content": content, "lstrip": False, "normalized": not special, "rstrip": False,
                    "single_word": False, "special": special}

        config["added_tokens_decoder"] = {str(base_vocab - 1): entry(EOT, True),
                                          **{str(i): entry(t, special_tags) for t, i in added.items()}}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder


def builtin_turbo_voice(preset: str = "tiny", seed: int = 0):
    """The voice helper's synthetic built-in voice with a 375-token T3 prompt (Turbo's length)."""
    from model.testing.voice_checkpoint import builtin_voice

    voice = builtin_voice(preset, seed)
    g = torch.Generator().manual_seed(20_000 + seed)
    return replace(voice, cond_prompt_speech_tokens=torch.randint(0, 6561, (1, 375), generator=g),
                   emotion_adv=torch.zeros(1, 1, 1))


def write_turbo_checkpoint(folder: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Write a complete random Turbo checkpoint folder (see the module docstring); returns the folder."""
    from safetensors.torch import save_file

    from model.testing.s3gen_checkpoint import s3gen_state_dict
    from model.testing.voice_checkpoint import ve_state_dict
    from model.voice.melfilters import slaney_mel_filters

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = turbo_config(preset)
    save_file(turbo_t3_state_dict(preset, seed), str(folder / "t3_turbo_v1.safetensors"))
    s3 = s3gen_state_dict(preset, seed, meanflow=True)
    s3["tokenizer._mel_filters"] = slaney_mel_filters(16000, 400, 128)
    s3["tokenizer.window"] = torch.hann_window(400)
    save_file({k: v.contiguous() for k, v in s3.items()}, str(folder / "s3gen_meanflow.safetensors"))
    save_file(ve_state_dict(preset, seed), str(folder / "ve.safetensors"))
    builtin_turbo_voice(preset, seed).save(folder / "conds.pt")
    write_turbo_tokenizer(folder, cfg.text_vocab - len(TURBO_TAGS))
    return folder
