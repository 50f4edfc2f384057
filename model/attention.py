"""Decode-step attention over a static ``KVCache``, optionally after a prefix shared by every row; and
bidirectional attention over padded rows (``key_padded_attention``, S3Gen's estimator).

Dimensions: B rows, H heads, Dh head width, S cache slots, C shared-prefix slots.

A decode step has one query per row; row b attends over its cache slots ``0..pos_b`` (``cache.used``), and,
when a ``prefix`` cache (one row) is given, first over the C prefix slots every row shares (Turbo's voice
prompt is the same for every text of a batch, so it is stored and read once instead of once per row).

Two ways to read a row's own slots, the same maths:
* CUDA with fp16/bf16: FlashAttention's varlen kernel on the cache's packed ``(B * S, H, Dh)`` view with each
  row's filled length (``seqused_k``), so a step reads only the filled slots of every row whatever the cache's
  size; the lengths live on the device, so one CUDA graph serves every step.
* elsewhere: SDPA over the first ``kv_len`` slots with the step's boolean mask.
With a prefix the two parts are combined by their log-sum-exps (the softmax over the concatenated keys).
"""

from __future__ import annotations

import functools
import logging
import math

import torch
import torch.nn.functional as F

from model.kv_cache import KVCache

log = logging.getLogger(__name__)

_FLASH_BROKEN: list[str] = []  # the first failure's message: later steps use SDPA without trying again


def flash_usable(q: torch.Tensor) -> bool:
    """Whether the varlen flash kernel can serve this query (CUDA, half precision, sm80+, Dh % 8 == 0)."""
    if _FLASH_BROKEN or not q.is_cuda or q.dtype not in (torch.float16, torch.bfloat16):
        return False
    if q.shape[-1] % 8 or q.shape[-1] > 256:
        return False
    return _sm80(q.device.index if q.device.index is not None else torch.cuda.current_device())


@functools.cache
def _sm80(index: int) -> bool:
    """Ampere or newer (asked once per device: the eager loop asks every layer of every step)."""
    return torch.cuda.get_device_capability(index)[0] >= 8


def _flash_own(q: torch.Tensor, cache: KVCache, layer: int, lse: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Own-slot attention by the varlen flash kernel: out (B, H, Dh), and the log-sum-exp (B, H) fp32."""
    b, h, _, d = q.shape
    k, v = cache.packed(layer)
    out, lse_raw, *_ = torch.ops.aten._flash_attention_forward(
        q.reshape(b, h, d), k, v, cache.q_starts, cache.k_starts, 1, cache.max_len, 0.0, False, False,
        scale=1.0 / math.sqrt(d), seqused_k=cache.used)
    if not lse:
        return out, None
    # (H, total_q) in the varlen layout of FlashAttention 2; (B, H, 1) in the padded one
    return out, (lse_raw.t() if lse_raw.dim() == 2 else lse_raw[..., 0]).float()


def _math_own(q: torch.Tensor, cache: KVCache, layer: int, kv_len: int, mask: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Own-slot attention in plain tensor maths: out (B, H, Dh), log-sum-exp (B, H) fp32."""
    k, v = cache.view(layer, kv_len)  # (B, H, S, Dh)
    s = (q @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1])  # (B, H, 1, S)
    s = s.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(s, dim=-1)  # (B, H, 1)
    out = (torch.exp(s - lse[..., None]).to(v.dtype) @ v)[:, :, 0]  # (B, H, Dh)
    return out, lse[..., 0]


