"""TurboTTS end to end on a tiny random Turbo checkpoint: load, voices, batched synthesis, errors, detection."""

import numpy as np
import pytest
import torch

from model.errors import CheckpointError, ModelError, VoiceError
from model.params import SynthesisParams
from model.testing.t3_checkpoint import write_t3_files
from model.turbo.checkpoint import is_turbo_folder, is_turbo_source, resolve_turbo_checkpoint
from model.turbo.params import TurboParams
from model.turbo.tts import TurboTTS
from tests.model.turbo.turbo_fixtures import read_clip

TEXTS = ["Hello there [laugh].", "A longer sentence about the printing of books.", "Hi."]
PARAMS = TurboParams(max_new_tokens=24)


@pytest.fixture(scope="module")
def tts(tiny_folder) -> TurboTTS:
    return TurboTTS.load(tiny_folder, device="cpu", watermark=False)


@pytest.fixture(scope="module")
def synthesized(tts):
    return tts.synthesize(TEXTS, tts.builtin_voice(), PARAMS, seeds=[1, 2, 3], batch_size=2)


def test_public_surface_matches_the_original_facade(tts):
    from model.tts import TTS

    for name in ("load", "model_id", "sample_rate", "prepare_voice", "load_voice", "builtin_voice", "synthesize",
                 "release", "parts", "synthesize_takes", "adopt_voice_networks"):
        assert hasattr(TTS, name) or name == "model_id"
        assert hasattr(tts, name), name
    assert tts.sample_rate == 24000 and tts.model_id.startswith("turbo-folder:")
    assert tts.tags[0] == "[laugh]" and len(tts.tags) == 19


def test_one_waveform_per_text_of_the_expected_length(synthesized):
    assert len(synthesized) == len(TEXTS)
    for w in synthesized:
        assert w.dtype == np.float32 and w.ndim == 1 and np.isfinite(w).all()
        # at most max_new_tokens speech tokens plus three silence tokens, 960 samples each
        assert 960 * 3 <= w.size <= 960 * (PARAMS.max_new_tokens + 3) and w.size % 960 == 0
        assert np.abs(w).max() > 0


def test_batching_and_order_do_not_change_a_text_s_audio(tts, synthesized):
    alone = tts.synthesize([TEXTS[1]], tts.builtin_voice(), PARAMS, seeds=[2])[0]
    assert alone.shape == synthesized[1].shape       # the same speech tokens (T3 is exact across slots)
    np.testing.assert_allclose(alone, synthesized[1], rtol=0, atol=1e-4)  # S3Gen's padded batch: rounding only
    other_seed = tts.synthesize([TEXTS[1]], tts.builtin_voice(), PARAMS, seeds=[7])[0]
    assert other_seed.shape != alone.shape or not np.array_equal(other_seed, alone)


def test_takes_report_tokens_and_caps(tts):
    takes = tts.synthesize_takes(["Hi.", "A second text."], tts.builtin_voice(), PARAMS, seeds=[1, 2])
    for t in takes:
        assert t.token_cap == PARAMS.max_new_tokens and 0 <= t.tokens <= t.token_cap
        assert t.hit_cap == (t.tokens == t.token_cap)
        assert t.audio.size <= 960 * (t.tokens + 3) and t.audio.size % 960 == 0


def test_voice_networks_are_adopted_from_a_voice_only_load(tiny_folder, tts):
    voice_only = TurboTTS.load(tiny_folder, device="cpu", watermark=False, parts=("voice",))
    synth = TurboTTS.load(tiny_folder, device="cpu", watermark=False, parts=("synthesis",))
    assert synth.voice_models is None
    synth.adopt_voice_networks(voice_only)
    assert synth.voice_models is voice_only.voice_models and synth.parts == ("voice", "synthesis")
    with pytest.raises(ModelError, match="no voice networks"):
        tts.adopt_voice_networks(synth.__class__.load(tiny_folder, device="cpu", watermark=False,
                                                      parts=("synthesis",)))


