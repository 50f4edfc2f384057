"""Device and dtype choice: made once, with a logged reason; asking for what is absent is an error."""

from __future__ import annotations

import logging

import torch

from model.errors import DeviceError

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
           "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def resolve_device(name: str | None = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is absent raises DeviceError."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            dev, why = torch.device("cuda"), "CUDA is available"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            dev, why = torch.device("mps"), "MPS is available"
        else:
            dev, why = torch.device("cpu"), "no CUDA or MPS device"
        log.info("device %s chosen: %s", dev, why)
        return dev
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise DeviceError(f"unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} requested but CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DeviceError(f"device {name!r} requested but MPS is not available on this machine")
    elif dev.type != "cpu":
        raise DeviceError(f"unsupported device {name!r} (use auto, cpu, cuda, cuda:N or mps)")
    return dev


def resolve_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """Default by device (CUDA bf16, MPS fp16, CPU fp32); an explicit name overrides."""
    if name in (None, "", "auto"):
        dtype = {"cuda": torch.bfloat16, "mps": torch.float16}.get(device.type, torch.float32)
        log.info("dtype %s chosen for %s", dtype, device)
        return dtype
    try:
        return _DTYPES[name.lower()]
    except KeyError:
        raise DeviceError(f"unknown dtype {name!r} (use auto, float32, float16 or bfloat16)") from None


def require_cuda_for_compile(compile: bool, device: torch.device) -> None:
    """DeviceError when torch.compile of the decode step and S3Gen is asked for off CUDA (never silently dropped)."""
    if compile and device.type != "cuda":
        raise DeviceError(f"compile needs a CUDA device; the model would run on {device}")


def configure_backends(device: torch.device) -> None:
    """Process-wide kernel choices for ``device``, made once when a model is loaded.

    On CUDA the cuDNN attention backend builds a new execution plan for every new key length, i.e. at
    every decode step (tens of ms each); flash / memory-efficient attention need no plans. TF32 matmuls
    are allowed for the float32 parts (S3Gen), as their error (~3e-4 relative) is far below audible.
    """
    if device.type == "cuda":
        torch.backends.cuda.enable_cudnn_sdp(False)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        log.info("CUDA backends: cuDNN attention off (per-length plans), TF32 matmuls on")
