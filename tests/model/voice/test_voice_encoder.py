"""VoiceEncoder: partial windowing, silence trimming, config inferred from the file, unit embeddings."""

from __future__ import annotations

import pytest
import torch

from model.testing.voice_checkpoint import ve_state_dict
from model.voice.voice_encoder import PARTIAL, STEP, VoiceEncoder, partial_slices, trim_silence, ve_melspectrogram


@pytest.mark.parametrize("frames,expected", [(1, (1, 160)), (160, (1, 160)), (237, (2, 237)),
                                             (957, (11, 930)), (1000, (12, 1007))])
def test_partial_slices(frames, expected):
    assert partial_slices(frames) == expected
    n, target = expected
    assert target == PARTIAL + STEP * (n - 1)


def test_trim_silence_cuts_leading_and_trailing_quiet():
    torch.manual_seed(0)
    speech = torch.randn(16000) * 0.3
    wav = torch.cat([torch.zeros(8000), speech, torch.zeros(8000)])
    out = trim_silence(wav)
    assert 16000 <= out.numel() <= 16000 + 2 * 2048
    assert trim_silence(torch.zeros(5000)).numel() == 5000       # all frames equal: nothing is "below the peak"


def test_mel_frames():
    mel = ve_melspectrogram(torch.randn(16000 * 2 + 7))
    assert mel.shape == (1 + (16000 * 2 + 7) // 160, 40)
    assert float(mel.min()) >= 0.0


def test_tiny_from_state_dict_and_embedding():
    sd = ve_state_dict("tiny", 0)
    ve = VoiceEncoder.from_state_dict(sd)
    assert (ve.cfg.hidden, ve.cfg.layers, ve.cfg.embedding) == (64, 3, 256)
    torch.manual_seed(1)
    wav = torch.randn(16000 * 4) * 0.2
    emb = ve.embed(wav)
    assert emb.shape == (1, 256)
    assert abs(float(emb.norm()) - 1.0) < 1e-5
    assert float(emb.min()) >= 0.0                 # ReLU before the norm
    other = ve.embed(torch.randn(16000 * 4) * 0.2)
    assert not torch.allclose(emb, other)
    with pytest.raises(ValueError, match="silent"):
        ve.embed(torch.zeros(16000))
