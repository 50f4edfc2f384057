"""Model lifetime: nothing loads until first use, one engine per process (a forked child makes its own),
the loaded model is reused, and release keeps it loaded."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from model.errors import ModelError
from worker.engine import Engine, current_engine, release_loaded
from worker.settings import Settings


def _child_engine_id(parent_id: int, q) -> None:
    q.put(id(current_engine(Settings())) != parent_id and not current_engine(Settings()).loaded)


def test_engine_is_per_process_and_lazy():
    parent = current_engine(Settings())
    assert current_engine(Settings()) is parent and not parent.loaded
    release_loaded()  # nothing loaded: a no-op
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_engine_id, args=(id(parent), q))
    p.start()
    p.join(30)
    assert q.get(timeout=5) is True


@pytest.mark.slow
@pytest.mark.usefixtures("keep_torch_threads")
def test_speech_loads_once_and_survives_release(tiny_checkpoint, tiny_voice):
    settings = Settings.from_env({}).override(model=str(tiny_checkpoint), device="cpu", dtype="float32",
                                              watermark=False, max_new_tokens=16, n_flow_steps=2, threads=1)
    eng = Engine(settings)
    assert not eng.loaded
    speech = eng.speech()
    assert eng.loaded and eng.speech() is speech
    voice = speech.load_voice(tiny_voice)
    (a,) = speech.synthesize(["Hello there."], voice, settings.sampling, [5])
    eng.release()
    assert eng.speech() is speech
    (b,) = speech.synthesize(["Hello there."], voice, settings.sampling, [5])
    assert a.dtype.name == "float32" and a.ndim == 1 and len(a) > 0
    assert (a == b).all()  # same seed, same audio, after a release too


@pytest.mark.usefixtures("keep_torch_threads")
def test_voice_purpose_loads_only_the_voice_networks_until_synthesis(tiny_checkpoint):
    settings = Settings.from_env({}).override(model=str(tiny_checkpoint), device="cpu", dtype="float32",
                                              watermark=False, threads=1)
    eng = Engine(settings)
    voice_only = eng.speech(purpose="voice")
    assert voice_only.tts.t3 is None and voice_only.tts.s3gen is None and not eng.loaded
    assert eng.speech(purpose="voice") is voice_only  # cached
    with pytest.raises(ModelError, match="voices only"):
        voice_only.synthesize(["Hello."], voice_only.prepare_voice(None), settings.sampling, [1])
    full = eng.speech()
    assert eng.loaded and full.tts.t3 is not None and full.model_id == voice_only.model_id
    assert full.tts.voice_models is voice_only.tts.voice_models  # adopted, not loaded again
    assert eng.speech(purpose="voice") is full  # a loaded full model serves voices: nothing loads twice
    assert full.prepare_voice(None).key == voice_only.prepare_voice(None).key
    with pytest.raises(ValueError, match="purpose"):
        eng.speech(purpose="stitching")


@pytest.mark.usefixtures("keep_torch_threads")
def test_batch_size_off_cuda_is_the_settings_and_on_cuda_the_models_suggestion(tiny_checkpoint):
    import torch

    base = Settings.from_env({}).override(model=str(tiny_checkpoint), dtype="float32", watermark=False, threads=1)
    assert Engine(base.override(device="cpu")).speech().batch_size == 8                 # auto off CUDA: 8
    assert Engine(base.override(device="cpu", batch_size=3)).speech().batch_size == 3   # given: used as is
    if not torch.cuda.is_available():
        pytest.skip("the auto batch on CUDA needs a CUDA device")
    speech = Engine(base.override(device="cuda")).speech()
    assert speech.batch_size == speech.tts.suggested_batch_size() == speech.tts.default_batch_size
    assert Engine(base.override(device="cuda", batch_size=3)).speech().batch_size == 3
