"""Meanflow S3Gen (Turbo) at full size equals the official ``S3Gen(meanflow=True)`` on greedy Turbo tokens.

Golden: tests/golden/turbo/s3gen_golden.safetensors (scripts/golden_turbo.py): 24 greedy tokens of the
official Turbo T3 plus the three silence tokens (4299), 2 meanflow steps, noise from one torch seed (the
official draw order: the generated part's noise, the whole noise, then HiFT's source draws).
"""

import pytest
import torch
from safetensors.torch import load_file

from model.s3gen import S3Gen, S3GenRef
from model.testing.s3gen_checkpoint import s3gen_state_dict
from model.turbo.config import SILENCE_TOKEN
from tests.model.turbo.turbo_fixtures import golden_file

pytestmark = pytest.mark.slow
MEL_ATOL = 1e-5     # measured 2.4e-7 on mels up to 3.6
WAV_SNR_DB = 90.0   # measured 107.8 dB (max abs 3.9e-5 at peak 0.99)


def snr_db(ours: torch.Tensor, ref: torch.Tensor) -> float:
    return float(10 * torch.log10(ref.pow(2).sum() / (ours - ref).pow(2).sum().clamp_min(1e-30)))


@pytest.fixture(scope="module")
def golden() -> dict[str, torch.Tensor]:
    return load_file(str(golden_file("s3gen_golden.safetensors")))


@pytest.fixture(scope="module")
def model() -> S3Gen:
    m = S3Gen.from_state_dict(s3gen_state_dict("full", 0, meanflow=True, voice=False))
    assert m.meanflow
    return m


@pytest.fixture(scope="module")
def ref(golden) -> S3GenRef:
    return S3GenRef(golden["in.ref.prompt_token"], golden["in.ref.prompt_token_len"], golden["in.ref.prompt_feat"],
                    None, golden["in.ref.embedding"])


def test_tokens_end_with_three_silence_tokens(golden):
    assert golden["in.speech_tokens"][-3:].tolist() == [SILENCE_TOKEN] * 3


def test_flow_mel_two_meanflow_steps(model, golden, ref):
    mel = model.tokens_to_mels([golden["in.speech_tokens"]], ref, generators=[torch.Generator().manual_seed(11)])[0]
    assert mel.shape == golden["flow_mel"][0].shape
    diff = (mel - golden["flow_mel"][0]).abs().max().item()
    assert diff <= MEL_ATOL, f"mel max abs diff {diff:.2e}"


def test_waveform_from_one_seed(model, golden, ref):
    gen = torch.Generator().manual_seed(33)
    wav = model.synthesize([golden["in.speech_tokens"]], ref, n_steps=2, generators=[gen])[0]
    assert wav.shape == golden["wav"][0].shape == (960 * golden["in.speech_tokens"].numel(),)
    assert snr_db(wav, golden["wav"][0]) >= WAV_SNR_DB
