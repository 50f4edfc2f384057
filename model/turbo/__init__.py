"""model.turbo: Chatterbox-Turbo (GPT-2 T3 without CFG, meanflow S3Gen) on our own code.

Layers, bottom up: ``config`` -> ``gpt2`` -> ``t3`` -> ``sampling`` -> ``generate`` (static KV cache, batched
ragged decoding, CUDA-graph step); ``tags`` and ``tokenizer`` (text front end); ``loudness`` -> ``voice``
(reference clip -> Voice); ``checkpoint`` (files and variant detection); ``tts`` (the ``TurboTTS`` facade).
S3Gen, the voice networks, the KV cache and weight loading are the shared ones of ``model``.
"""

from model.turbo.checkpoint import TURBO_REPO, TurboFolder, is_turbo_folder, is_turbo_source, resolve_turbo_checkpoint
from model.turbo.config import GPT2Config, TurboConfig
from model.turbo.generate import TurboDecodeParams, generate, generate_raw
from model.turbo.params import TurboParams
from model.turbo.t3 import TurboT3, load_turbo_t3
from model.turbo.tags import TURBO_TAGS, apply_tags, find_tags, strip_tags
from model.turbo.tokenizer import TurboTokenizer, punc_norm
from model.turbo.tts import TurboTTS
from model.turbo.voice import prepare_turbo_voice

__all__ = ["GPT2Config", "TURBO_REPO", "TURBO_TAGS", "TurboConfig", "TurboDecodeParams", "TurboFolder",
           "TurboParams", "TurboT3", "TurboTTS", "TurboTokenizer", "apply_tags", "find_tags", "generate",
           "generate_raw", "is_turbo_folder", "is_turbo_source", "load_turbo_t3", "prepare_turbo_voice",
           "punc_norm", "resolve_turbo_checkpoint", "strip_tags"]
