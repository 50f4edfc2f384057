"""Reading checkpoint files and loading them strictly into our modules.

Every loader goes through ``read_state_dict`` (safetensors or a weights-only torch pickle, corrupt or
truncated files become one-line CheckpointErrors) and ``load_strict`` (every key mapped, every shape
checked, any missing or unexpected key named).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from model.errors import CheckpointError, KeyMismatchError


def safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file (names, dtypes, shapes), without reading the tensors."""
    try:
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise CheckpointError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
            (n,) = struct.unpack("<Q", raw)
            if n > 100_000_000:
                raise CheckpointError(f"{path}: not a safetensors file (header length {n} is implausible)")
            header = json.loads(f.read(n))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header ({exc.__class__.__name__})") from None
    header.pop("__metadata__", None)
    size = path.stat().st_size
    end = max((v["data_offsets"][1] for v in header.values()), default=0)
    if 8 + n + end > size:
        raise CheckpointError(f"{path}: truncated ({size} bytes, the header promises {8 + n + end})")
    return header


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a ``.safetensors`` file or a weights-only torch pickle (``.pt``) onto the CPU.

    A ``{"model": [state_dict, ...]}`` training wrapper is unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        safetensors_header(path)
        try:
            sd = load_file(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - the library raises several types for bad files
            raise CheckpointError(f"{path}: cannot read safetensors ({exc})") from None
    else:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - pickle, zip and unpickler errors alike
            raise CheckpointError(f"{path}: cannot read torch checkpoint ({type(exc).__name__})") from None
    if isinstance(sd, dict) and "model" in sd and isinstance(sd["model"], (list, tuple)):
        sd = sd["model"][0]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{path}: not a flat name -> tensor state dict")
    return sd


def load_strict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *, source: str,
                rename: Callable[[str], str | None] | None = None,
                ignore: Callable[[str], bool] | None = None) -> None:
    """Copy ``state_dict`` into ``module``: all keys present, none unexpected, all shapes equal.

    ``rename`` maps a checkpoint key to ours (None drops it on purpose); ``ignore`` names our keys that
    may be absent from the file (buffers we compute ourselves). Values are converted to the module's
    dtype. ``source`` names the file in errors.
    """
    ours = module.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    for k, v in state_dict.items():
        nk = rename(k) if rename else k
        if nk is None:
            continue
        if nk in mapped:
            raise KeyMismatchError(f"{source}: two keys map to {nk!r}")
        mapped[nk] = v
    unexpected = sorted(k for k in mapped if k not in ours)
    missing = sorted(k for k in ours if k not in mapped and not (ignore and ignore(k)))
    if unexpected:
        raise KeyMismatchError(f"{source}: unexpected key {unexpected[0]!r}"
                               + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else "")
                               + " (wrong model variant?)")
    if missing:
        raise KeyMismatchError(f"{source}: missing key {missing[0]!r}"
                               + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    for k, v in mapped.items():
        if tuple(ours[k].shape) != tuple(v.shape):
            raise KeyMismatchError(f"{source}: key {k!r} has shape {tuple(v.shape)}, expected {tuple(ours[k].shape)}"
                                   " (wrong model variant?)")
    with torch.no_grad():
        for k, v in mapped.items():
            ours[k].copy_(v.to(ours[k].dtype))
