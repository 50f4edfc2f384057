"""CAMPPlus (tiny weights): config from shapes, x-vector shape, batch rows independent, strict loading."""

from __future__ import annotations

import pytest
import torch

from model.errors import KeyMismatchError
from model.testing.voice_checkpoint import s3gen_voice_tensors
from model.voice.campplus import CAMPPlus


@pytest.fixture(scope="module")
def spk_sd() -> dict[str, torch.Tensor]:
    sd = s3gen_voice_tensors("tiny", 0)
    return {k[len("speaker_encoder."):]: v for k, v in sd.items() if k.startswith("speaker_encoder.")}


def test_tiny_xvector(spk_sd):
    model = CAMPPlus.from_state_dict(spk_sd)
    assert model.cfg.block_layers == (2, 2, 2) and model.cfg.embedding == 192
    torch.manual_seed(0)
    wav = torch.randn(16000 * 3 + 50) * 0.1
    x = model.xvector_of(wav)
    assert x.shape == (1, 192) and bool(torch.isfinite(x).all())
    assert not torch.allclose(x, model.xvector_of(torch.randn(16000 * 3) * 0.1))


def test_batch_rows_are_independent(spk_sd):
    model = CAMPPlus.from_state_dict(spk_sd)
    feats = torch.randn(2, 250, 80)                      # 250 frames: a partial 100-frame segment at the end
    with torch.inference_mode():
        both = model(feats)
        one = model(feats[1:])
    assert torch.allclose(both[1:], one, atol=1e-5)


def test_strict_loading(spk_sd):
    extra = dict(spk_sd, **{"xvector.block1.tdnnd9.linear1.weight": torch.zeros(1)})
    with pytest.raises(KeyMismatchError):
        CAMPPlus.from_state_dict(extra)
    bad = dict(spk_sd)
    bad["xvector.dense.linear.weight"] = torch.zeros(192, 7, 1)
    with pytest.raises(KeyMismatchError, match="dense"):
        CAMPPlus.from_state_dict(bad)
