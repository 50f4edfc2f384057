"""Settings.from_env parsing and validation, and CLI-style overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import environ
from worker.errors import SettingsError
from worker.settings import Settings


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.broker_url == "redis://localhost:6379/0" and s.backend_url == s.broker_url
    assert s.model == "ResembleAI/chatterbox" and s.device == "auto" and s.watermark is True
    assert s.stitching.format == "mp3" and s.stitching.loudness_lufs == -18.0 and s.stitching.true_peak_db == -3.0
    assert s.sampling.temperature == 0.8 and s.sampling.cfg_weight == 0.5


def test_environment_sets_every_group():
    s = Settings.from_env({
        "TOMECAST_BROKER_URL": "redis://:pw@redis:6379/1", "TOMECAST_DATA": "/tmp/tc-data",
        "TOMECAST_MODEL": "/models/cb", "TOMECAST_DEVICE": "cuda:1", "TOMECAST_DTYPE": "bfloat16",
        "TOMECAST_BATCH_SIZE": "16", "TOMECAST_VOICE": "/v/n.wav", "TOMECAST_SEED": "42",
        "TOMECAST_TEMPERATURE": "0.6", "TOMECAST_MAX_NEW_TOKENS": "500", "TOMECAST_WATERMARK": "off",
        "TOMECAST_FORMAT": "opus", "TOMECAST_PAUSES": "sentence=200, title=900", "TOMECAST_LOUDNESS": "-16",
        "TOMECAST_HEAD_MS": "600", "TOMECAST_TAIL_MS": "3000",
    })
    assert s.broker_url == "redis://:pw@redis:6379/1" and s.data_dir == Path("/tmp/tc-data")
    assert (s.model, s.device, s.dtype, s.batch_size, s.voice, s.seed) == \
        ("/models/cb", "cuda:1", "bfloat16", 16, "/v/n.wav", 42)
    assert s.sampling.temperature == 0.6 and s.sampling.max_new_tokens == 500 and s.watermark is False
    assert s.stitching.format == "opus" and s.stitching.loudness_lufs == -16.0
    assert s.stitching.pauses_ms["sentence"] == 200 and s.stitching.pauses_ms["title"] == 900
    assert s.stitching.pauses_ms["paragraph"] == 800
    assert (s.stitching.head_ms, s.stitching.tail_ms) == (600, 3000)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TOMECAST_BATCH_SIZE", "eight", "TOMECAST_BATCH_SIZE='eight'"),
    ("TOMECAST_BATCH_SIZE", "0", "batch size 0"),
    ("TOMECAST_TEMPERATURE", "-1", "temperature=-1.0"),
    ("TOMECAST_FORMAT", "ogg", "'ogg'"),
    ("TOMECAST_PAUSES", "comma=100", "'comma=100'"),
    ("TOMECAST_PAUSES", "chapter=3000", "TOMECAST_TAIL_MS"),   # the chapter's end is its tail room tone
    ("TOMECAST_HEAD_MS", "-5", "head room tone of -5 ms"),
    ("TOMECAST_TAIL_MS", "2.5", "TOMECAST_TAIL_MS='2.5'"),
    ("TOMECAST_WATERMARK", "maybe", "TOMECAST_WATERMARK='maybe'"),
])
def test_bad_values_name_the_variable_or_value(name, value, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_flags_override_environment():
    s = Settings.from_env({"TOMECAST_TEMPERATURE": "0.5", "TOMECAST_DEVICE": "cpu"})
    o = s.override(temperature=0.9, device=None, format="flac", data_dir="~/x", batch_size=2)
    assert o.sampling.temperature == 0.9 and o.device == "cpu" and o.stitching.format == "flac"
    assert o.data_dir == Path("~/x").expanduser() and o.batch_size == 2
    assert s.sampling.temperature == 0.5  # frozen: the original is untouched
    with pytest.raises(SettingsError, match="unknown settings"):
        s.override(colour="blue")


def test_tokens_per_char_from_environment_and_flag_reaches_the_sampling_dict():
    import argparse

    from worker.cli.options import add_sampling_options, settings_from

    assert Settings.from_env({"TOMECAST_TOKENS_PER_CHAR": "4.5"}).sampling.to_dict()["tokens_per_char"] == 4.5
    assert Settings.from_env({}).sampling.tokens_per_char == 6.0
    p = argparse.ArgumentParser()
    add_sampling_options(p)
    args = p.parse_args(["--tokens-per-char", "0"])
    assert settings_from(args).sampling.to_dict()["tokens_per_char"] == 0.0
    with pytest.raises(SettingsError, match="tokens_per_char=-1.0"):
        Settings.from_env({"TOMECAST_TOKENS_PER_CHAR": "-1"})


def test_room_tone_flags_override_the_environment_and_reach_the_job():
    import argparse

    from worker.cli.options import add_output_options, settings_from

    p = argparse.ArgumentParser()
    add_output_options(p)
    args = p.parse_args(["--head-ms", "900", "--tail-ms", "1500"])
    with environ({"TOMECAST_HEAD_MS": "600", "TOMECAST_TAIL_MS": "3000"}):
        s = settings_from(args)
    assert (s.stitching.head_ms, s.stitching.tail_ms) == (900, 1500)
    assert s.job_options().stitching.to_dict()["head_ms"] == 900


@pytest.mark.parametrize(("flags", "message"), [
    ({"max_new_tokens": 5000}, "max_new_tokens=5000"),
    ({"n_flow_steps": 200}, "n_flow_steps=200"),
    ({"repetition_penalty": 0.0}, "repetition_penalty=0.0"),
    ({"min_p": 1.5}, "min_p=1.5"),
])
def test_sampling_outside_the_models_limits_is_refused_when_settings_are_built(flags, message):
    """The model's own limits (model.params.SynthesisParams.validate), at once, not chunk by chunk hours later."""
    with pytest.raises(SettingsError) as err:
        Settings().override(**flags)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_settings_sampling_is_the_models_parameter_type():
    from model.params import SynthesisParams

    s = Settings.from_env({"TOMECAST_MIN_P": "0.1"})
    assert type(s.sampling) is SynthesisParams and s.sampling.min_p == 0.1
    options = s.override(seed=9).job_options(priority=2, prepare={"language": "fr"})
    assert options.sampling is not None and options.sampling.min_p == 0.1
    assert (options.seed, options.priority, options.prepare) == (9, 2, {"language": "fr"})
    with pytest.raises(SettingsError, match="priority 10"):
        s.job_options(priority=10)


