"""Static key/value cache: buffers sized once per generation, written in place.

Dimensions: L layers, B rows (batch x CFG), H kv heads, S slots (max sequence length), Dh head width.
Prefill writes slots ``0..T-1`` of every row with ``narrow().copy_()``; a decode step writes one slot per
row at that row's own position (``index_put_``), so ragged rows share one buffer. Nothing grows during
decoding, and the shapes never change within a generation (ready for CUDA graphs).
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of every layer: two ``(L, B, H, S, Dh)`` buffers."""

    def __init__(self, n_layers: int, batch: int, n_heads: int, max_len: int, head_dim: int, *,
                 device: torch.device | str, dtype: torch.dtype) -> None:
        shape = (n_layers, batch, n_heads, max_len, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self._rows = torch.arange(batch, device=device)

    @property
    def max_len(self) -> int:
        return self.k.shape[3]

    @property
    def batch(self) -> int:
        return self.k.shape[1]

    def write_prefix(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store a prefill's ``(B, H, T, Dh)`` keys and values in slots ``0..T-1``."""
        t = k.shape[2]
        self.k[layer].narrow(2, 0, t).copy_(k)
        self.v[layer].narrow(2, 0, t).copy_(v)

    def write_step(self, layer: int, k: torch.Tensor, v: torch.Tensor, pos: torch.Tensor) -> None:
        """Store one step's ``(B, H, 1, Dh)`` keys and values at each row's slot ``pos`` (B,)."""
        self.k[layer][self._rows, :, pos] = k[:, :, 0]  # (B, H, Dh) into (B, H) at (row, pos)
        self.v[layer][self._rows, :, pos] = v[:, :, 0]

    def view(self, layer: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``length`` slots of a layer: ``(B, H, length, Dh)`` views, no copy."""
        return self.k[layer].narrow(2, 0, length), self.v[layer].narrow(2, 0, length)

    def release(self) -> None:
        """Drop the buffers now (the object is unusable afterwards)."""
        self.k = self.v = torch.empty(0)
