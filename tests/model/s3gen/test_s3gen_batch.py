"""S3Gen batching on a tiny random checkpoint: ragged rows equal one-by-one, lengths, seeds, noise, errors."""

import pytest
import torch

from model.errors import ModelError
from model.s3gen import S3Gen, S3GenRef, S3GenRuntime
from model.s3gen.config import MEL_BINS
from model.testing.s3gen_checkpoint import s3gen_state_dict


def snr_db(ours: torch.Tensor, ref: torch.Tensor) -> float:
    return float(10 * torch.log10(ref.pow(2).sum() / (ours - ref).pow(2).sum().clamp_min(1e-30)))


@pytest.fixture(scope="module")
def model():
    return S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=3, voice=False))


@pytest.fixture(scope="module")
def ref():
    g = torch.Generator().manual_seed(7)
    return S3GenRef(torch.randint(0, 6561, (1, 12), generator=g), torch.tensor([12]),
                    torch.randn(1, 24, 80, generator=g) - 5, None, torch.randn(1, 192, generator=g))


def gens(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def rows(*lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 6561, (n,), generator=g) for n in lengths]


def test_batched_equals_one_by_one(model, ref):
    toks = rows(9, 23, 16)
    g = gens(1, 2, 3)
    mels = model.tokens_to_mels(toks, ref, generators=g)
    wavs = model.vocode(mels, g)                        # same generators, continued: = synthesize
    assert all(torch.equal(a, b) for a, b in zip(wavs, model.synthesize(toks, ref, generators=gens(1, 2, 3)),
                                                 strict=True))
    for i, (t, s) in enumerate(zip(toks, (1, 2, 3), strict=True)):
        g1 = gens(s)
        mel1 = model.tokens_to_mels([t], ref, generators=g1)[0]
        wav1 = model.vocode([mel1], g1)[0]
        assert mels[i].shape == mel1.shape == (MEL_BINS, 2 * t.numel())
        assert (mels[i] - mel1).abs().max() < 1e-5, i
        assert wavs[i].shape == wav1.shape == (960 * t.numel(),)
        assert snr_db(wavs[i], wav1) > 60, i


def test_padding_of_other_rows_does_not_leak(model, ref):
    short, long_a = rows(7, 30, seed=1)
    long_b = long_a.flip(0)
    a = model.synthesize([short, long_a], ref, generators=gens(5, 6))[0]
    b = model.synthesize([short, long_b], ref, generators=gens(5, 6))[0]
    assert snr_db(a, b) > 60


def test_seeds_and_explicit_noise(model, ref):
    toks = rows(10, 14)
    a = model.synthesize(toks, ref, generators=gens(1, 2))
    b = model.synthesize(toks, ref, generators=gens(1, 2))
    c = model.synthesize(toks, ref, generators=gens(1, 9))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1])
    noise = model.draw_noise([10, 14], ref, gens(1, 2))
    assert noise.shape == (2, MEL_BINS, 2 * (12 + 14))
    m1 = model.tokens_to_mels(toks, ref, generators=gens(1, 2))
    m2 = model.tokens_to_mels(toks, ref, noise=noise)
    assert all(torch.equal(x, y) for x, y in zip(m1, m2, strict=True))


def test_trim_fade_and_range(model, ref):
    wav = model.synthesize(rows(20), ref, generators=gens(0))[0]
    assert torch.all(wav[:480] == 0)
    assert wav[480:].abs().max() > 0 and wav.abs().max() <= 0.99
    assert torch.isfinite(wav).all()


def test_guidance_rate_and_steps_change_the_mel(model, ref):
    toks = rows(12)
    base = model.tokens_to_mels(toks, ref, generators=gens(0))[0]
    assert not torch.allclose(base, model.tokens_to_mels(toks, ref, generators=gens(0), cfg_rate=0.0)[0])
    assert not torch.allclose(base, model.tokens_to_mels(toks, ref, generators=gens(0), n_steps=3)[0])


