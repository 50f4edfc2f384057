"""Decode attention over the static cache: the flash/varlen and the plain paths, with and without a shared
prefix, equal attention over the concatenated keys."""

import math

import pytest
import torch
import torch.nn.functional as F

from model import attention
from model.kv_cache import KVCache

B, H, DH, S, C = 5, 4, 16, 12, 7


def _filled(device: str, dtype: torch.dtype, seed: int = 0):
    """A cache whose rows are filled to different lengths, a one-row prefix, a step's query."""
    g = torch.Generator().manual_seed(seed)
    cache = KVCache(2, B, H, S, DH, device=device, dtype=dtype)
    prefix = KVCache(2, 1, H, C, DH, device=device, dtype=dtype)
    for layer in range(2):
        cache.write_prefix(layer, *(torch.randn(B, H, S, DH, generator=g).to(device, dtype) for _ in range(2)))
        prefix.write_prefix(layer, *(torch.randn(1, H, C, DH, generator=g).to(device, dtype) for _ in range(2)))
    pos = torch.tensor([0, 3, 11, 6, 9], device=device)
    cache.begin_step(pos)
    q = torch.randn(B, H, 1, DH, generator=g).to(device, dtype)
    mask = (torch.arange(S, device=device)[None] <= pos[:, None])[:, None, None]  # (B, 1, 1, S)
    return cache, prefix, pos, q, mask


def _reference(q, cache, prefix, pos, layer):
    """Row by row: softmax over [prefix | own slots 0..pos] in float64."""
    k, v = cache.view(layer, S)
    outs = []
    for b in range(B):
        ks, vs = k[b, :, : int(pos[b]) + 1], v[b, :, : int(pos[b]) + 1]  # (H, n, Dh)
        if prefix is not None:
            pk, pv = prefix.view(layer, C)
            ks, vs = torch.cat((pk[0], ks), 1), torch.cat((pv[0], vs), 1)
        w = torch.softmax((q[b].double() @ ks.double().transpose(-1, -2)) / math.sqrt(DH), -1)  # (H, 1, n)
        outs.append(w @ vs.double())
    return torch.stack(outs)  # (B, H, 1, Dh)


@pytest.mark.parametrize("with_prefix", [False, True])
def test_plain_path_equals_row_by_row_softmax(with_prefix):
    cache, prefix, pos, q, mask = _filled("cpu", torch.float32)
    out = attention.decode_attention(q, cache, 1, S, mask, prefix if with_prefix else None)
    ref = _reference(q, cache, prefix if with_prefix else None, pos, 1)
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-5)


def test_prefill_with_prefix_equals_attention_over_the_concatenation():
    g = torch.Generator().manual_seed(1)
    prefix = KVCache(1, 1, H, C, DH, device="cpu", dtype=torch.float32)
    prefix.write_prefix(0, torch.randn(1, H, C, DH, generator=g), torch.randn(1, H, C, DH, generator=g))
    q, k, v = (torch.randn(2, H, 5, DH, generator=g) for _ in range(3))
    out = attention.prefill_attention(q, k, v, None, prefix, 0)
    pk, pv = prefix.view(0, C)
    kk, vv = torch.cat((pk.expand(2, -1, -1, -1), k), 2), torch.cat((pv.expand(2, -1, -1, -1), v), 2)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    visible = torch.cat((torch.ones(5, C, dtype=torch.bool), causal), 1)
    ref = F.scaled_dot_product_attention(q, kk, vv, attn_mask=visible)
    torch.testing.assert_close(out, ref)


def test_flash_is_not_chosen_off_cuda_or_in_float32():
    assert not attention.flash_usable(torch.zeros(1, 1, 1, 64))
    if torch.cuda.is_available():
        assert not attention.flash_usable(torch.zeros(1, 1, 1, 64, device="cuda"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("with_prefix", [False, True])
def test_flash_path_equals_the_reference_on_cuda(with_prefix):
    cache, prefix, pos, q, mask = _filled("cuda", torch.bfloat16)
    assert attention.flash_usable(q), "the varlen flash kernel should serve bf16 on this GPU"
    out = attention.decode_attention(q, cache, 1, S, mask, prefix if with_prefix else None)
    assert not attention._FLASH_BROKEN, attention._FLASH_BROKEN
    ref = _reference(q, cache, prefix if with_prefix else None, pos, 1)
    torch.testing.assert_close(out.double(), ref, rtol=2e-2, atol=2e-2)


def _padded_rows(device: str, dtype: torch.dtype):
    """Three rows padded to 10 positions (real lengths 10, 4, 7) and their key mask."""
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(3, 10, H, DH, generator=g).to(device, dtype) for _ in range(3))
    lengths = [10, 4, 7]
    mask = (torch.arange(10)[None] < torch.tensor(lengths)[:, None]).float()[:, None].to(device)  # (B, 1, T)
    return q, k, v, lengths, attention.PaddedKeys(mask)


def _padded_reference(q, k, v, lengths):
    """Row by row in float64: every position (padded ones too) attends over its row's real keys only."""
    outs = []
    for b, n in enumerate(lengths):
        qb, kb, vb = (x[b].double().transpose(0, 1) for x in (q, k, v))  # (H, T, Dh)
        w = torch.softmax(qb @ kb[:, :n].transpose(-1, -2) / math.sqrt(DH), -1)
        outs.append((w @ vb[:, :n]).transpose(0, 1))
    return torch.stack(outs)  # (B, T, H, Dh)


def test_key_padded_attention_hides_each_rows_padding():
    q, k, v, lengths, keys = _padded_rows("cpu", torch.float32)
    out = attention.key_padded_attention(q, k, v, keys)
    torch.testing.assert_close(out.double(), _padded_reference(q, k, v, lengths), rtol=1e-5, atol=1e-5)
    unmasked = attention.key_padded_attention(q, k, v, None)
    torch.testing.assert_close(unmasked[0], out[0])      # the full-length row sees the same keys either way
    assert not torch.allclose(unmasked[1], out[1])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_key_padded_attention_takes_the_flash_kernel_on_cuda():
    q, k, v, lengths, keys = _padded_rows("cuda", torch.bfloat16)
    assert attention.flash_usable(q)
    out = attention.key_padded_attention(q, k, v, keys)
    assert not attention._FLASH_BROKEN, attention._FLASH_BROKEN
    torch.testing.assert_close(out.double(), _padded_reference(q, k, v, lengths), rtol=2e-2, atol=2e-2)
