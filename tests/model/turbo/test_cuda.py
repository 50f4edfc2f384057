"""Turbo on CUDA (pytest -m gpu on the device machine): graph-replayed decoding equals eager, CPU greedy, bf16 runs."""

import contextlib

import numpy as np
import pytest
import torch

from model.turbo.generate import TurboDecodeParams, generate_raw
from model.turbo.t3 import load_turbo_t3
from model.turbo.tts import TurboTTS

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _texts(n: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, 2048, (5 + 7 * i,), generator=g) for i in range(n)]


def _cond(model):
    g = torch.Generator().manual_seed(0)
    return model.encode_cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 40), generator=g))


def _eager(p: TurboDecodeParams) -> TurboDecodeParams:
    return TurboDecodeParams(**{**p.__dict__, "cuda_graph": False})


@pytest.fixture(scope="module")
def models(tiny_folder):
    path = tiny_folder / "t3_turbo_v1.safetensors"
    return load_turbo_t3(path), load_turbo_t3(path, "cuda")


@contextlib.contextmanager
def _full_fp32():
    """TF32 off: the tiny random model's greedy argmax has near-ties that TF32 rounding flips (seen on the H200)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_graph_equals_eager_and_cpu_greedy(models):
    cpu, gpu = models
    p = TurboDecodeParams(max_new_tokens=40, greedy=True, stop_at_eos=False)
    ref = generate_raw(cpu, _texts(4), _cond(cpu), p, [0] * 4)
    with _full_fp32():
        graph = generate_raw(gpu, _texts(4), _cond(gpu), p, [0] * 4)
        eager = generate_raw(gpu, _texts(4), _cond(gpu), _eager(p), [0] * 4)
    assert torch.equal(graph.tokens, eager.tokens)
    assert torch.equal(graph.tokens, ref.tokens)


def test_sampled_graph_equals_sampled_eager(models):
    _, gpu = models
    p = TurboDecodeParams(max_new_tokens=40, stop_at_eos=False)
    graph = generate_raw(gpu, _texts(3), _cond(gpu), p, [1, 2, 3])
    eager = generate_raw(gpu, _texts(3), _cond(gpu), _eager(p), [1, 2, 3])
    assert torch.equal(graph.tokens, eager.tokens)


def test_bf16_synthesis_end_to_end(tiny_folder):
    tts = TurboTTS.load(tiny_folder, device="cuda", dtype="bfloat16", watermark=False)
    out = tts.synthesize(["Hello there [laugh].", "A second, longer text."], tts.builtin_voice(), seeds=[1, 2])
    assert all(w.dtype == np.float32 and np.isfinite(w).all() and w.size % 960 == 0 for w in out)
    tts.release()
