"""How S3Gen runs (not what it is): compute precision, compiled estimator, CUDA graphs. Chosen once, at load.

Precision: the checkpoint's float32 weights are kept whatever is chosen. ``compute_dtype`` bfloat16 runs the
encoder and the estimator under autocast: matmuls, convolutions and attention take bf16 operands (their
Linear/Conv1d weights are held in bf16, exactly what autocast would cast them to on every call), while
LayerNorm and softmax run in float32 and the residual stream stays float32 (float32 plus bf16 is float32). The Euler
state, the time grid, the CFG combine and the mel are float32 (``cfm.FlowMatching.solve``). Measured on the
parity goldens (tests/model/s3gen/test_s3gen_bf16.py): mel 0.085% relative L2 from fp32 (bound 1%), waveform
49 dB SNR (bound 40 dB); at full length on an H200, 0.08% and 44.8 dB. ``vocoder_dtype`` bf16 runs HiFT's
decoder convolutions under autocast too, but costs the waveform ~25 dB SNR on the goldens, so it stays
float32 by default; HiFT's F0 predictor, source, STFT and iSTFT are float32 always.

Speed (CUDA only): ``compile`` runs the estimator through ``torch.compile`` (inductor, dynamic shapes: one
compile for every batch and length, and one more for calls with and without padded rows; measured on an
H200: 139 s to compile, +8.5% at batch 1 over graphs alone, so it is off by default). ``cuda_graphs``
replays the whole Euler loop of a call of up to ``graph_rows`` rows from a CUDA graph captured per (rows,
frame bucket, steps, guidance) key (H200, batch 1: 116x real time against 63x eager). Frames are padded up
to a multiple of ``frame_bucket`` (padded frames are masked: results are those of the unpadded call); at
most ``max_graphs`` graphs are kept (least recently used dropped), sharing one memory pool. ``fused_vocoder``
makes each of HiFT's Snake activations (with the row mask after it) one inductor kernel instead of five eager
ones (a few seconds to compile on first use, once for every shape; on by default on CUDA).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from model.errors import ModelError

log = logging.getLogger(__name__)

_COMPUTE = (torch.float32, torch.bfloat16, torch.float16)


@dataclass(frozen=True)
class S3GenRuntime:
    compute_dtype: torch.dtype = torch.float32     # encoder + estimator (autocast); float32 = exact parity
    vocoder_dtype: torch.dtype = torch.float32     # HiFT convolutions (autocast)
    compile: bool = False                          # torch.compile the estimator (CUDA)
    cuda_graphs: bool = False                      # Euler loop from CUDA graphs for small calls (CUDA)
    fused_vocoder: bool = False                    # HiFT's Snake activations as compiled kernels (CUDA)
    graph_rows: int = 16                           # largest call (rows) replayed from a graph
    frame_bucket: int = 64                         # graph keys round the frame count up to this (1.28 s)
    max_graphs: int = 8

    @classmethod
    def for_device(cls, device: torch.device | str, *, compile: bool = False,
                   model_dtype: torch.dtype | None = None) -> S3GenRuntime:
        """CUDA: bf16 encoder/estimator (float32 where the model was asked for float32), fp32 HiFT with fused
        Snakes, Euler loop from CUDA graphs; elsewhere float32 throughout."""
        device = torch.device(device)
        if device.type == "cuda":
            compute = torch.float32 if model_dtype == torch.float32 else torch.bfloat16
            rt = cls(compute_dtype=compute, compile=compile, cuda_graphs=True, fused_vocoder=True)
        else:
            rt = cls()
        log.info("S3Gen runtime for %s: %s", device, rt)
        return rt

    @property
    def autocast(self) -> bool:
        return self.compute_dtype != torch.float32

    def validate(self, device: torch.device) -> None:
        """ModelError for settings the device cannot honour (asked-for CUDA features are never dropped silently)."""
        for name, dt in (("compute_dtype", self.compute_dtype), ("vocoder_dtype", self.vocoder_dtype)):
            if dt not in _COMPUTE:
                raise ModelError(f"S3Gen {name} must be float32, bfloat16 or float16, got {dt}")
        if (self.compile or self.cuda_graphs or self.fused_vocoder) and device.type != "cuda":
            raise ModelError("S3Gen compile / cuda_graphs / fused_vocoder need a CUDA device, "
                             f"the model is on {device}")
        if self.graph_rows < 1 or self.frame_bucket < 1 or self.max_graphs < 1:
            raise ModelError(f"S3Gen graph_rows, frame_bucket and max_graphs must be >= 1, got {self}")


def autocast(device: torch.device, dtype: torch.dtype):
    """Autocast to ``dtype`` on ``device`` (a no-op context for float32)."""
    return torch.autocast(device_type=device.type, dtype=dtype, enabled=dtype != torch.float32)
