"""A small book end to end with a tiny random Turbo checkpoint: the real text_prep, pipeline steps and ffmpeg,
with ``TTS.load`` (which dispatches a Turbo folder to ``TurboTTS``) behind the pipeline's ``SpeechEngine``
protocol; then the same book with an original-model checkpoint in the same store must synthesize every chunk
again (the chunk cache key carries the model id)."""

from __future__ import annotations

import pytest

from model.params import SynthesisParams
from pipeline.jobs import submit_job
from pipeline.spec import JobOptions
from pipeline.speech import Purpose
from pipeline.steps import run_all
from pipeline.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keep_torch_threads")]
SAMPLING = SynthesisParams(max_new_tokens=16, n_flow_steps=2)


class OneModelEngine:
    """The pipeline's SpeechEngine over ``TTS.load`` (either model, by the checkpoint), loaded once."""

    def __init__(self) -> None:
        self.loaded = None

    def speech(self, model: str, revision: str | None, purpose: Purpose = Purpose.SYNTHESIS):
        from model.tts import TTS
        from worker.engine import TTSSpeech

        if self.loaded is None:
            self.loaded = TTSSpeech(TTS.load(model, device="cpu", watermark=False, batch_size=4), 4)
        return self.loaded


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from model.testing.turbo_checkpoint import write_turbo_checkpoint

    return write_turbo_checkpoint(tmp_path_factory.mktemp("turbo_tiny"), "tiny", seed=1)


@pytest.fixture(scope="module")
def converted(tmp_path_factory, tiny_folder, excerpt_book, voice_clip):
    import torch

    torch.set_num_threads(1)
    store = Store(tmp_path_factory.mktemp("turbo_book") / "data")
    job = submit_job(store, excerpt_book, JobOptions(model=str(tiny_folder), sampling=SAMPLING), voice=voice_clip)
    out = run_all(store, job, OneModelEngine(), 4)
    return store, job, out


def _manifest(store: Store, job: str) -> dict:
    return store.manifest(job).to_dict()


def test_the_book_is_converted_with_turbo(converted):
    store, job, out = converted
    assert out is not None and out.is_file() and out.stat().st_size > 0
    m = _manifest(store, job)
    assert m["model_id"].startswith("turbo-folder:")
    assert len(m["chapters"]) >= 3 and all(c["state"] == "done" for c in m["chunks"])


def test_switching_to_the_original_model_reuses_no_audio(converted, tiny_checkpoint, excerpt_book, voice_clip):
    store, job, _ = converted
    other = submit_job(store, excerpt_book, JobOptions(model=str(tiny_checkpoint), sampling=SAMPLING),
                       voice=voice_clip)
    run_all(store, other, OneModelEngine(), 4)
    turbo, original = _manifest(store, job), _manifest(store, other)
    assert turbo["model_id"] != original["model_id"]
    assert not {c["cache"] for c in turbo["chunks"]} & {c["cache"] for c in original["chunks"]}
    assert all(c["synthesized"] for c in original["chunks"])
    assert all(c["synthesized"] for c in turbo["chunks"])
