"""Random voice-side checkpoints: ``ve.safetensors``, a built-in ``conds.pt``, and the voice keys of S3Gen.

* ``write_voice_files(folder, preset, seed)`` writes ``ve.safetensors`` (official key names, filled with
  ``model.fill``) and ``conds.pt`` (a seeded synthetic built-in voice in the official layout).
* ``s3gen_voice_shapes(preset)`` gives ``{key: shape}`` for the ``tokenizer.*`` and ``speaker_encoder.*`` keys
  of ``s3gen.safetensors`` (official names; ``tokenizer._mel_filters``/``window`` left out: we compute them);
  ``s3gen_voice_tensors(preset, seed)`` fills them (BatchNorm counters as int64 zeros).

Presets: ``full`` has the released shapes; ``tiny`` keeps every key name with fewer/smaller blocks, which
the loaders infer from the shapes (tokenizer width 128 in 2 blocks, CAMPPlus 2 layers per dense block,
VoiceEncoder LSTM width 64). Output widths that other parts consume stay (256-d VE, 192-d x-vector).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from model.fill import fill_state_dict
from model.s3gen.ref import S3GenRef
from model.voice.campplus import CAMPPlus, CAMPPlusConfig
from model.voice.s3_tokenizer import S3Tokenizer, S3TokenizerConfig
from model.voice.voice import Voice
from model.voice.voice_encoder import VoiceEncoder, VoiceEncoderConfig

PRESETS = ("tiny", "full")
_VE = {"tiny": VoiceEncoderConfig(hidden=64), "full": VoiceEncoderConfig()}
_TOK = {"tiny": S3TokenizerConfig(width=128, layers=2), "full": S3TokenizerConfig()}
_SPK = {"tiny": CAMPPlusConfig(m_channels=8, init_channels=32, growth=8, bottleneck=16, block_layers=(2, 2, 2)),
        "full": CAMPPlusConfig()}
# built-in voice sizes: T3 prompt tokens, S3Gen prompt tokens (mel frames = 2x)
_CONDS = {"tiny": (150, 50), "full": (150, 250)}


def _check(preset: str) -> None:
    if preset not in PRESETS:
        raise ValueError(f"unknown voice checkpoint preset {preset!r} (known: {', '.join(PRESETS)})")


def _module_shapes(module: torch.nn.Module, prefix: str) -> tuple[dict[str, tuple], dict[str, torch.dtype]]:
    sd = module.state_dict()
    return ({prefix + k: tuple(v.shape) for k, v in sd.items()}, {prefix + k: v.dtype for k, v in sd.items()})


def _voice_modules(preset: str) -> tuple[S3Tokenizer, CAMPPlus]:
    with torch.device("meta"):
        return S3Tokenizer(_TOK[preset]), CAMPPlus(_SPK[preset])


def s3gen_voice_shapes(preset: str = "tiny") -> dict[str, tuple[int, ...]]:
    """``{official key: shape}`` of the ``tokenizer.*`` and ``speaker_encoder.*`` keys of a preset."""
    _check(preset)
    tok, spk = _voice_modules(preset)
    shapes = _module_shapes(tok, "tokenizer.")[0]
    shapes.update(_module_shapes(spk, "speaker_encoder.")[0])
    return shapes


def s3gen_voice_tensors(preset: str = "tiny", seed: int = 0) -> dict[str, torch.Tensor]:
    """Those keys filled by ``model.fill`` (integer BatchNorm counters as int64 zeros)."""
    _check(preset)
    tok, spk = _voice_modules(preset)
    shapes, dtypes = _module_shapes(tok, "tokenizer.")
    s2, d2 = _module_shapes(spk, "speaker_encoder.")
    shapes.update(s2)
    dtypes.update(d2)
    return fill_state_dict(shapes, seed, dtypes=dtypes)


def ve_state_dict(preset: str = "tiny", seed: int = 0) -> dict[str, torch.Tensor]:
    """A filled ``ve.safetensors`` state dict (official names, no prefix)."""
    _check(preset)
    with torch.device("meta"):
        ve = VoiceEncoder(_VE[preset])
    shapes, _ = _module_shapes(ve, "")
    return fill_state_dict(shapes, seed)


def builtin_voice(preset: str = "tiny", seed: int = 0) -> Voice:
    """A seeded synthetic voice with the official conds.pt shapes (unit speaker vector, log-mel-like prompt)."""
    _check(preset)
    g = torch.Generator().manual_seed(10_000 + seed)
    n_t3, n_gen = _CONDS[preset]
    spk = torch.randn(1, 256, generator=g).abs()
    spk = spk / spk.norm()
    t3_tokens = torch.randint(0, 6561, (1, n_t3), generator=g)
    gen_tokens = torch.randint(0, 6561, (1, n_gen), generator=g)
    feat = -6.0 + 2.0 * torch.rand(1, 2 * n_gen, 80, generator=g)
    xvec = torch.randn(1, 192, generator=g)
    ref = S3GenRef(gen_tokens, torch.tensor([n_gen]), feat, None, xvec)
    return Voice(spk, t3_tokens, torch.full((1, 1, 1), 0.5), ref)


def write_voice_files(folder: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Write ``ve.safetensors`` and ``conds.pt`` into ``folder`` (created); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(ve_state_dict(preset, seed), str(folder / "ve.safetensors"))
    builtin_voice(preset, seed).save(folder / "conds.pt")
    return folder