def test_batch_size_and_chunks_per_task_are_auto_unless_given():
    auto = Settings.from_env({})
    assert auto.auto_batch and auto.auto_chunks
    assert (auto.batch_size, auto.chunks_per_task, auto.chunks_per_call) == (8, 256, 256)   # a GPU batch per task
    given = Settings.from_env({"TOMECAST_BATCH_SIZE": "32"})
    assert not given.auto_batch and (given.batch_size, given.chunks_per_task, given.chunks_per_call) == (32, 64, 32)
    both = Settings.from_env({"TOMECAST_BATCH_SIZE": "32", "TOMECAST_CHUNKS_PER_TASK": "5"})
    assert (both.chunks_per_task, both.job_options().chunks_per_task) == (5, 5)
    # an override keeps what was auto auto, and chunks per task follow a batch size given by flag
    assert auto.override(temperature=0.5).auto_batch and auto.override(temperature=0.5).chunks_per_task == 256
    flagged = auto.override(batch_size=4)
    assert not flagged.auto_batch and (flagged.batch_size, flagged.chunks_per_task) == (4, 8)
    assert given.override(chunks_per_task=3).chunks_per_task == 3 and given.override(seed=1).chunks_per_task == 64
    assert Settings(batch_size=2).chunks_per_task == 4 and Settings(chunks_per_task=3).auto_batch
    with pytest.raises(SettingsError, match="unknown settings"):
        auto.override(auto_batch=False)


def test_a_qa_queue_is_named_once_travels_with_the_job_and_may_be_served():
    from worker.run import run_worker

    s = Settings.from_env({"TOMECAST_QA_QUEUE": "qa"})
    assert s.qa_queue == "qa" and s.job_options().qa_queue == "qa"
    assert Settings.from_env({}).job_options().qa_queue == "" and s.override(qa_queue="cpu-qa").qa_queue == "cpu-qa"
    with pytest.raises(SettingsError, match="'q a'"):
        Settings.from_env({"TOMECAST_QA_QUEUE": "q a"})
    # a worker may serve the queue it names, and no other (before it looks for a broker)
    with pytest.raises(SettingsError, match="TOMECAST_QA_QUEUE"):
        run_worker(Settings.from_env({}), ["qa"])
    with pytest.raises(SettingsError, match="gpu, cpu, qa"):
        run_worker(s, ["gpu", "other"])


def test_compile_is_off_by_default_read_from_the_environment_and_needs_cuda():
    assert Settings.from_env({}).compile is False
    s = Settings.from_env({"TOMECAST_COMPILE": "1", "TOMECAST_DEVICE": "cuda:0"})
    assert s.compile is True and s.override(compile=False).compile is False
    assert Settings.from_env({"TOMECAST_COMPILE": "yes"}).compile is True      # device auto: checked at load
    with pytest.raises(SettingsError, match="compile needs a CUDA device, not 'cpu'"):
        Settings.from_env({"TOMECAST_COMPILE": "1", "TOMECAST_DEVICE": "cpu"})


def test_a_worker_takes_a_whole_task_only_where_it_fills_a_gpu_batch():
    auto = Settings.from_env({})
    assert auto.task_share(cuda=True) is None                       # the GPU's own batch takes all 256
    assert auto.task_share(cuda=False) == 16                        # a CPU worker: two auto batches of 8
    given = Settings.from_env({"TOMECAST_BATCH_SIZE": "3"})
    assert given.task_share(cuda=True) == given.task_share(cuda=False) == 6
