"""Replaying a decode step (``model.decode.step``, ``model.turbo.generate``'s) from a CUDA graph, optionally
compiled by inductor.

The step reads and writes only static buffers (``model.decode.DecodeState``) and keeps its step counters on
the device, so one recorded graph serves every step. The first ``WARMUP_STEPS`` calls run eagerly on a side
stream (as torch requires before capture; a compiled step compiles during them), the
next one captures the step into a ``torch.cuda.CUDAGraph`` (no kernel runs while recording) and replays it,
and every later call replays. The graph and its memory pool go away with the ``StepGraph``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)

WARMUP_STEPS = 2  # eager steps on a side stream before capture
_SIDE_STREAMS: dict[torch.device, torch.cuda.Stream] = {}  # one per device: bounded cuBLAS workspaces


def _side_stream(device: torch.device) -> torch.cuda.Stream:
    key = torch.device("cuda", device.index if device.index is not None else torch.cuda.current_device())
    if key not in _SIDE_STREAMS:
        _SIDE_STREAMS[key] = torch.cuda.Stream(device=key)
    return _SIDE_STREAMS[key]


class StepGraph:
    """Calls ``fn`` (shape-static, sync-free): eagerly for the warm-up, then from one captured graph."""

    def __init__(self, fn: Callable[[], None], device: torch.device) -> None:
        self.fn, self.device = fn, device
        self.side = _side_stream(device)
        self.calls = 0
        self.graph: torch.cuda.CUDAGraph | None = None

    def __call__(self) -> None:
        if self.graph is not None:
            self.graph.replay()
            return
        current = torch.cuda.current_stream(self.device)
        self.side.wait_stream(current)
        if self.calls < WARMUP_STEPS:
            with torch.cuda.stream(self.side):
                self.fn()
            self.calls += 1
        else:
            # thread-local capture, so other threads may use the GPU meanwhile
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.device(self.device), torch.cuda.graph(graph, stream=self.side,
                                                                   capture_error_mode="thread_local"):
                self.fn()
            log.debug("captured a decode step on %s", self.device)
            self.graph = graph
            current.wait_stream(self.side)
            graph.replay()
            return
        current.wait_stream(self.side)


def graphed(device: torch.device) -> Callable[[Callable[[], None]], StepGraph]:
    """A ``step_fn`` for ``model.decode.run``: wraps the step in a ``StepGraph`` on ``device``."""
    return lambda fn: StepGraph(fn, device)


_COMPILED: dict[str, Callable] = {}


def compiled_step() -> Callable:
    """``model.decode.step`` compiled by inductor (once per process; shapes are static, so one compilation per
    batch size): it fuses the processors, norms and rotary maths into fewer kernels, and the graph records
    the generated kernels like any others."""
    if "step" not in _COMPILED:
        from model.decode import step

        _COMPILED["step"] = torch.compile(step, dynamic=False, fullgraph=False)
    return _COMPILED["step"]