def test_synthesis_params_are_accepted(tts):
    out = tts.synthesize(["Hi."], tts.builtin_voice(), SynthesisParams(max_new_tokens=12), seeds=[0])
    assert out[0].size <= 960 * 15


def test_prepared_voice_from_a_clip_synthesizes(tts):
    x, sr = read_clip("LJ001-0001")
    voice = tts.prepare_voice(x, sr)
    assert 1 <= voice.cond_prompt_speech_tokens.shape[1] <= 375
    assert voice.gen.n_prompt_frames == 2 * voice.gen.n_prompt_tokens
    out = tts.synthesize(["Hi."], voice, TurboParams(max_new_tokens=8), seeds=[0])
    assert out[0].size % 960 == 0
    with pytest.raises(VoiceError, match="more than 5 s"):
        tts.prepare_voice(x[: 4 * sr], sr)


def test_bad_requests_are_one_line_errors(tts, tiny_folder):
    v = tts.builtin_voice()
    with pytest.raises(ModelError, match="text 1 is empty"):
        tts.synthesize(["Hi.", "  "], v, PARAMS)
    with pytest.raises(ModelError, match="seeds"):
        tts.synthesize(["Hi."], v, PARAMS, seeds=[1, 2])
    with pytest.raises(ModelError, match="top_p"):
        tts.synthesize(["Hi."], v, TurboParams(top_p=2.0))
    from dataclasses import replace

    long = replace(v, cond_prompt_speech_tokens=torch.zeros(1, 400, dtype=torch.long))
    with pytest.raises(ModelError, match="at most 375"):
        tts.synthesize(["Hi."], long, PARAMS)
    voice_only = TurboTTS.load(tiny_folder, device="cpu", watermark=False, parts=("voice",))
    assert voice_only.parts == ("voice",)
    with pytest.raises(ModelError, match="preparing voices only"):
        voice_only.synthesize(["Hi."], v, PARAMS)


def test_variant_is_told_by_the_files(tiny_folder, tmp_path):
    assert is_turbo_folder(tiny_folder) and is_turbo_source(tiny_folder)
    assert is_turbo_source("ResembleAI/chatterbox-turbo") and not is_turbo_source("ResembleAI/chatterbox")
    original = write_t3_files(tmp_path / "orig", "tiny")
    assert not is_turbo_folder(original)
    with pytest.raises(CheckpointError, match="not a Turbo checkpoint folder"):
        resolve_turbo_checkpoint(original)
    with pytest.raises(CheckpointError, match="not found"):
        resolve_turbo_checkpoint(tmp_path / "absent")


def test_model_id_differs_from_an_original_checkpoint_s(tiny_folder, tmp_path):
    from model.checkpoint import resolve_checkpoint
    from model.testing import write_random_checkpoint

    original = resolve_checkpoint(write_random_checkpoint(tmp_path / "orig", "tiny"))
    turbo = resolve_turbo_checkpoint(tiny_folder)
    assert turbo.model_id != original.model_id and turbo.model_id.startswith("turbo-")
    assert turbo.variant == "turbo"


def test_s3gen_groups_of_a_batch_do_not_change_its_audio(tts, synthesized):
    tts.s3gen_rows = 1  # each text's S3Gen alone, after T3 decoded the batch together
    try:
        split = tts.synthesize(TEXTS, tts.builtin_voice(), PARAMS, seeds=[1, 2, 3], batch_size=3)
    finally:
        del tts.s3gen_rows  # back to the facade's default
    for a, b in zip(split, synthesized, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)  # padded vs unpadded S3Gen: float rounding (as TTS)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal off CUDA")
def test_compile_is_refused_off_cuda(tiny_folder):
    from model.errors import DeviceError

    with pytest.raises(DeviceError, match="compile needs a CUDA device"):
        TurboTTS.load(tiny_folder, device="cpu", watermark=False, compile=True)
