"""Configuration of the T3 text-to-speech-token model: dataclasses with named presets.

``LlamaConfig`` describes the backbone, ``T3Config`` the whole T3 (vocabularies, special tokens,
position tables, conditioning). ``T3Config.from_shapes`` infers a config from checkpoint shapes, so a
tiny random checkpoint and the released 520M one load through the same code. Only what shapes cannot
tell is fixed by the model family: attention head width 64, 4 perceiver heads, RoPE and norm constants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from model.errors import CheckpointError

HEAD_DIM = 64
PERCEIVER_HEADS = 4
ENGLISH_TEXT_VOCAB = 704
MULTILINGUAL_TEXT_VOCAB = 2454


@dataclass(frozen=True)
class LlamaConfig:
    """The Llama backbone: pre-norm blocks, RMSNorm, RoPE with llama3 frequency scaling, SwiGLU MLP."""

    dim: int = 1024
    n_layers: int = 30
    n_heads: int = 16
    n_kv_heads: int = 16
    head_dim: int = HEAD_DIM
    intermediate: int = 4096
    norm_eps: float = 1e-5
    rope_theta: float = 500000.0
    rope_factor: float = 8.0
    rope_low_freq_factor: float = 1.0
    rope_high_freq_factor: float = 4.0
    rope_original_max_positions: int = 8192
    dummy_vocab: int = 8  # ``tfmr.embed_tokens``: present in the checkpoint, never used


@dataclass(frozen=True)
class T3Config:
    """T3 around the backbone: custom embeddings, learned positions, speech head, conditioning encoder."""

    llama: LlamaConfig = field(default_factory=LlamaConfig)
    text_vocab: int = ENGLISH_TEXT_VOCAB
    speech_vocab: int = 8194
    start_text: int = 255
    stop_text: int = 0
    start_speech: int = 6561
    stop_speech: int = 6562
    n_speech_codes: int = 6561  # real speech codes are 0..6560
    text_positions: int = 2050  # max_text_tokens + 2
    speech_positions: int = 4100  # max_speech_tokens + 4
    speaker_dim: int = 256
    prompt_len: int = 150
    perceiver_queries: int = 32
    perceiver_heads: int = PERCEIVER_HEADS

    @property
    def dim(self) -> int:
        return self.llama.dim

    @property
    def is_multilingual(self) -> bool:
        return self.text_vocab == MULTILINGUAL_TEXT_VOCAB

    @property
    def cond_len(self) -> int:
        """Conditioning tokens before the text: speaker, perceiver queries, exaggeration."""
        return 1 + self.perceiver_queries + 1

    @classmethod
    def from_name(cls, name: str) -> T3Config:
        """Presets: ``english``, ``multilingual`` (the released 520M models) and ``tiny`` (CI)."""
        if name not in PRESETS:
            raise ValueError(f"unknown T3 preset {name!r} (known: {', '.join(PRESETS)})")
        return PRESETS[name]

    @classmethod
    def from_shapes(cls, shapes: Mapping[str, Sequence[int]], source: str = "checkpoint") -> T3Config:
        """Infer layers, widths and vocabularies from a T3 state dict's ``{key: shape}``."""

        def shape(key: str) -> tuple[int, ...]:
            if key not in shapes:
                raise CheckpointError(f"{source}: missing key {key!r} (not a Llama T3 checkpoint?)")
            return tuple(shapes[key])

        if any(k.startswith("tfmr.h.") for k in shapes):
            raise CheckpointError(f"{source}: a GPT-2 (turbo) T3 checkpoint; only the Llama T3 variants load")
        n_layers = 0
        while f"tfmr.layers.{n_layers}.self_attn.q_proj.weight" in shapes:
            n_layers += 1
        if n_layers == 0:
            raise CheckpointError(f"{source}: no 'tfmr.layers.N' keys (not a T3 checkpoint)")
        dim = shape("tfmr.norm.weight")[0]
        kv_out = shape("tfmr.layers.0.self_attn.k_proj.weight")[0]
        if dim % HEAD_DIM or kv_out % HEAD_DIM:
            raise CheckpointError(f"{source}: width {dim} is not a multiple of the head width {HEAD_DIM}")
        _, n_queries, _ = shape("cond_enc.perceiver.pre_attention_query")
        llama = LlamaConfig(dim=dim, n_layers=n_layers, n_heads=dim // HEAD_DIM, n_kv_heads=kv_out // HEAD_DIM,
                            intermediate=shape("tfmr.layers.0.mlp.gate_proj.weight")[0],
                            dummy_vocab=shape("tfmr.embed_tokens.weight")[0])
        return cls(llama=llama, text_vocab=shape("text_emb.weight")[0], speech_vocab=shape("speech_emb.weight")[0],
                   text_positions=shape("text_pos_emb.emb.weight")[0],
                   speech_positions=shape("speech_pos_emb.emb.weight")[0],
                   speaker_dim=shape("cond_enc.spkr_enc.weight")[1], perceiver_queries=n_queries)


PRESETS: dict[str, T3Config] = {
    "english": T3Config(),
    "multilingual": T3Config(text_vocab=MULTILINGUAL_TEXT_VOCAB),
    "tiny": T3Config(llama=LlamaConfig(dim=128, n_layers=2, n_heads=2, n_kv_heads=2, intermediate=256)),
}
PRESETS["tiny-multilingual"] = replace(PRESETS["tiny"], text_vocab=MULTILINGUAL_TEXT_VOCAB)
