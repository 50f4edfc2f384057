"""The facade: voice-only loads prepare the same voices as full loads and refuse to synthesize; the runaway cap."""

from __future__ import annotations

import logging
import math
import shutil

import numpy as np
import pytest
import torch

from model.errors import CheckpointError, ModelError, ParamsError
from model.tts import TTS, SynthesisParams

TOKEN_SAMPLES = 960  # 24 kHz / 25 speech tokens per second


@pytest.fixture(scope="module")
def full_tts(tiny_checkpoint):
    return TTS.load(tiny_checkpoint, device="cpu", dtype="float32", watermark=False)


@pytest.fixture(scope="module")
def voice_tts(tiny_checkpoint):
    return TTS.load(tiny_checkpoint, device="cpu", dtype="float32", watermark=False, parts=("voice",))


@pytest.fixture(scope="module")
def clip(shared_dir):
    """A real speech clip as float32 samples, and its rate."""
    src = shared_dir / "voices" / "LJ001-0001.wav"
    if not src.is_file():
        pytest.skip(f"voice clip not found at {src}")
    from pipeline.clips import load_clip_native

    return load_clip_native(src)


def test_voice_only_prepares_the_same_voice_as_the_full_model(full_tts, voice_tts, clip):
    assert voice_tts.t3 is None and voice_tts.s3gen is None and voice_tts.parts == ("voice",)
    assert voice_tts.model_id == full_tts.model_id
    wav, rate = clip
    assert voice_tts.prepare_voice(wav, rate).key == full_tts.prepare_voice(wav, rate).key
    assert voice_tts.builtin_voice().key == full_tts.builtin_voice().key


def test_voice_only_refuses_to_synthesize(voice_tts):
    with pytest.raises(ModelError, match="voices only"):
        voice_tts.synthesize(["Hello there."], voice_tts.builtin_voice())


def test_synthesis_only_refuses_to_prepare_voices(tiny_checkpoint, clip):
    tts = TTS.load(tiny_checkpoint, device="cpu", dtype="float32", watermark=False, parts=("synthesis",))
    assert tts.voice_models is None and tts.parts == ("synthesis",)
    with pytest.raises(ModelError, match="without its voice networks"):
        tts.prepare_voice(*clip)


def test_unknown_parts_are_refused(tiny_checkpoint):
    with pytest.raises(ModelError, match="parts"):
        TTS.load(tiny_checkpoint, device="cpu", parts=("t3",))


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_voice_only_load_is_strict_about_files(tiny_checkpoint, tmp_path, damage):
    folder = tmp_path / "ck"
    shutil.copytree(tiny_checkpoint, folder)
    target = folder / "s3gen.safetensors"
    if damage == "missing":
        target.unlink()
    else:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as err:
        TTS.load(folder, device="cpu", watermark=False, parts=("voice",))
    assert "s3gen.safetensors" in str(err.value) and "\n" not in str(err.value)


def test_voice_only_load_reads_voice_keys_strictly(tiny_checkpoint, tmp_path):
    """A speaker encoder tensor missing from the S3Gen file is named, as in a full load."""
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "ck"
    shutil.copytree(tiny_checkpoint, folder)
    sd = load_file(folder / "s3gen.safetensors")
    dropped = next(k for k in sd if k.startswith("speaker_encoder."))
    del sd[dropped]
    save_file(sd, folder / "s3gen.safetensors")
    with pytest.raises(ModelError, match="missing key"):
        TTS.load(folder, device="cpu", watermark=False, parts=("voice",))


def test_token_cap_formula():
    p = SynthesisParams()
    assert p.token_cap("0123456789") == math.ceil(50 + 6 * 10)
    assert p.token_cap("x" * 400) == p.max_new_tokens
    assert SynthesisParams(tokens_per_char=0).token_cap("short") == p.max_new_tokens


FAST = dict(n_flow_steps=2, cfg_weight=0.0)


def test_runaway_is_cut_to_its_cap_and_logged(full_tts, caplog):
    """Random weights never sample the stop token: a 10-character text stops at 50 + 6 x 10 tokens, not 1000."""
    text = "Chapter I."
    assert len(text) == 10
    voice = full_tts.builtin_voice()
    with caplog.at_level(logging.WARNING, logger="model.tts"):
        (wav,) = full_tts.synthesize([text], voice, SynthesisParams(max_new_tokens=1000, **FAST), [3])
    cap = math.ceil(50 + 6 * 10)
    assert 0 < len(wav) <= cap * TOKEN_SAMPLES
    assert any("Chapter I." in r.getMessage() and "runaway" in r.getMessage() for r in caplog.records)
    # the same seed without the cap runs on further (up to max_new_tokens=160 here)
    (longer,) = full_tts.synthesize([text], voice, SynthesisParams(max_new_tokens=160, tokens_per_char=0, **FAST),
                                    [3])
    assert len(longer) > len(wav)


