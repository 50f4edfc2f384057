"""model.turbo: Chatterbox-Turbo (GPT-2 T3 without CFG, meanflow S3Gen) on our own code.

Layers, bottom up: ``config`` -> ``gpt2`` -> ``t3`` -> ``sampling`` -> ``generate`` (static KV cache, batched
ragged decoding, CUDA-graph step); ``tags`` and ``tokenizer`` (text front end); ``loudness`` -> ``voice``
(reference clip -> Voice); ``params`` (torch-free options); ``checkpoint`` (files, variant detection);
``tts`` (the ``TurboTTS`` facade). S3Gen, the voice networks, the KV cache and weight loading are the
shared ones of ``model``.

Importing the package loads nothing: the names below resolve on first use, so the torch-free modules
(``model.turbo.tags``, ``model.turbo.params``) stay importable by torch-free layers.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "TURBO_REPO": "checkpoint", "TurboFolder": "checkpoint", "is_turbo_folder": "checkpoint",
    "is_turbo_source": "checkpoint", "resolve_turbo_checkpoint": "checkpoint",
    "GPT2Config": "config", "TurboConfig": "config",
    "TurboDecodeParams": "generate", "generate": "generate", "generate_raw": "generate",
    "TurboParams": "params",
    "TurboT3": "t3", "load_turbo_t3": "t3",
    "TURBO_TAGS": "tags", "apply_tags": "tags", "find_tags": "tags", "strip_tags": "tags",
    "TurboTokenizer": "tokenizer", "punc_norm": "tokenizer",
    "TurboTTS": "tts",
    "prepare_turbo_voice": "voice",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'model.turbo' has no attribute {name!r}")
    return getattr(importlib.import_module(f"model.turbo.{_WHERE[name]}"), name)
