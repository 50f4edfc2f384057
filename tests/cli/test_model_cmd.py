"""`tomecast voice` and `tomecast say` with the tiny checkpoint: a reusable .voice file, audio files by suffix."""

from __future__ import annotations

import os

import pytest

from pipeline.files import read_wav
from pipeline.stitch import probe
from worker.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keep_torch_threads")]


@pytest.fixture
def env(tiny_checkpoint, tiny_env, tmp_path, monkeypatch):
    for k, v in tiny_env(tmp_path / "data", tiny_checkpoint).items():
        if k.startswith("TOMECAST_"):
            monkeypatch.setenv(k, v)
    return os.environ


def test_voice_then_say(env, voice_clip, tmp_path, capsys):
    voice = tmp_path / "narrator.voice"
    assert main(["voice", str(voice_clip), "-o", str(voice)]) == 0
    assert voice.is_file() and "voice " in capsys.readouterr().out
    wav = tmp_path / "hello.wav"
    assert main(["say", "Hello there, reader.", "--voice", str(voice), "-o", str(wav)]) == 0
    audio, rate = read_wav(wav)
    assert rate == 24000 and 0.1 < len(audio) / rate < 5 and abs(audio).max() > 0
    again = tmp_path / "again.wav"
    assert main(["say", "Hello there, reader.", "--voice", str(voice), "-o", str(again)]) == 0
    assert again.read_bytes() == wav.read_bytes()  # same text, same seed: same audio
    mp3 = tmp_path / "hello.mp3"
    assert main(["say", "Hello there, reader.", "--voice", str(voice), "-o", str(mp3)]) == 0
    assert probe(mp3)["streams"][0]["codec_name"] == "mp3"


def test_say_rejects_unknown_suffix_and_empty_text(env, tmp_path, capsys):
    assert main(["say", "Hi.", "-o", str(tmp_path / "x.aiff")]) == 2
    assert "suffix must be one of" in capsys.readouterr().err
    assert main(["say", "  ", "-o", str(tmp_path / "x.wav")]) == 2
    assert "nothing to say" in capsys.readouterr().err