def test_takes_report_tokens_and_caps(full_tts):
    """A runaway take says it hit its cap with cap tokens; synthesize() returns the same audio."""
    texts, seeds = ["Chapter I.", "Another short line."], [3, 4]
    params = SynthesisParams(max_new_tokens=1000, tokens_per_char=1.0, **FAST)
    voice = full_tts.builtin_voice()
    takes = full_tts.synthesize_takes(texts, voice, params, seeds, batch_size=2)
    for take, text in zip(takes, texts, strict=True):
        assert take.token_cap == params.token_cap(text)
        assert take.hit_cap and take.tokens == take.token_cap  # random weights never stop
        assert take.audio.dtype == np.float32 and 0 < len(take.audio) <= take.tokens * TOKEN_SAMPLES
    for take, wav in zip(takes, full_tts.synthesize(texts, voice, params, seeds, batch_size=2), strict=True):
        np.testing.assert_array_equal(take.audio, wav)


def test_bad_params_are_refused_before_work(full_tts):
    with pytest.raises(ParamsError, match="n_flow_steps"):
        full_tts.synthesize_takes(["Hello."], full_tts.builtin_voice(), SynthesisParams(n_flow_steps=500))


def test_synthesis_only_adopts_voice_networks(tiny_checkpoint, voice_tts, clip):
    tts = TTS.load(tiny_checkpoint, device="cpu", dtype="float32", watermark=False, parts=("synthesis",))
    tts.adopt_voice_networks(voice_tts)
    assert tts.voice_models is voice_tts.voice_models and tts.parts == ("voice", "synthesis")
    assert tts.prepare_voice(*clip).key == voice_tts.prepare_voice(*clip).key
    with pytest.raises(ModelError, match="no voice networks"):
        voice_tts.adopt_voice_networks(tts.__class__.load(tiny_checkpoint, device="cpu", watermark=False,
                                                          parts=("synthesis",)))


def test_capped_texts_do_not_depend_on_their_batch(full_tts):
    texts = ["Chapter I.", "A much longer sentence that gets a larger token cap than the title."]
    params = SynthesisParams(max_new_tokens=1000, tokens_per_char=1.0, **FAST)
    voice = full_tts.builtin_voice()
    together = full_tts.synthesize(texts, voice, params, [3, 4], batch_size=2)
    alone = [full_tts.synthesize([t], voice, params, [s], batch_size=1)[0] for t, s in zip(texts, [3, 4], strict=True)]
    for a, b, t in zip(together, alone, texts, strict=True):
        assert len(a) == len(b) <= params.token_cap(t) * TOKEN_SAMPLES
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)  # S3Gen's padded batch: float rounding only
    assert len(together[0]) < len(together[1])
    # the speech tokens themselves are identical, each row cut to its own cap
    from model.t3 import T3Cond

    cond = T3Cond(speaker_emb=voice.speaker_emb, prompt_tokens=voice.cond_prompt_speech_tokens, exaggeration=0.5)
    ids = [torch.tensor(full_tts.tokenizer.encode(t), dtype=torch.long) for t in texts]
    batched = full_tts._speech_tokens(ids, texts, cond, params, [3, 4])
    for i in range(2):
        (single,) = full_tts._speech_tokens([ids[i]], [texts[i]], cond, params, [[3, 4][i]])
        assert batched[i].codes.tolist() == single.codes.tolist()
        assert len(single.codes) <= single.sampled <= single.cap == params.token_cap(texts[i])



def test_s3gen_runs_float32_off_cuda_and_when_float32_is_asked(tiny_checkpoint, full_tts):
    """Off CUDA, S3Gen computes in float32 whatever T3's dtype; a float32 load keeps S3Gen float32 too."""
    bf16 = TTS.load(tiny_checkpoint, device="cpu", dtype="bfloat16", watermark=False, parts=("synthesis",))
    assert bf16.dtype == torch.bfloat16
    assert bf16.s3gen.runtime.compute_dtype == torch.float32 and not bf16.s3gen.runtime.cuda_graphs
    assert full_tts.s3gen.runtime.compute_dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_s3gen_runs_bf16_with_cuda_graphs_on_cuda_unless_float32_is_asked(tiny_checkpoint):
    auto = TTS.load(tiny_checkpoint, device="cuda", watermark=False, parts=("synthesis",))
    assert auto.s3gen.runtime.compute_dtype == torch.bfloat16 and auto.s3gen.runtime.cuda_graphs
    fp32 = TTS.load(tiny_checkpoint, device="cuda", dtype="float32", watermark=False, parts=("synthesis",))
    assert fp32.s3gen.runtime.compute_dtype == torch.float32 and fp32.s3gen.runtime.cuda_graphs


def test_s3gen_groups_are_token_sorted_and_bounded():
    from model.facade import s3gen_groups

    counts = [50, 10, 40, 30, 20]
    assert s3gen_groups(counts, 2) == [[1, 4], [3, 2], [0]]
    assert s3gen_groups(counts, 64) == [[1, 4, 3, 2, 0]]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal off CUDA")
def test_compile_is_refused_off_cuda(tiny_checkpoint):
    from model.errors import DeviceError

    with pytest.raises(DeviceError, match="compile needs a CUDA device"):
        TTS.load(tiny_checkpoint, device="cpu", watermark=False, compile=True)
    assert TTS.load(tiny_checkpoint, device="cpu", watermark=False).decode.compile is False
