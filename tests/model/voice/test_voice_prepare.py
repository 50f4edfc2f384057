"""prepare_voice with tiny random encoders: shapes, trims, the odd-frame fix, any rate, bad clips, loading."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from model.errors import VoiceError
from model.testing.voice_checkpoint import s3gen_voice_tensors, write_voice_files
from model.voice.prepare import VoiceModels, prepare_voice
from tests.model.voice.voice_fixtures import voice_models


def speechy(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Voiced-sounding test audio: a gliding harmonic tone with a syllable-rate envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wav = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.2 * wav * env + 0.005 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny():
    return voice_models("tiny")


def test_long_clip_is_trimmed_with_notes(tiny, caplog):
    with caplog.at_level(logging.INFO, logger="model.voice.prepare"):
        v = prepare_voice(speechy(12.0, 24000), 24000, tiny, exaggeration=0.7)
    assert v.cond_prompt_speech_tokens.shape == (1, 150)
    assert v.gen.n_prompt_tokens == 250 and v.gen.prompt_feat.shape == (1, 500, 80)
    assert int(v.gen.prompt_token_len[0]) == 250 and v.gen.embedding.shape == (1, 192)
    assert v.speaker_emb.shape == (1, 256) and v.exaggeration == pytest.approx(0.7)
    assert "first 10 s" in caplog.text and "first 6 s" in caplog.text


def test_odd_prompt_frames_are_made_twice_the_tokens(tiny, caplog):
    # 3.31 s at 24 kHz: 165 mel frames (odd) -> the official code keeps 165 frames with 82 tokens
    n = int(3.31 * 24000)
    assert n // 480 == 165
    with caplog.at_level(logging.INFO, logger="model.voice.prepare"):
        v = prepare_voice(speechy(3.31, 24000), 24000, tiny)
    assert v.gen.n_prompt_frames == 2 * v.gen.n_prompt_tokens == 164
    assert "reconciled" in caplog.text
    assert v.cond_prompt_speech_tokens.shape[1] == math.ceil((int(3.31 * 16000) // 160) / 4)


@pytest.mark.parametrize("sr", [16000, 44100, 48000])
def test_any_rate(tiny, sr):
    v = prepare_voice(speechy(4.0, sr), sr, tiny)
    assert v.gen.n_prompt_frames == 2 * v.gen.n_prompt_tokens == 200
    assert v.cond_prompt_speech_tokens.shape == (1, 100)


def test_bad_clips_are_one_line_errors(tiny):
    cases = [(speechy(2.5, 16000), 16000, "at least 3 s"),
             (np.zeros(16000 * 5, np.float32), 16000, "silent"),
             (np.full(16000 * 5, 1e-5, np.float32), 16000, "silent"),
             (np.stack([speechy(4, 16000)] * 2), 16000, "mono"),
             ((speechy(4, 16000) * 32767).astype(np.int16), 16000, "float"),
             (np.full(16000 * 4, np.nan, np.float32), 16000, "NaN"),
             (speechy(4, 16000), 0, "sample rate")]
    for wav, sr, msg in cases:
        with pytest.raises(VoiceError, match=msg) as err:
            prepare_voice(wav, sr, tiny)
        assert "\n" not in str(err.value)


def test_models_from_folder(tmp_path):
    write_voice_files(tmp_path, "tiny", 0)
    save_file(s3gen_voice_tensors("tiny", 0), str(tmp_path / "s3gen.safetensors"))
    models = VoiceModels.from_folder(tmp_path)
    ref = voice_models("tiny")
    wav = speechy(3.5, 16000, seed=2)
    a, b = prepare_voice(wav, 16000, models), prepare_voice(wav, 16000, ref)
    assert a.key == b.key
    assert torch.equal(a.gen.prompt_token, b.gen.prompt_token)
