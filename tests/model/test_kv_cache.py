"""The static KV cache writes prefixes and per-row decode slots in place and never reallocates."""

import torch

from model.kv_cache import KVCache


def test_prefix_and_ragged_step_writes_land_in_place():
    c = KVCache(2, 3, 4, 10, 8, device="cpu", dtype=torch.float32)
    k_ptr, v_ptr = c.k.data_ptr(), c.v.data_ptr()
    k = torch.randn(3, 4, 5, 8)
    v = torch.randn(3, 4, 5, 8)
    c.write_prefix(1, k, v)
    torch.testing.assert_close(c.k[1, :, :, :5], k)
    torch.testing.assert_close(c.v[1, :, :, :5], v)
    assert c.k[0].abs().sum() == 0  # other layer untouched
    pos = torch.tensor([5, 7, 9])
    ks, vs = torch.randn(3, 4, 1, 8), torch.randn(3, 4, 1, 8)
    c.write_step(1, ks, vs, pos)
    for row, p in enumerate(pos.tolist()):
        torch.testing.assert_close(c.k[1, row, :, p], ks[row, :, 0])
        torch.testing.assert_close(c.v[1, row, :, p], vs[row, :, 0])
    assert c.k[1, 0, :, 6:].abs().sum() == 0  # nothing written past row 0's slot
    kv, vv = c.view(1, 8)
    assert kv.shape == (3, 4, 8, 8) and kv.data_ptr() == c.k[1].data_ptr()
    assert (c.k.data_ptr(), c.v.data_ptr()) == (k_ptr, v_ptr)


def test_release_drops_buffers():
    c = KVCache(1, 1, 1, 4, 2, device="cpu", dtype=torch.float32)
    c.release()
    assert c.k.numel() == 0 and c.v.numel() == 0
