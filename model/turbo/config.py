"""Configuration of the Turbo T3 (GPT-2 medium backbone): dataclasses with named presets.

``GPT2Config`` describes the backbone, ``TurboConfig`` the whole Turbo T3 (vocabularies, special speech
tokens, prompt length). ``TurboConfig.from_shapes`` reads every size from a checkpoint's ``{key: shape}``,
so a tiny random checkpoint and the released 24-layer one load through the same code. What no shape tells
is fixed by the model family: attention head width 64, LayerNorm eps 1e-5, the tanh GELU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from model.errors import CheckpointError

HEAD_DIM = 64
TURBO_TEXT_VOCAB = 50276      # 50257 GPT-2 tokens + 19 added tags
TURBO_SPEECH_VOCAB = 6563     # 6561 codes + start + stop
SILENCE_TOKEN = 4299          # S3GEN_SIL: the official Turbo path appends three after every text
N_SILENCE = 3


@dataclass(frozen=True)
class GPT2Config:
    """The GPT-2 backbone: pre-LN blocks, learned absolute positions ``wpe``, tanh-GELU MLP, biases everywhere."""

    dim: int = 1024
    n_layers: int = 24
    n_heads: int = 16
    head_dim: int = HEAD_DIM
    intermediate: int = 4096
    positions: int = 8196         # rows of ``wpe`` (n_positions)
    norm_eps: float = 1e-5
    token_vocab: int = TURBO_TEXT_VOCAB  # ``wte``: in the checkpoint, never used (inputs are embeddings)


@dataclass(frozen=True)
class TurboConfig:
    """Turbo T3 around the backbone: text/speech embeddings, speaker projection, speech head with bias."""

    gpt2: GPT2Config = field(default_factory=GPT2Config)
    text_vocab: int = TURBO_TEXT_VOCAB
    speech_vocab: int = TURBO_SPEECH_VOCAB
    start_speech: int = 6561
    stop_speech: int = 6562
    n_speech_codes: int = 6561    # real speech codes are 0..6560
    speaker_dim: int = 256
    prompt_len: int = 375         # speech_cond_prompt_len: 15 s of prompt at 25 tokens/s

    @property
    def dim(self) -> int:
        return self.gpt2.dim

    @classmethod
    def from_name(cls, name: str) -> TurboConfig:
        """Presets: ``turbo`` (the released model) and ``tiny`` (CPU tests)."""
        if name not in PRESETS:
            raise ValueError(f"unknown Turbo preset {name!r} (known: {', '.join(PRESETS)})")
        return PRESETS[name]

    @classmethod
    def from_shapes(cls, shapes: Mapping[str, Sequence[int]], source: str = "checkpoint") -> TurboConfig:
        """Infer layers, widths and vocabularies from a Turbo T3 state dict's ``{key: shape}``."""

        def shape(key: str) -> tuple[int, ...]:
            if key not in shapes:
                raise CheckpointError(f"{source}: missing key {key!r} (not a Turbo T3 checkpoint?)")
            return tuple(shapes[key])

        if any(k.startswith("tfmr.layers.") for k in shapes):
            raise CheckpointError(f"{source}: a Llama T3 checkpoint, not a Turbo (GPT-2) one")
        n_layers = 0
        while f"tfmr.h.{n_layers}.attn.c_attn.weight" in shapes:
            n_layers += 1
        if n_layers == 0:
            raise CheckpointError(f"{source}: no 'tfmr.h.N' keys (not a Turbo T3 checkpoint)")
        dim = shape("tfmr.ln_f.weight")[0]
        if dim % HEAD_DIM:
            raise CheckpointError(f"{source}: width {dim} is not a multiple of the head width {HEAD_DIM}")
        gpt2 = GPT2Config(dim=dim, n_layers=n_layers, n_heads=dim // HEAD_DIM,
                          intermediate=shape("tfmr.h.0.mlp.c_fc.weight")[1], positions=shape("tfmr.wpe.weight")[0],
                          # the unused table may be absent here: the loader names it as a missing key
                          token_vocab=tuple(shapes.get("tfmr.wte.weight", shape("text_emb.weight")))[0])
        return cls(gpt2=gpt2, text_vocab=shape("text_emb.weight")[0], speech_vocab=shape("speech_emb.weight")[0],
                   speaker_dim=shape("cond_enc.spkr_enc.weight")[1])


PRESETS: dict[str, TurboConfig] = {
    "turbo": TurboConfig(),
    # tiny: a 2029-token byte-level BPE + the 19 tags (model.testing.turbo_checkpoint writes its files)
    "tiny": TurboConfig(gpt2=GPT2Config(dim=128, n_layers=2, n_heads=2, intermediate=256, positions=2048,
                                        token_vocab=2048), text_vocab=2048),
}
