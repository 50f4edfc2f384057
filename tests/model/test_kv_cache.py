"""The static KV cache writes prefixes and per-row decode slots in place and never reallocates."""

import torch

from model.kv_cache import KVCache


def test_prefix_and_ragged_step_writes_land_in_place():
    c = KVCache(2, 3, 4, 10, 8, device="cpu", dtype=torch.float32)
    k_ptr, v_ptr = c.k.data_ptr(), c.v.data_ptr()
    k = torch.randn(3, 4, 5, 8)
    v = torch.randn(3, 4, 5, 8)
    c.write_prefix(1, k, v)
    kv, vv = c.view(1, 5)
    torch.testing.assert_close(kv, k)
    torch.testing.assert_close(vv, v)
    assert c.k[0].abs().sum() == 0  # other layer untouched
    pos = torch.tensor([5, 7, 9])
    ks, vs = torch.randn(3, 4, 1, 8), torch.randn(3, 4, 1, 8)
    c.write_step(1, ks, vs, pos)
    kv, vv = c.view(1, 10)
    for row, p in enumerate(pos.tolist()):
        torch.testing.assert_close(kv[row, :, p], ks[row, :, 0])
        torch.testing.assert_close(vv[row, :, p], vs[row, :, 0])
    assert kv[0, :, 6:].abs().sum() == 0  # nothing written past row 0's slot
    kv, _ = c.view(1, 8)
    assert kv.shape == (3, 4, 8, 8) and kv.data_ptr() == c.k[1].data_ptr()
    assert (c.k.data_ptr(), c.v.data_ptr()) == (k_ptr, v_ptr)


def test_packed_view_puts_each_rows_slots_at_its_offset():
    c = KVCache(1, 3, 2, 6, 4, device="cpu", dtype=torch.float32)
    ks = torch.randn(3, 2, 1, 4)
    c.write_step(0, ks, ks, torch.tensor([0, 2, 5]))
    pk, _ = c.packed(0)
    assert pk.shape == (18, 2, 4) and pk.data_ptr() == c.k.data_ptr()
    for row, p in enumerate([0, 2, 5]):
        torch.testing.assert_close(pk[int(c.k_starts[row]) + p], ks[row, :, 0])
    c.begin_step(torch.tensor([0, 2, 5]))
    assert c.used.tolist() == [1, 3, 6] and c.q_starts.tolist() == [0, 1, 2, 3]


def test_rows_write_touches_only_those_rows():
    c = KVCache(1, 4, 2, 6, 4, device="cpu", dtype=torch.float32)
    k = torch.randn(2, 2, 3, 4)
    c.write_rows(0, torch.tensor([3, 1]), k, -k)
    kv, vv = c.view(0, 3)
    torch.testing.assert_close(kv[3], k[0])
    torch.testing.assert_close(vv[1], -k[1])
    assert kv[0].abs().sum() == 0 and kv[2].abs().sum() == 0


def test_release_drops_buffers():
    c = KVCache(1, 1, 1, 4, 2, device="cpu", dtype=torch.float32)
    c.release()
    assert c.k.numel() == 0 and c.v.numel() == 0
