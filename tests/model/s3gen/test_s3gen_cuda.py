"""S3Gen on CUDA (pytest -m gpu): graph replay equals eager, ragged batches, bf16, compile, no host syncs."""

import pytest
import torch

from model.s3gen import S3Gen, S3GenRef, S3GenRuntime
from model.s3gen.hift import snake
from model.testing.s3gen_checkpoint import s3gen_state_dict

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
BF16 = torch.bfloat16


@pytest.fixture(scope="module")
def model():
    return S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=3, voice=False), "cuda", S3GenRuntime())


@pytest.fixture(scope="module")
def ref():
    g = torch.Generator().manual_seed(7)
    return S3GenRef(torch.randint(0, 6561, (1, 12), generator=g), torch.tensor([12]),
                    torch.randn(1, 24, 80, generator=g) - 5, None, torch.randn(1, 192, generator=g)).to("cuda")


def rows(*lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 6561, (n,), generator=g).cuda() for n in lengths]


def mels(model, runtime, toks, ref, noise):
    model.use(runtime)
    try:
        return model.tokens_to_mels(toks, ref, noise=noise)
    finally:
        model.use(S3GenRuntime())


def rel(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("dtype", [torch.float32, BF16])
def test_graph_replay_equals_eager_and_is_reused(model, ref, dtype):
    toks = rows(9, 23, 16)
    noise = model.draw_noise([9, 23, 16], ref, [torch.Generator("cuda").manual_seed(i) for i in range(3)])
    eager = mels(model, S3GenRuntime(compute_dtype=dtype), toks, ref, noise)
    model.use(S3GenRuntime(compute_dtype=dtype, cuda_graphs=True, frame_bucket=32))
    try:
        first = model.tokens_to_mels(toks, ref, noise=noise)          # warm-up run's result, then capture
        again = model.tokens_to_mels(toks, ref, noise=noise)          # replay
        third = model.tokens_to_mels(toks, ref, noise=noise)
        assert model.flow.graphs.captures == 1 and len(model.flow.graphs) == 1
    finally:
        model.use(S3GenRuntime())
    for e, a, b, c in zip(eager, first, again, third, strict=True):
        assert a.shape == e.shape and torch.equal(b, c) and rel(a, b) < 1e-6
        # padding to the bucket changes GEMM shapes: fp32 rounding only (3.3e-5 measured on an H200)
        assert rel(a, e) < (1e-4 if dtype == torch.float32 else 1e-2)


def test_graphs_keep_batched_equal_to_one_by_one(model, ref):
    toks = rows(7, 30, 12, seed=2)
    gens = [torch.Generator("cuda").manual_seed(10 + i) for i in range(3)]
    noise = model.draw_noise([7, 30, 12], ref, gens)
    model.use(S3GenRuntime(cuda_graphs=True))
    try:
        batched = model.tokens_to_mels(toks, ref, noise=noise)
        for i, t in enumerate(toks):
            one = model.tokens_to_mels([t], ref, noise=noise[i:i + 1, :, :2 * (12 + t.numel())])[0]
            assert rel(one, batched[i]) < 1e-4, i
    finally:
        model.use(S3GenRuntime())


def test_graph_cache_is_bounded(model, ref):
    model.use(S3GenRuntime(cuda_graphs=True, frame_bucket=8, max_graphs=2))
    try:
        for n in (4, 12, 20, 28):
            model.tokens_to_mels(rows(n), ref, generators=[torch.Generator("cuda").manual_seed(n)])
        assert len(model.flow.graphs) == 2 and model.flow.graphs.captures == 4
    finally:
        model.use(S3GenRuntime())


@pytest.mark.parametrize("graphs", [False, True])
def test_flow_makes_no_host_syncs(model, ref, graphs):
    """Encoder, CFM and the row cut queue GPU work only (HiFT's torch.istft checks its window on the host)."""
    toks = rows(10, 14)
    padded = torch.nn.utils.rnn.pad_sequence(toks, batch_first=True)
    gens = [torch.Generator("cuda").manual_seed(i) for i in range(2)]
    noise = model.draw_noise([10, 14], ref, gens)
    model.use(S3GenRuntime(compute_dtype=BF16, cuda_graphs=graphs))
    try:
        model.flow(padded, [10, 14], ref, noise, 10, 0.7)                  # warm: capture, cuBLAS handles
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            out = model.flow(padded, [10, 14], ref, noise, 10, 0.7)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    finally:
        model.use(S3GenRuntime())
    assert [m.shape[-1] for m in out] == [20, 28]


def test_fused_snakes_give_the_eager_waveforms_in_batches_of_four_rows_or_more(model):
    g = torch.Generator().manual_seed(5)
    lengths = (31, 12, 24, 40, 7)
    mels_in = [(torch.randn(80, n, generator=g) - 4).cuda() for n in lengths]
    seeds = range(len(lengths))

    def vocode(fused, ms, seeds):
        model.use(S3GenRuntime(fused_vocoder=fused))
        compiled, calls = model.mel2wav.activation, []
        model.mel2wav.activation = lambda *a: (calls.append(1), compiled(*a))[1]
        try:
            return model.vocode(ms, [torch.Generator("cuda").manual_seed(s) for s in seeds]), len(calls)
        finally:
            model.use(S3GenRuntime())

    eager, _ = vocode(False, mels_in, seeds)
    fused, calls = vocode(True, mels_in, seeds)
    alone, alone_calls = vocode(True, mels_in[1:2], [1])
    assert calls > 0 and alone_calls == 0             # one row: eager Snakes (guards cost more than they save)
    assert model.mel2wav.activation is snake          # back to eager with the plain runtime
    for e, f in zip(eager, fused, strict=True):
        # libdevice sin against CUDA's sinf, through HiFT's exp: fp32 rounding (1.3e-4 measured on an H200)
        assert f.shape == e.shape and rel(f, e) < 1e-3
    assert rel(alone[0], fused[1]) < 1e-3


@pytest.mark.slow
def test_compiled_estimator_equals_eager(model, ref):
    toks = rows(9, 23)
    noise = model.draw_noise([9, 23], ref, [torch.Generator("cuda").manual_seed(i) for i in range(2)])
    eager = mels(model, S3GenRuntime(compute_dtype=BF16), toks, ref, noise)
    compiled = mels(model, S3GenRuntime(compute_dtype=BF16, compile=True), toks, ref, noise)
    graphed = mels(model, S3GenRuntime(compute_dtype=BF16, compile=True, cuda_graphs=True), toks, ref, noise)
    for e, c, g in zip(eager, compiled, graphed, strict=True):
        assert rel(c, e) < 1e-2 and rel(g, e) < 1e-2
