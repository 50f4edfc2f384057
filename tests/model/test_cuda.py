"""CUDA execution (run on a GPU machine: pytest -m gpu): same tokens and audio as the CPU, batching, bf16, memory."""

import logging

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

TEXTS = ["Hello there.", "A somewhat longer sentence, with a clause in it.", "Third one!"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from model.testing import write_random_checkpoint

    return write_random_checkpoint(tmp_path_factory.mktemp("tiny"), "tiny")


@pytest.fixture(scope="module")
def cpu_tts(folder):
    from model.tts import TTS

    return TTS.load(folder, device="cpu", watermark=False)


@pytest.fixture(scope="module")
def cuda_tts(folder):
    from model.tts import TTS

    return TTS.load(folder, device="cuda", dtype="float32", watermark=False)


def _tokens(tts, texts, seeds, greedy=True, max_new=60, cfg=0.5):
    from model.generate import T3Params, generate
    from model.params import SynthesisParams
    from model.t3 import T3Cond

    v = tts.builtin_voice().to(tts.device)
    cond = T3Cond(speaker_emb=v.speaker_emb, prompt_tokens=v.cond_prompt_speech_tokens, exaggeration=0.5)
    ids = [torch.tensor(tts.tokenizer.encode(t)) for t in texts]
    return generate(tts.t3, ids, cond, SynthesisParams(max_new_tokens=max_new, cfg_weight=cfg), seeds,
                    T3Params(greedy=greedy))


@pytest.mark.parametrize("cfg", [0.5, 0.0])
def test_greedy_tokens_equal_cpu(cpu_tts, cuda_tts, cfg):
    cpu = _tokens(cpu_tts, TEXTS, [0, 1, 2], cfg=cfg)
    gpu = _tokens(cuda_tts, TEXTS, [0, 1, 2], cfg=cfg)
    for a, b in zip(cpu, gpu, strict=True):
        assert torch.equal(a, b)


def test_batching_on_cuda(cuda_tts):
    """Greedy: batched equals one-by-one. Sampled: the same batch twice is identical (deterministic kernels).

    Sampled batched-vs-alone equality holds exactly on the CPU (tests/model/test_generate.py); on CUDA the
    matmul kernels depend on the batch shape, so a near-tie in min-p filtering can flip late in a long row.
    """
    greedy = _tokens(cuda_tts, TEXTS, [5, 6, 7])
    for i, text in enumerate(TEXTS):
        assert torch.equal(_tokens(cuda_tts, [text], [5 + i])[0], greedy[i])
    first = _tokens(cuda_tts, TEXTS, [5, 6, 7], greedy=False)
    again = _tokens(cuda_tts, TEXTS, [5, 6, 7], greedy=False)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)


def test_s3gen_mel_equals_cpu(cpu_tts, cuda_tts):
    v = cpu_tts.builtin_voice()
    tokens = [torch.randint(0, 6561, (n,), generator=torch.Generator().manual_seed(n)) for n in (17, 30)]
    noise = cpu_tts.s3gen.draw_noise([17, 30], v.gen, [torch.Generator().manual_seed(i) for i in range(2)])
    cpu = cpu_tts.s3gen.tokens_to_mels(tokens, v.gen, noise=noise)
    gpu = cuda_tts.s3gen.tokens_to_mels(tokens, v.gen.to("cuda"), noise=noise.cuda())
    for a, b in zip(cpu, gpu, strict=True):
        assert a.shape == b.shape
        assert (a - b.cpu()).abs().max() < 2e-3  # TF32 matmuls on the GPU


def test_bf16_synthesis_and_flat_memory(folder):
    from model.tts import TTS, SynthesisParams

    tts = TTS.load(folder, device="cuda", dtype="bfloat16", watermark=False)
    p = SynthesisParams(max_new_tokens=40)
    peaks = []
    for r in range(6):
        torch.cuda.reset_peak_memory_stats()
        wavs = tts.synthesize(TEXTS, tts.builtin_voice(), p, seeds=[r, r + 1, r + 2], batch_size=3)
        tts.release()
        peaks.append(torch.cuda.max_memory_allocated())
        assert all(np.isfinite(w).all() and w.dtype == np.float32 and w.size > 0 for w in wavs)
    assert max(peaks[2:]) <= peaks[1] * 1.01


def _raw(model, cond, texts, seeds, **kw):
    from dataclasses import fields

    from model.generate import T3Params, generate_raw
    from model.params import SynthesisParams

    graph = kw.pop("graph")
    fixed = kw.pop("fixed_shapes", True)
    names = {f.name for f in fields(SynthesisParams)}
    params = SynthesisParams(**{k: v for k, v in kw.items() if k in names})
    dec = T3Params(cuda_graph=graph, **{k: v for k, v in kw.items() if k not in names})
    return generate_raw(model, texts, cond, params, seeds, dec, fixed_shapes=fixed)


def _cond(tts):
    from model.t3 import T3Cond

    v = tts.builtin_voice().to(tts.device)
    return T3Cond(speaker_emb=v.speaker_emb, prompt_tokens=v.cond_prompt_speech_tokens, exaggeration=0.5)


def _ids(tts, texts):
    return [torch.tensor(tts.tokenizer.encode(t)) for t in texts]