def test_meanflow_variant_loads_and_runs(ref):
    mf = S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=3, voice=False, meanflow=True))
    assert mf.meanflow
    toks = rows(8, 11)
    wavs = mf.synthesize(toks, ref, generators=gens(1, 2))
    one = mf.synthesize(toks[1:], ref, generators=gens(2))[0]
    assert [w.shape[0] for w in wavs] == [960 * 8, 960 * 11]
    assert snr_db(wavs[1], one) > 60


def test_bad_inputs_are_one_line_model_errors(model, ref):
    with pytest.raises(ModelError, match="6561"):
        model.synthesize([torch.tensor([1, 6561])], ref)
    with pytest.raises(ModelError, match="empty"):
        model.synthesize([], ref)
    with pytest.raises(ModelError, match="non-empty"):
        model.synthesize([torch.tensor([], dtype=torch.long)], ref)
    with pytest.raises(ModelError, match="generators"):
        model.synthesize(rows(3, 4), ref, generators=gens(1))


def test_inconsistent_voice_is_a_model_error(model, ref):
    bad = S3GenRef(ref.prompt_token, ref.prompt_token_len, torch.zeros(1, 3 * ref.n_prompt_tokens, 80), None,
                   ref.embedding)
    with pytest.raises(ModelError, match="mel frames"):
        model.synthesize(rows(5), bad)
    with pytest.raises(ModelError, match="x-vector"):
        model.synthesize(rows(5), S3GenRef(ref.prompt_token, ref.prompt_token_len, ref.prompt_feat, None,
                                           torch.zeros(1, 80)))


def test_row_groups_in_encoder_and_vocoder_change_nothing(model, ref):
    toks = rows(6, 13, 9)
    whole = model.synthesize(toks, ref, generators=gens(1, 2, 3))
    model.flow.encoder_rows, model.vocoder_rows = 2, 1
    try:
        grouped = model.synthesize(toks, ref, generators=gens(1, 2, 3))
    finally:
        model.flow.encoder_rows, model.vocoder_rows = 16, 16
    assert all(snr_db(a, b) > 60 for a, b in zip(grouped, whole, strict=True))


def test_bf16_batched_equals_one_by_one_within_bf16_rounding(ref):
    bf = S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=3, voice=False), "cpu",
                               S3GenRuntime(compute_dtype=torch.bfloat16))
    toks = rows(9, 23, 16)
    mels = bf.tokens_to_mels(toks, ref, generators=gens(1, 2, 3))
    for i, (t, s) in enumerate(zip(toks, (1, 2, 3), strict=True)):
        one = bf.tokens_to_mels([t], ref, generators=gens(s))[0]
        assert mels[i].shape == one.shape and mels[i].dtype == torch.float32
        assert float((mels[i] - one).norm() / one.norm()) < 1e-2, i


def test_bf16_weights_held_in_bf16_give_autocast_results_bit_for_bit(ref):
    """Holding matmul weights in bf16 only saves autocast's casts: same mels as fp32 weights under autocast."""
    sd = s3gen_state_dict("tiny", seed=3, voice=False)
    held = S3Gen.from_state_dict(sd, "cpu", S3GenRuntime(compute_dtype=torch.bfloat16))
    cast = S3Gen.from_state_dict(sd)                                   # fp32 weights, autocast below
    assert held.flow.decoder.estimator.final_proj.weight.dtype == torch.bfloat16
    assert held.flow.spk_embed_affine_layer.weight.dtype == torch.float32       # runs outside autocast
    toks = rows(9, 23)
    noise = held.draw_noise([9, 23], ref, gens(1, 2))
    a = held.tokens_to_mels(toks, ref, noise=noise)
    cast.flow.runtime = S3GenRuntime(compute_dtype=torch.bfloat16)     # autocast, weights left in fp32
    b = cast.tokens_to_mels(toks, ref, noise=noise)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    held.use(S3GenRuntime())                                          # back to fp32: the originals return
    assert held.flow.decoder.estimator.final_proj.weight.dtype == torch.float32
    fp32 = S3Gen.from_state_dict(sd)
    assert all(torch.equal(x, y) for x, y in zip(held.tokens_to_mels(toks, ref, noise=noise),
                                                  fp32.tokens_to_mels(toks, ref, noise=noise), strict=True))
