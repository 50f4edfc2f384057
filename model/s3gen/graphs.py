"""The CFM Euler loop replayed from CUDA graphs, one per (rows, frame bucket, steps, guidance, precision).

Legend: B rows, M mel bins, T frames of the call, Tb = T rounded up to the bucket. A small call is
launch-bound (each estimator evaluation is ~1,000 kernels of microseconds each); one graph replay runs the
whole n-step loop with no host work in between. Inputs are copied into static buffers padded to Tb frames
(mask 0 on the padding, so every real frame gets the unpadded result); the output is copied out, so a later
replay of any graph (they share one memory pool) cannot touch what was returned.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

Solve = Callable[..., torch.Tensor]   # (z, mask, mu, spks, cond) -> x, keyword settings bound


@dataclass
class _Graph:
    graph: torch.cuda.CUDAGraph
    inputs: tuple[torch.Tensor, ...]      # z, mask, mu, spks, cond (static, Tb frames)
    out: torch.Tensor


class SolveGraphs:
    """LRU cache of captured Euler loops; ``run`` pads, copies in, replays and copies out."""

    def __init__(self, bucket: int, max_graphs: int):
        self.bucket, self.max_graphs = bucket, max_graphs
        self._graphs: OrderedDict[tuple, _Graph] = OrderedDict()
        self._pool = None
        self.captures = 0

    def clear(self) -> None:
        self._graphs.clear()
        self._pool = None

    def __len__(self) -> int:
        return len(self._graphs)

    def bucketed(self, T: int) -> int:
        return -(-T // self.bucket) * self.bucket

    def run(self, solve: Solve, key: tuple, z: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor,
            spks: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """``solve`` over inputs ``(B, M, T)`` (spks ``(B, M)``) -> float32 ``(B, M, T)``."""
        T = z.shape[-1]
        Tb = self.bucketed(T)
        pad = (0, Tb - T)
        args = (F.pad(z.float(), pad), F.pad(mask, pad), F.pad(mu, pad), spks, F.pad(cond, pad))
        full_key = (*key, z.shape[0], Tb, z.device, mu.dtype)
        g = self._graphs.get(full_key)
        if g is None:
            g, first = self._capture(solve, args)
            self._graphs[full_key] = g
            while len(self._graphs) > self.max_graphs:
                self._graphs.popitem(last=False)
            return first[..., :T].clone()
        self._graphs.move_to_end(full_key)
        for dst, src in zip(g.inputs, args, strict=True):
            dst.copy_(src)
        g.graph.replay()
        return g.out[..., :T].clone()

    def _capture(self, solve: Solve, args: tuple[torch.Tensor, ...]) -> tuple[_Graph, torch.Tensor]:
        """The graph, and the warm-up's result on the same inputs (this call's answer: no replay needed)."""
        static = tuple(a.clone() for a in args)
        stream = torch.cuda.current_stream(static[0].device)
        side = torch.cuda.Stream(device=static[0].device)
        side.wait_stream(stream)
        with torch.cuda.stream(side):       # warm-up outside the capture: cuBLAS handles, compile, autotune
            first = solve(*static)
        stream.wait_stream(side)
        first.record_stream(stream)
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            out = solve(*static)
        self.captures += 1
        log.debug("captured the Euler loop for %d rows x %d frames (%d graphs)", static[0].shape[0],
                  static[0].shape[-1], len(self._graphs) + 1)
        return _Graph(graph, static, out), first