@pytest.fixture(scope="module")
def bf16_t3():
    from model.t3 import T3, T3Cond
    from model.testing.t3_checkpoint import t3_config, t3_state_dict

    m = T3(t3_config("tiny")).eval()
    m.load_state_dict(t3_state_dict("tiny", seed=1))
    m = m.to(device="cuda", dtype=torch.bfloat16)
    g = torch.Generator().manual_seed(0)
    cond = T3Cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 150), generator=g), 0.5)
    with torch.inference_mode():
        return m, m.encode_cond(cond)


RAGGED = [torch.arange(5, 25), torch.tensor([40, 41, 42]), torch.arange(100, 160) % 700 + 3, torch.tensor([7])]


@pytest.mark.parametrize("cfg", [0.5, 0.0])
def test_cuda_graph_greedy_fp32_equals_eager(cuda_tts, cfg, caplog):
    cond, ids = _cond(cuda_tts), _ids(cuda_tts, TEXTS)
    kw = dict(greedy=True, max_new_tokens=80, cfg_weight=cfg)
    eager = _raw(cuda_tts.t3, cond, ids, [0, 1, 2], graph=False, **kw)
    with caplog.at_level(logging.DEBUG, logger="model.cuda_graph"):
        graph = _raw(cuda_tts.t3, cond, ids, [0, 1, 2], graph=True, **kw)
    assert "captured a decode step" in caplog.text  # the graph path really ran
    assert torch.equal(graph.tokens, eager.tokens) and torch.equal(graph.lengths, eager.lengths)
    growing = _raw(cuda_tts.t3, cond, ids, [0, 1, 2], graph=False, fixed_shapes=False, **kw)
    assert torch.equal(graph.tokens, growing.tokens)


@pytest.mark.parametrize("cfg", [0.5, 0.0])
def test_cuda_graph_sampled_bf16_equals_eager(bf16_t3, cfg):
    model, cond_emb = bf16_t3
    kw = dict(max_new_tokens=120, cfg_weight=cfg, top_p=0.9, stop_at_eos=False)
    seeds = [11, 12, 13, 14]
    eager = _raw(model, cond_emb, RAGGED, seeds, graph=False, **kw)
    graph = _raw(model, cond_emb, RAGGED, seeds, graph=True, **kw)
    assert torch.equal(graph.tokens, eager.tokens)
    assert torch.equal(_raw(model, cond_emb, RAGGED, seeds, graph=True, **kw).tokens, graph.tokens)


def test_cuda_graph_ragged_batch_stops_like_eager(cuda_tts):
    """Rows stop on their own stop token; early exit every 4 steps; short runs (fewer steps than the warm-up)."""
    cond = _cond(cuda_tts)
    for k, every in ((1, 1), (2, 1), (3, 1), (200, 4)):
        kw = dict(greedy=False, max_new_tokens=k, stop_check_every=every)
        eager = _raw(cuda_tts.t3, cond, RAGGED, [1, 2, 3, 4], graph=False, **kw)
        graph = _raw(cuda_tts.t3, cond, RAGGED, [1, 2, 3, 4], graph=True, **kw)
        assert torch.equal(graph.tokens, eager.tokens) and torch.equal(graph.lengths, eager.lengths)


def test_cuda_graph_memory_does_not_grow(bf16_t3):
    from model.generate import release_memory

    model, cond_emb = bf16_t3
    kw = dict(max_new_tokens=64, stop_at_eos=False)
    for _ in range(2):  # allocator, cuBLAS workspaces and the capture stream settle
        _raw(model, cond_emb, RAGGED, [0, 1, 2, 3], graph=True, **kw)
        release_memory("cuda")
    torch.cuda.synchronize()
    base, base_reserved = torch.cuda.memory_allocated(), torch.cuda.memory_reserved()
    for r in range(4):
        _raw(model, cond_emb, RAGGED[: 1 + r % 4], list(range(1 + r % 4)), graph=True, **kw)
        release_memory("cuda")
        torch.cuda.synchronize()
        assert torch.cuda.memory_allocated() <= base + 2**16  # a leaked graph pool or static buffer is larger
        assert torch.cuda.memory_reserved() <= base_reserved + 2**20  # segments are >= 2 MiB


def test_cuda_graph_continuous_batching_equals_one_by_one(cuda_tts):
    """Fewer slots than texts on the graph path: every text equals its own eager run (greedy, fp32)."""
    from model.generate import T3Params, generate_raw
    from model.params import SynthesisParams

    cond, caps = _cond(cuda_tts), [30, 7, 19, 12]
    params = SynthesisParams(max_new_tokens=40)
    graph = generate_raw(cuda_tts.t3, RAGGED, cond, params, [1, 2, 3, 4], T3Params(greedy=True, stop_check_every=4),
                         caps=caps, slots=2)
    for i, text in enumerate(RAGGED):
        alone = generate_raw(cuda_tts.t3, [text], cond, params, [1 + i], T3Params(greedy=True, cuda_graph=False),
                             caps=[caps[i]])
        assert graph.row(i).tolist() == alone.row(0).tolist()


def test_compiled_step_equals_graph(cuda_tts):
    """The inductor-compiled step inside the graph gives the graph's tokens (greedy, fp32)."""
    kw = dict(greedy=True, max_new_tokens=40)
    cond, ids = _cond(cuda_tts), _ids(cuda_tts, TEXTS)
    plain = _raw(cuda_tts.t3, cond, ids, [0, 1, 2], graph=True, **kw)
    compiled = _raw(cuda_tts.t3, cond, ids, [0, 1, 2], graph=True, compile=True, **kw)
    assert torch.equal(compiled.tokens, plain.tokens) and torch.equal(compiled.lengths, plain.lengths)
