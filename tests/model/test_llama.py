"""Our Llama backbone equals transformers' LlamaModel (llama3 RoPE, SDPA) on the same weights; cache paths agree."""

import pytest
import torch

from model.config import LlamaConfig
from model.fill import fill_module_
from model.kv_cache import KVCache
from model.llama import Llama, llama3_inv_freq

transformers = pytest.importorskip("transformers")

CFG = LlamaConfig(dim=128, n_layers=3, n_heads=2, n_kv_heads=2, intermediate=256)


def _hf_model(cfg: LlamaConfig):
    hf_cfg = transformers.LlamaConfig(
        vocab_size=cfg.dummy_vocab, hidden_size=cfg.dim, intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.n_kv_heads,
        head_dim=cfg.head_dim, max_position_embeddings=131072, rms_norm_eps=cfg.norm_eps, hidden_act="silu",
        attention_bias=False, mlp_bias=False, attn_implementation="sdpa",
        rope_scaling=dict(rope_type="llama3", factor=cfg.rope_factor, low_freq_factor=cfg.rope_low_freq_factor,
                          high_freq_factor=cfg.rope_high_freq_factor,
                          original_max_position_embeddings=cfg.rope_original_max_positions),
        rope_theta=cfg.rope_theta)
    return transformers.LlamaModel(hf_cfg).eval()


@pytest.fixture(scope="module")
def pair():
    ours = Llama(CFG).eval()
    fill_module_(ours, seed=3)
    hf = _hf_model(CFG)
    missing, unexpected = hf.load_state_dict(ours.state_dict(), strict=True)
    assert not missing and not unexpected
    return ours, hf


def test_inv_freq_matches_transformers(pair):
    _, hf = pair
    torch.testing.assert_close(llama3_inv_freq(CFG), hf.rotary_emb.inv_freq.float(), rtol=0, atol=0)


@torch.inference_mode()
def test_full_sequence_equals_transformers(pair):
    ours, hf = pair
    x = torch.randn(2, 40, CFG.dim, generator=torch.Generator().manual_seed(0))
    pos = torch.arange(40).expand(2, -1)
    ref = hf(inputs_embeds=x).last_hidden_state
    torch.testing.assert_close(ours(x, pos), ref, rtol=0, atol=1e-5)


@torch.inference_mode()
def test_long_positions_use_scaled_rope(pair):
    """Positions past 8192 exercise the llama3 low-frequency scaling."""
    ours, hf = pair
    x = torch.randn(1, 12, CFG.dim, generator=torch.Generator().manual_seed(1))
    pos = (torch.arange(12) * 997 + 5000)[None]
    ref = hf(inputs_embeds=x, position_ids=pos).last_hidden_state
    torch.testing.assert_close(ours(x, pos), ref, rtol=0, atol=1e-4)


@torch.inference_mode()
def test_prefill_then_cached_steps_equal_full_sequence(pair):
    ours, _ = pair
    t0, steps = 20, 6
    x = torch.randn(2, t0 + steps, CFG.dim, generator=torch.Generator().manual_seed(2))
    full = ours(x, torch.arange(t0 + steps).expand(2, -1))
    cache = KVCache(CFG.n_layers, 2, CFG.n_kv_heads, t0 + steps + 4, CFG.head_dim, device="cpu", dtype=torch.float32)
    pre = ours(x[:, :t0], torch.arange(t0).expand(2, -1), cache=cache)
    torch.testing.assert_close(pre, full[:, :t0], rtol=0, atol=1e-5)
    slots = torch.arange(cache.max_len)
    for k in range(steps):
        pos = torch.full((2,), t0 + k)
        mask = (slots[: t0 + k + 1][None] <= pos[:, None])[:, None, None]
        out = ours(x[:, t0 + k : t0 + k + 1], pos[:, None], mask, cache=cache, pos=pos, kv_len=t0 + k + 1)
        torch.testing.assert_close(out[:, 0], full[:, t0 + k], rtol=0, atol=1e-5)


@torch.inference_mode()
def test_grouped_kv_heads_equal_transformers():
    cfg = LlamaConfig(dim=256, n_layers=2, n_heads=4, n_kv_heads=2, intermediate=256)
    ours = Llama(cfg).eval()
    fill_module_(ours, seed=4)
    hf = _hf_model(cfg)
    hf.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(1, 16, cfg.dim, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(ours(x, torch.arange(16)[None]), hf(inputs_embeds=x).last_hidden_state,
                               rtol=0, atol=1e-5)
