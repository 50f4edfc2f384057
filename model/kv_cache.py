"""Static key/value cache: buffers sized once per generation, written in place.

Dimensions: L layers, B rows (batch x CFG), S slots (max sequence length), H kv heads, Dh head width.
The layout is ``(L, B, S, H, Dh)``: one layer's rows lie one after another, so a decode step's attention can
read them as one packed ``(B * S, H, Dh)`` buffer and use only each row's filled slots (``model.attention``).
Prefill writes slots ``0..T-1`` of every row; a decode step writes one slot per row at that row's own
position, so ragged rows share one buffer. Nothing grows during decoding, and the shapes never change within
a generation (ready for CUDA graphs).
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of every layer: two ``(L, B, S, H, Dh)`` buffers, and the step's filled lengths."""

    def __init__(self, n_layers: int, batch: int, n_heads: int, max_len: int, head_dim: int, *,
                 device: torch.device | str, dtype: torch.dtype) -> None:
        shape = (n_layers, batch, max_len, n_heads, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self._rows = torch.arange(batch, device=device)
        # packed-varlen offsets: row b's query is entry b, its slots start at b * S
        self.q_starts = torch.arange(batch + 1, device=device, dtype=torch.int32)
        self.k_starts = self.q_starts * max_len
        self.used = torch.ones(batch, device=device, dtype=torch.int32)  # slots each row attends this step

    @property
    def max_len(self) -> int:
        return self.k.shape[2]

    @property
    def batch(self) -> int:
        return self.k.shape[1]

    def write_prefix(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store a prefill's ``(B, H, T, Dh)`` keys and values in slots ``0..T-1`` of every row."""
        t = k.shape[2]
        self.k[layer].narrow(1, 0, t).copy_(k.transpose(1, 2))
        self.v[layer].narrow(1, 0, t).copy_(v.transpose(1, 2))

    def write_rows(self, layer: int, rows: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store a prefill's ``(R, H, T, Dh)`` keys and values in slots ``0..T-1`` of rows ``rows`` (R,)."""
        t = k.shape[2]
        self.k[layer][rows, :t] = k.transpose(1, 2)
        self.v[layer][rows, :t] = v.transpose(1, 2)

    def rows(self, rows: torch.Tensor) -> RowsWriter:
        """A cache for a prefill of ``len(rows)`` rows that stores them in rows ``rows`` of this one (a refill)."""
        return RowsWriter(self, rows)

    def begin_step(self, pos: torch.Tensor) -> None:
        """A decode step writes slot ``pos`` (B,) of each row and attends over slots ``0..pos``."""
        self.used.copy_(pos + 1)

    def write_step(self, layer: int, k: torch.Tensor, v: torch.Tensor, pos: torch.Tensor) -> None:
        """Store one step's ``(B, H, 1, Dh)`` keys and values at each row's slot ``pos`` (B,)."""
        self.k[layer][self._rows, pos] = k[:, :, 0]  # (B, H, Dh) into (B, S) at (row, pos)
        self.v[layer][self._rows, pos] = v[:, :, 0]

    def view(self, layer: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``length`` slots of a layer: ``(B, H, length, Dh)`` views, no copy."""
        return self.k[layer, :, :length].transpose(1, 2), self.v[layer, :, :length].transpose(1, 2)

    def packed(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A layer's keys and values as packed ``(B * S, H, Dh)`` views, no copy."""
        b, s, h, d = self.k.shape[1:]
        return self.k[layer].view(b * s, h, d), self.v[layer].view(b * s, h, d)

    def release(self) -> None:
        """Drop the buffers now (the object is unusable afterwards)."""
        self.k = self.v = torch.empty(0)


class RowsWriter:
    """What a prefill writes into: its R rows go to rows ``rows`` of a larger cache."""

    def __init__(self, cache: KVCache, rows: torch.Tensor) -> None:
        self.cache, self.rows = cache, rows

    def write_prefix(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        self.cache.write_rows(layer, self.rows, k, v)
