"""Loading ``s3gen.safetensors`` / ``s3gen.pt`` strictly, and handing the voice sub-dicts over.

The file holds four parts: ``flow.*`` and ``mel2wav.*`` (ours), ``tokenizer.*`` (S3TokenizerV2) and
``speaker_encoder.*`` (CAMPPlus), which belong to ``model.voice``. ``split_s3gen_state_dict`` gives
every key to exactly one part, so the strict loads of the parts together consume the whole file.
Weight norm is accepted in both spellings (``parametrizations.weight.original0/1`` and the legacy
``weight_g/weight_v``) and folded into plain weights after loading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from torch.nn.utils import parametrize

from model.s3gen.config import S3GenConfig
from model.s3gen.runtime import S3GenRuntime
from model.s3gen.s3gen import S3Gen
from model.weights import load_strict, read_state_dict

log = logging.getLogger(__name__)

VOICE_PREFIXES = ("tokenizer.", "speaker_encoder.")


def split_s3gen_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """``{"s3gen": flow/mel2wav (and any unknown key, so the strict load names it), "tokenizer": ...,
    "speaker_encoder": ...}``; the voice parts have their prefix stripped."""
    out: dict[str, dict[str, torch.Tensor]] = {"s3gen": {}, "tokenizer": {}, "speaker_encoder": {}}
    for k, v in sd.items():
        for p in VOICE_PREFIXES:
            if k.startswith(p):
                out[p[:-1]][k[len(p):]] = v
                break
        else:
            out["s3gen"][k] = v
    return out


def canonical_weight_norm_key(key: str) -> str:
    """``X.weight_g`` -> ``X.parametrizations.weight.original0`` (``weight_v`` -> ``original1``)."""
    if key.endswith(".weight_g"):
        return key[: -len("weight_g")] + "parametrizations.weight.original0"
    if key.endswith(".weight_v"):
        return key[: -len("weight_v")] + "parametrizations.weight.original1"
    return key


def fold_weight_norm(module: torch.nn.Module) -> None:
    """Replace every weight-norm parametrization by its plain weight g·v/‖v‖ (computed once)."""
    for m in list(module.modules()):
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)


def as_runtime(runtime: S3GenRuntime | torch.dtype | None, device: torch.device) -> S3GenRuntime:
    """None: ``S3GenRuntime.for_device``; a dtype: that compute dtype, no compile or graphs (older callers)."""
    if runtime is None:
        return S3GenRuntime.for_device(device)
    if isinstance(runtime, torch.dtype):
        return S3GenRuntime(compute_dtype=runtime)
    return runtime


def load_s3gen_modules(sd: Mapping[str, torch.Tensor], device: torch.device,
                       runtime: S3GenRuntime | torch.dtype | None = None, source: str = "s3gen") -> S3Gen:
    """Strict, shape-checked load of a flow/mel2wav state dict (float32), then run as ``runtime`` says."""
    sd = {canonical_weight_norm_key(k): v for k, v in sd.items()}
    cfg = S3GenConfig.from_state_dict(sd, source)
    with torch.device("meta"):
        model = S3Gen(cfg)
    model.to_empty(device=device)
    load_strict(model, sd, source=source)
    fold_weight_norm(model)
    model.eval().requires_grad_(False)
    rt = as_runtime(runtime, device)
    model.use(rt)
    log.info("S3Gen loaded from %s: encoder %d+%d layers, estimator %d mid blocks%s, on %s; compute %s, "
             "vocoder %s, compile %s, CUDA graphs %s", source, cfg.encoder.n_blocks, cfg.encoder.n_up_blocks,
             cfg.estimator.n_mid, " (meanflow)" if cfg.estimator.meanflow else "", device, rt.compute_dtype,
             rt.vocoder_dtype, rt.compile, rt.cuda_graphs)
    return model


def read_s3gen_checkpoint(path: str | Path) -> dict[str, dict[str, torch.Tensor]]:
    """Read a ``.safetensors`` or ``.pt`` S3Gen file and split it (see ``split_s3gen_state_dict``)."""
    return split_s3gen_state_dict(read_state_dict(path))


def load_s3gen(path: str | Path, device: torch.device | str = "cpu",
               runtime: S3GenRuntime | torch.dtype | None = None
               ) -> tuple[S3Gen, dict[str, dict[str, torch.Tensor]]]:
    """Our S3Gen from ``path``, plus the voice parts ``{"tokenizer": sd, "speaker_encoder": sd}`` for model.voice.

    ``runtime``: an ``S3GenRuntime``; None for ``S3GenRuntime.for_device(device)`` (CUDA: bf16 encoder and
    estimator, fp32 Euler state and HiFT, CUDA graphs); a bare dtype for that compute dtype alone.
    """
    parts = read_s3gen_checkpoint(path)
    model = load_s3gen_modules(parts.pop("s3gen"), torch.device(device), runtime, source=str(path))
    return model, parts
