"""bf16 S3Gen (encoder + estimator under autocast, fp32 Euler state) against the fp32 parity goldens.

The goldens are the official package's fp32 outputs at full size (tests/golden/s3gen, 20 prompt + 30 new
tokens). Bounds: mel within 1% relative L2 (measured ~0.09%); the waveform vocoded from the bf16 mel in fp32
HiFT within 40 dB SNR of the golden (measured ~49 dB). HiFT's convolutions in bf16 give only ~25 dB, which
is why ``S3GenRuntime.vocoder_dtype`` stays float32 by default.
"""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.s3gen import S3Gen, S3GenRef, S3GenRuntime
from model.testing.s3gen_checkpoint import s3gen_state_dict

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "s3gen"
pytestmark = pytest.mark.slow
BF16 = torch.bfloat16


def snr_db(ours: torch.Tensor, ref: torch.Tensor) -> float:
    return float(10 * torch.log10(ref.pow(2).sum() / (ours - ref).pow(2).sum().clamp_min(1e-30)))


def rel_l2(ours: torch.Tensor, ref: torch.Tensor) -> float:
    return float((ours - ref).norm() / ref.norm())


@pytest.fixture(scope="module")
def golden():
    meta = json.loads((GOLDEN / "meta.json").read_text())
    return meta, load_file(str(GOLDEN / "s3gen_golden.safetensors"))


@pytest.fixture(scope="module")
def model(golden):
    meta, _ = golden
    return S3Gen.from_state_dict(s3gen_state_dict("full", meta["fill_seed"], voice=False), "cpu",
                                 S3GenRuntime(compute_dtype=BF16))


@pytest.fixture(scope="module")
def ref(golden):
    _, g = golden
    return S3GenRef(g["in.prompt_token"], torch.tensor([g["in.prompt_token"].shape[1]]), g["in.prompt_feat"], None,
                    g["in.embedding"])


def test_bf16_mel_within_one_percent_and_waveform_snr(model, golden, ref):
    meta, g = golden
    tok = g["in.speech_tokens"][0]
    n_prompt = g["in.prompt_feat"].shape[1]
    mel = model.tokens_to_mels([tok], ref, noise=g["in.z"])[0]                # explicit noise
    assert mel.dtype == torch.float32
    assert rel_l2(mel, g["solve_mel_full"][0, :, n_prompt:]) < 0.01
    gen = torch.Generator().manual_seed(meta["flow_seed"])                   # the official seed-11 flow mel
    mel = model.tokens_to_mels([tok], ref, generators=[gen])[0]
    assert rel_l2(mel, g["flow_mel"][0]) < 0.01
    wav = model.vocode([mel], [torch.Generator().manual_seed(meta["hift_seed"])], fade=False)[0]
    assert wav.shape == g["hift_wav"][0].shape
    assert snr_db(wav, g["hift_wav"][0]) >= 40


def test_bf16_vocoder_loses_snr_so_it_stays_fp32(model, golden):
    meta, g = golden
    mel = g["flow_mel"][0]
    fp32 = model.vocode([mel], [torch.Generator().manual_seed(meta["hift_seed"])], fade=False)[0]
    assert snr_db(fp32, g["hift_wav"][0]) >= 60                             # default: HiFT exact
    model.use(S3GenRuntime(compute_dtype=BF16, vocoder_dtype=BF16))
    try:
        bf16 = model.vocode([mel], [torch.Generator().manual_seed(meta["hift_seed"])], fade=False)[0]
    finally:
        model.use(S3GenRuntime(compute_dtype=BF16))
    assert 15 <= snr_db(bf16, g["hift_wav"][0]) < 40


def test_bf16_meanflow_two_step_mel_within_one_percent(golden):
    """The turbo (meanflow) decoder in bf16: 2 steps from the golden noise, against the official fp32 mel."""
    from model.fill import fill_state_dict
    from model.s3gen.cfm import FlowMatching
    from model.testing.s3gen_checkpoint import s3gen_config, s3gen_shapes

    _, g = golden
    cfg = s3gen_config("full", meanflow=True)
    prefix = "flow.decoder.estimator."
    sd = fill_state_dict({k: v for k, v in s3gen_shapes(cfg).items() if k.startswith(prefix)}, seed=0)
    fm = FlowMatching(cfg.estimator)
    fm.estimator.load_state_dict({k[len(prefix):]: v for k, v in sd.items()}, strict=True)
    mu = g["mu"]
    cond = torch.zeros_like(mu)
    cond[:, :, :g["in.prompt_feat"].shape[1]] = g["in.prompt_feat"].transpose(1, 2)
    with torch.inference_mode():
        mel = fm.solve(g["in.z"], torch.ones(1, 1, mu.shape[-1]), mu, g["spks"], cond, 2, 0.0, compute_dtype=BF16,
                       padded=False)
    assert mel.dtype == torch.float32
    assert rel_l2(mel, g["mf_solve_mel_full"]) < 0.01
