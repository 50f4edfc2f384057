"""The multilingual alignment guard makes the official analyzer's decisions, batched, and runs inside decoding."""

from pathlib import Path

import pytest
import torch

from model.alignment import AlignmentGuard, supports_guard
from model.config import LlamaConfig, T3Config
from model.generate import T3Params, generate_raw
from model.params import SynthesisParams
from model.t3 import T3, T3Cond

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "t3" / "alignment_golden.safetensors"


def test_guard_decisions_equal_the_official_analyzer():
    from safetensors.torch import load_file

    if not GOLDEN.is_file():
        pytest.skip(f"golden file absent: {GOLDEN}")
    g = load_file(str(GOLDEN))
    rows, tokens, codes, lens = g["align_rows"], g["align_tokens"], g["align_codes"], g["align_text_lens"]
    guard = AlignmentGuard.__new__(AlignmentGuard)
    AlignmentGuard.__init__(guard, model=None, text_lens=lens, cond_len=0)
    eos, ours = 9, torch.zeros_like(codes)
    for k in range(rows.shape[1]):
        repeated = tokens[:, k - 1] == tokens[:, k - 2] if k >= 2 else None
        out = guard.step(torch.zeros(len(lens), 10), rows[:, k], k, repeated, eos)
        ours[:, k] = torch.where(out[:, eos] > 0, 2, torch.where(out[:, eos] < 0, 1, 0))
    assert (codes == 2).any() and (codes == 1).any() and (codes == 0).any()
    assert torch.equal(ours, codes)


def test_guard_runs_inside_multilingual_decoding():
    cfg = T3Config(llama=LlamaConfig(dim=64, n_layers=14, n_heads=16, n_kv_heads=16, head_dim=4, intermediate=64),
                   text_vocab=2454, speech_vocab=8194, text_positions=64, speech_positions=64, perceiver_queries=4)
    torch.manual_seed(0)
    model = T3(cfg).eval()
    assert supports_guard(model)
    cond = T3Cond(torch.randn(1, 256), torch.randint(0, 6561, (1, 10)), 0.5)
    texts = [torch.arange(3, 13), torch.arange(20, 26)]
    params, dec = SynthesisParams(max_new_tokens=12), T3Params(greedy=True)
    guarded = generate_raw(model, texts, cond, params, [0, 0], dec)
    for i, t in enumerate(texts):  # batched equals one-by-one with the guard on
        assert guarded.row(i).tolist() == generate_raw(model, [t], cond, params, [0], dec).row(0).tolist()
    for layer in model.tfmr.layers:  # detached afterwards
        assert layer.self_attn.capture_head is None and layer.self_attn.captured is None
    # the guard forces a stop as soon as a token repeats immediately
    for i in range(2):
        row = guarded.row(i).tolist()
        repeats = [k for k in range(2, len(row)) if row[k - 1] == row[k - 2]]
        if repeats:
            assert row[repeats[0]] == cfg.stop_speech