def _prefix_part(q: torch.Tensor, prefix: KVCache, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention over the shared prefix as one matmul per head: out (B, H, Dh) fp32, log-sum-exp (B, H)."""
    qh = q[:, :, 0].transpose(0, 1)  # (H, B, Dh)
    pk = prefix.k[layer, 0].permute(1, 2, 0)  # (H, Dh, C) view: GEMM-compatible strides, no copy
    pv = prefix.v[layer, 0].permute(1, 0, 2)  # (H, C, Dh)
    s = torch.bmm(qh, pk).float() / math.sqrt(q.shape[-1])  # (H, B, C)
    lse = torch.logsumexp(s, dim=-1)  # (H, B)
    out = torch.bmm(torch.exp(s - lse[..., None]).to(pv.dtype), pv)  # (H, B, Dh)
    return out.transpose(0, 1).float(), lse.t()


def decode_attention(q: torch.Tensor, cache: KVCache, layer: int, kv_len: int, mask: torch.Tensor,
                     prefix: KVCache | None = None) -> torch.Tensor:
    """One decode step's attention (q (B, H, 1, Dh) -> (B, H, 1, Dh)) after ``cache.write_step``.

    ``mask`` (B, 1, 1, kv_len) hides the slots past each row's position (used off the flash path).
    """
    flash = flash_usable(q)
    if flash:
        try:
            own, own_lse = _flash_own(q, cache, layer, lse=prefix is not None)
        except (RuntimeError, TypeError) as exc:  # a torch build without the varlen kernel's arguments
            _FLASH_BROKEN.append(str(exc))
            log.warning("flash decode attention unavailable (%s); attending over the whole cache with SDPA",
                        str(exc).splitlines()[0])
            flash = False
    if not flash and prefix is None:
        k, v = cache.view(layer, kv_len)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    if not flash:
        own, own_lse = _math_own(q, cache, layer, kv_len, mask)
    if prefix is None:
        return own[:, :, None]
    pre, pre_lse = _prefix_part(q, prefix, layer)
    total = torch.logaddexp(pre_lse, own_lse)  # (B, H)
    out = pre * torch.exp(pre_lse - total)[..., None] + own.float() * torch.exp(own_lse - total)[..., None]
    return out.to(q.dtype)[:, :, None]


def prefill_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
                      prefix: KVCache | None, layer: int) -> torch.Tensor:
    """Prefill attention of T new positions (q, k, v (B, H, T, Dh)), after the shared prefix if given.

    ``mask`` (B, 1, T, T) carries causality and padding (None: causal). The prefix is visible to every
    position.
    """
    t = q.shape[2]
    if prefix is None:
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    b, c = q.shape[0], prefix.max_len
    pk, pv = prefix.view(layer, c)  # (1, H, C, Dh)
    k = torch.cat((pk.expand(b, -1, -1, -1), k), dim=2)
    v = torch.cat((pv.expand(b, -1, -1, -1), v), dim=2)
    if mask is None:
        mask = torch.ones(t, t, dtype=torch.bool, device=q.device).tril()[None, None]
    full = torch.cat((torch.ones(*mask.shape[:-1], c, dtype=torch.bool, device=q.device), mask), dim=-1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=full.expand(b, -1, -1, -1))


def key_padded_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, keys: PaddedKeys | None
                         ) -> torch.Tensor:
    """Bidirectional attention of rows padded to T positions: q, k, v ``(B, T, H, Dh)`` (unit stride on Dh)
    -> ``(B, T, H, Dh)``. Row b's keys past ``keys.lengths[b]`` are hidden; ``keys`` None: none are.

    With padded rows SDPA cannot use its flash kernel for an additive mask (its memory-efficient kernel took
    47% of S3Gen's time at batch 128 on an H200); FlashAttention's varlen kernel on the packed ``(B * T, H,
    Dh)`` views with per-row key counts (``seqused_k``) computes the same softmax without a mask.
    """
    b, t, h, d = q.shape
    if keys is not None and flash_usable(q):
        try:
            out, *_ = torch.ops.aten._flash_attention_forward(
                q.reshape(b * t, h, d), k.reshape(b * t, h, d), v.reshape(b * t, h, d), keys.starts, keys.starts,
                t, t, 0.0, False, False, scale=1.0 / math.sqrt(d), seqused_k=keys.lengths)
            return out.view(b, t, h, d)
        except (RuntimeError, TypeError) as exc:  # a torch build without the varlen kernel's arguments
            _FLASH_BROKEN.append(str(exc))
            log.warning("flash attention for padded rows unavailable (%s); using SDPA with a mask",
                        str(exc).splitlines()[0])
    mask = None if keys is None else keys.bias.to(q.dtype)
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask)
    return out.transpose(1, 2)


class PaddedKeys:
    """Which keys of a padded batch are real, in the form each attention path takes: made once per call, on
    first use by the path that runs (every block of the call shares it).

    ``mask`` ``(B, 1, T)`` float, 1 on real positions and a prefix of each row. ``bias`` ``(B, 1, 1, T)``:
    0 or -1e10 (SDPA); ``lengths`` ``(B,)`` int32 real positions per row and ``starts`` ``(B + 1,)`` int32
    row offsets in the packed layout (flash).
    """

    def __init__(self, mask: torch.Tensor):
        self.mask = mask

    @functools.cached_property
    def bias(self) -> torch.Tensor:
        return ((1.0 - self.mask) * -1.0e10).unsqueeze(1)

    @functools.cached_property
    def lengths(self) -> torch.Tensor:
        return self.mask[:, 0].sum(-1).to(torch.int32)

    @functools.cached_property
    def starts(self) -> torch.Tensor:
        b, _, t = self.mask.shape
        return torch.arange(0, (b + 1) * t, t, dtype=torch.int32, device=self.mask.device)
