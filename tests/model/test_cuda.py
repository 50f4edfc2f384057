"""CUDA execution (run on a GPU machine: pytest -m gpu): same tokens and audio as the CPU, batching, bf16, memory."""

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
    from model.t3 import T3Cond

    v = tts.builtin_voice().to(tts.device)
    cond = T3Cond(speaker_emb=v.speaker_emb, prompt_tokens=v.cond_prompt_speech_tokens, exaggeration=0.5)
    ids = [torch.tensor(tts.tokenizer.encode(t)) for t in texts]
    return generate(tts.t3, ids, cond, T3Params(greedy=greedy, max_new_tokens=max_new, cfg_weight=cfg), seeds)


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
