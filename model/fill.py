"""Deterministic, name-keyed random weights for checkpoints the project makes itself.

No real Chatterbox weights can be downloaded here, so parity is proven on seeded random ones: the
golden scripts (run beside the official package) and our tests fill every tensor with the same rule,
keyed only by the tensor's name and shape. This file imports nothing but torch and hashlib, so the
golden scripts can load it by path in the official package's venv.

Rule (per key, generator seeded from sha256(seed:name)):
* norm weights (LayerNorm/RMSNorm/BatchNorm affine) -> 1 + 0.1 N(0,1); their biases -> 0.1 N
* BatchNorm running_mean -> 0.1 N; running_var -> U(0.5, 1.5)
* Snake ``alpha`` -> U(0.5, 1.5)
* weight-norm g (``original0`` / ``weight_g``) -> ||v|| * U(0.5, 1.5), v filled first
* FSMN kernels -> 0.05 N
* biases -> 0.02 N
* everything else (weights, embeddings, queries) -> N(0, 1) / sqrt(fan_in), fan_in = prod(shape[1:])
* integer tensors (``num_batches_tracked``) and fixed buffers (mel filters, windows) are left alone
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping

import torch

FIXED_SUFFIXES = ("num_batches_tracked", "_mel_filters", "tokenizer.window")
_NORM_HINTS = ("norm", "_ln", "ln_", ".ln", "layernorm", "batchnorm", "bn")


def _generator(name: str, seed: int) -> torch.Generator:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))


def _is_norm(name: str) -> bool:
    parts = name.lower().split(".")
    module = ".".join(parts[:-1])
    return any(h in module for h in _NORM_HINTS) or parts[-2:-1] in (["norm"],)


def _fan_in(shape: torch.Size) -> int:
    return max(1, math.prod(shape[1:])) if len(shape) > 1 else max(1, shape[0])


def fill_tensor(name: str, shape: Iterable[int], seed: int = 0, v_norm: torch.Tensor | None = None
                ) -> torch.Tensor:
    """One float32 tensor for ``name`` of ``shape``, by the rule in the module docstring."""
    shape = torch.Size(tuple(shape))
    g = _generator(name, seed)
    leaf = name.rsplit(".", 1)[-1]

    def normal() -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=torch.float32)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float32)

    if leaf in ("original0", "weight_g"):
        if v_norm is None:
            raise ValueError(f"weight-norm g {name!r} needs the norm of its v")
        return v_norm.reshape(shape) * uniform(0.5, 1.5)
    if leaf == "running_mean":
        return 0.1 * normal()
    if leaf == "running_var":
        return uniform(0.5, 1.5)
    if leaf == "alpha":
        return uniform(0.5, 1.5)
    if "fsmn" in name:
        return 0.05 * normal()
    if _is_norm(name) and leaf in ("weight", "bias"):
        return (1.0 + 0.1 * normal()) if leaf == "weight" else 0.1 * normal()
    if leaf.startswith("bias") or leaf.endswith("_bias") and len(shape) <= 1:
        return 0.02 * normal()
    return normal() / math.sqrt(_fan_in(shape))


def _v_norm(v: torch.Tensor) -> torch.Tensor:
    # weight norm is taken over every dim but dim 0
    return v.flatten(1).norm(dim=1).reshape(v.shape[0], *([1] * (v.dim() - 1)))


def fill_state_dict(shapes: Mapping[str, Iterable[int]], seed: int = 0,
                    scale: Mapping[str, float] | None = None,
                    dtypes: Mapping[str, torch.dtype] | None = None) -> dict[str, torch.Tensor]:
    """Fill every key of ``shapes``; ``scale`` multiplies named tensors (e.g. a head, for clear argmax).

    Integer tensors and fixed buffers (``FIXED_SUFFIXES``) are returned as zeros of their dtype so
    callers can overwrite them with the module's own values.
    """
    scale = dict(scale or {})
    dtypes = dict(dtypes or {})
    out: dict[str, torch.Tensor] = {}
    pending_g: list[str] = []
    for name, shape in shapes.items():
        dt = dtypes.get(name, torch.float32)
        if name.endswith(FIXED_SUFFIXES) or not dt.is_floating_point:
            out[name] = torch.zeros(tuple(shape), dtype=dt)
            continue
        if name.endswith(("original0", "weight_g")):
            pending_g.append(name)
            continue
        out[name] = fill_tensor(name, shape, seed) * scale.get(name, 1.0)
    for name in pending_g:
        v_name = name[: -len("original0")] + "original1" if name.endswith("original0") \
            else name[: -len("weight_g")] + "weight_v"
        out[name] = fill_tensor(name, shapes[name], seed, v_norm=_v_norm(out[v_name]))
    return {k: out[k] for k in shapes}


def fill_module_(module: torch.nn.Module, seed: int = 0, scale: Mapping[str, float] | None = None) -> None:
    """Overwrite every floating parameter and buffer of ``module`` in place by the shared rule.

    Fixed buffers and integer tensors keep the module's own values.
    """
    sd = module.state_dict()
    shapes = {k: v.shape for k, v in sd.items()}
    dtypes = {k: v.dtype for k, v in sd.items()}
    filled = fill_state_dict(shapes, seed, scale, dtypes)
    with torch.no_grad():
        for k, t in sd.items():
            if k.endswith(FIXED_SUFFIXES) or not t.dtype.is_floating_point:
                continue
            t.copy_(filled[k].to(t.dtype))
