"""Random S3Gen checkpoints in the official layout (``s3gen.safetensors``), for tests, golden checks and benchmarks.

``write_s3gen_file(folder, preset, seed)`` writes every official key: ``flow.*`` and ``mel2wav.*``
(shapes from our module, which uses the official names) and ``tokenizer.*`` / ``speaker_encoder.*``
(shapes from the voice side's ``voice_checkpoint.s3gen_voice_tensors``), all filled by ``model.fill``.
Presets: ``full`` (released sizes), ``tiny`` (same key names, small widths and few blocks; vocodes a
chunk in well under a second on CPU). ``meanflow`` adds the turbo ``time_embed_mixer``;
``legacy_weight_norm`` writes ``weight_g``/``weight_v`` instead of ``parametrizations.weight.original0/1``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from model.fill import fill_state_dict
from model.s3gen.config import EstimatorConfig, S3GenConfig
from model.s3gen.s3gen import S3Gen

PRESETS = ("tiny", "full")


def s3gen_config(preset: str, meanflow: bool = False) -> S3GenConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown S3Gen checkpoint preset {preset!r} (known: {', '.join(PRESETS)})")
    cfg = S3GenConfig.from_name(preset)
    if meanflow:
        est = cfg.estimator
        cfg = S3GenConfig(cfg.vocab, cfg.spk_dim, cfg.encoder,
                          EstimatorConfig(**{**est.__dict__, "meanflow": True}), cfg.hift)
    return cfg


def s3gen_shapes(cfg: S3GenConfig) -> dict[str, tuple[int, ...]]:
    """``{official key: shape}`` of ``flow.*`` and ``mel2wav.*`` for a config, in module order."""
    with torch.device("meta"):
        model = S3Gen(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def to_legacy_weight_norm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename ``X.parametrizations.weight.original0/1`` to ``X.weight_g/weight_v``."""
    out = {}
    for k, v in sd.items():
        k = k.replace(".parametrizations.weight.original0", ".weight_g")
        out[k.replace(".parametrizations.weight.original1", ".weight_v")] = v
    return out


def s3gen_state_dict(preset: str = "tiny", seed: int = 0, *, meanflow: bool = False, voice: bool = True,
                     legacy_weight_norm: bool = False) -> dict[str, torch.Tensor]:
    """The filled state dict; ``voice=False`` leaves out ``tokenizer.*`` and ``speaker_encoder.*``."""
    sd = fill_state_dict(s3gen_shapes(s3gen_config(preset, meanflow)), seed)
    if legacy_weight_norm:
        sd = to_legacy_weight_norm(sd)
    if voice:
        from model.testing.voice_checkpoint import s3gen_voice_tensors
        sd.update(s3gen_voice_tensors(preset, seed))
    return sd


def write_s3gen_file(folder: str | Path, preset: str = "tiny", seed: int = 0, *, meanflow: bool = False,
                     legacy_weight_norm: bool = False, name: str | None = None) -> Path:
    """Write ``s3gen.safetensors`` (``.pt`` names give a torch pickle) into ``folder``; returns the path."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or ("s3gen_meanflow.safetensors" if meanflow else "s3gen.safetensors"))
    sd = s3gen_state_dict(preset, seed, meanflow=meanflow, legacy_weight_norm=legacy_weight_norm)
    if path.suffix == ".pt":
        torch.save(sd, path)
    else:
        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    return path
