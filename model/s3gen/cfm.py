"""Conditional flow matching: the Euler solver over the estimator (standard CFG and meanflow).

Legend: B batch, M mel bins, T mel frames. The solver keeps only its current state ``x (B, M, T)``
(float32 whatever the compute dtype); nothing per step is stored.

Standard (English): t_k = 1 - cos(π/2 · k/n), k = 0..n; each step runs the estimator on a batch of
2B (conditional rows, then rows with mu, spks and cond zeroed) and moves along
v = (1 + w)·v_cond - w·v_uncond with w = ``cfg_rate`` (0.7). w = 0 runs the conditional rows only.
Meanflow (turbo): t_k = k/n, no guidance, x += (t_{k+1} - t_k)·v(x, t_k, r = t_{k+1}).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from model.s3gen.config import EstimatorConfig
from model.s3gen.estimator import Estimator
from model.s3gen.runtime import autocast


def time_grid(n_steps: int, cosine: bool, device: torch.device) -> torch.Tensor:
    """``(n+1,)`` float32 grid from 0 to 1, cosine-warped for the standard decoder."""
    t = torch.linspace(0, 1, n_steps + 1, device=device, dtype=torch.float32)
    return 1 - torch.cos(t * 0.5 * torch.pi) if cosine else t


class FlowMatching(nn.Module):
    """Holds the estimator under the official name ``decoder.estimator``."""

    def __init__(self, cfg: EstimatorConfig, mel_bins: int = 80):
        super().__init__()
        self.estimator = Estimator(cfg, mel_bins)
        self.meanflow = cfg.meanflow
        self.compiled: Callable[..., torch.Tensor] | None = None     # torch.compile'd estimator.forward, if any

    def solve(self, z: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, spks: torch.Tensor,
              cond: torch.Tensor, n_steps: int, cfg_rate: float, *, compute_dtype: torch.dtype = torch.float32,
              padded: bool = True) -> torch.Tensor:
        """Integrate from noise ``z (B, M, T)`` at t=0 to the mel at t=1; returns float32 ``(B, M, T)``.

        The estimator runs under autocast to ``compute_dtype``; the state x, the time grid, the CFG combine
        and the Euler update stay float32. ``padded=False`` promises that ``mask`` is all ones (no key
        masking in attention: SDPA may pick its flash kernel). No host syncs: capturable in a CUDA graph.
        """
        grid = time_grid(n_steps, not self.meanflow, z.device)
        x = z.float()
        B = x.shape[0]
        if self.meanflow or cfg_rate == 0.0:
            rows = B
            mask_in, mu_in, spks_in, cond_in = mask, mu, spks, cond
        else:
            rows = 2 * B
            mask_in = torch.cat([mask, mask])
            mu_in = torch.cat([mu, torch.zeros_like(mu)])
            spks_in = torch.cat([spks, torch.zeros_like(spks)])
            cond_in = torch.cat([cond, torch.zeros_like(cond)])
        for k in range(n_steps):
            t, r = grid[k:k + 1], grid[k + 1:k + 2]
            x_in = x if rows == B else torch.cat([x, x])
            with autocast(x.device, compute_dtype):
                v = (self.compiled or self.estimator)(x_in, mask_in, mu_in, t.expand(rows), spks_in, cond_in,
                                   r.expand(rows) if self.meanflow else None, padded=padded)
            v = v.float()
            if rows != B:
                v_c, v_u = v.split(B)
                v = (1.0 + cfg_rate) * v_c - cfg_rate * v_u
            x = x + (r - t) * v
        return x
