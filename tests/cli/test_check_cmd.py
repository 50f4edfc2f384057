"""`tomecast check`: an LJ Speech clip passes every check against its transcript (with Whisper tiny.en), the same
clip with a planted fault fails with the fault's reason, bad input exits 2; every QASettings field has a flag."""

from __future__ import annotations

import dataclasses
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from worker.cli.main import build_parser, main

VOICES = Path(__file__).resolve().parents[2].parent / "shared" / "voices"


@pytest.fixture(scope="module")
def lj_clip() -> tuple[Path, str]:
    listing = VOICES / "transcripts.txt"
    if not listing.is_file():
        pytest.skip(f"LJ Speech clips not found at {VOICES}")
    name, text = next(line.split("|", 1) for line in listing.read_text("utf-8").splitlines() if "|" in line)
    return VOICES / f"{name}.wav", text.strip()


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_an_lj_clip_passes_every_check(lj_clip, whisper_tiny, capsys):
    clip, text = lj_clip
    rc = main(["check", str(clip), "--text", text, "--asr-model", whisper_tiny, "--asr-threads", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["passed"] and out["asr_ran"]
    assert {r["check"] for r in out["results"]} >= {"asr", "tail", "duration", "clipping", "noise"}


def test_a_planted_fault_fails_with_its_reason(lj_clip, whisper_tiny, tmp_path, capsys):
    from engines.faults import Fault, plant
    from qa.clip import read_audio

    clip, text = lj_clip
    audio, rate = read_audio(clip)
    bad = write_wav(tmp_path / "truncated.wav", plant(Fault.TRUNCATE, audio, rate, np.random.default_rng(0)), rate)
    rc = main(["check", str(bad), "--text", text, "--asr-model", whisper_tiny, "--asr-threads", "2"])
    out = capsys.readouterr().out
    assert rc == 1 and out.startswith("FAIL") and "truncated" in out
    # the words of another sentence: caught by ASR only
    rc = main(["check", str(clip), "--text", "The committee will meet again on Tuesday to discuss the harbour.",
               "--asr-model", whisper_tiny, "--asr-threads", "2"])
    assert rc == 1 and "FAIL asr" in capsys.readouterr().out


def test_without_asr_the_signal_checks_still_judge(lj_clip, tmp_path, capsys):
    from qa.clip import read_audio

    clip, text = lj_clip
    audio, rate = read_audio(clip)
    clipped = write_wav(tmp_path / "clipped.wav", np.clip(audio * 8, -1, 1), rate)
    assert main(["check", str(clip), "--text", text, "--no-asr"]) == 0
    assert "(ASR off)" in capsys.readouterr().out
    assert main(["check", str(clipped), "--text", text, "--no-asr"]) == 1
    assert "FAIL clipping" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(tmp_path, lj_clip, capsys):
    clip, text = lj_clip
    assert main(["check", str(tmp_path / "missing.wav"), "--text", "words", "--no-asr"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "notes.wav").write_text("not audio at all")
    assert main(["check", str(tmp_path / "notes.wav"), "--text", "words", "--no-asr"]) == 2
    assert main(["check", str(clip), "--text", "  ", "--no-asr"]) == 2
    assert main(["check", str(clip), "--text", text, "--asr-model", str(tmp_path / "no-model")]) == 2
    assert main(["check", str(clip), "--text", text, "--no-asr", "--asr-error-rate", "3"]) == 2
    assert "asr_error_rate" in capsys.readouterr().err


def test_every_qa_setting_has_a_flag_that_reaches_it(monkeypatch):
    from qa.settings import QASettings
    from worker.cli.options import qa_flag, qa_options

    for f in dataclasses.fields(QASettings):
        monkeypatch.delenv(f"TOMECAST_QA_{f.name.upper()}", raising=False)
    base = QASettings()
    for cmd in (["check", "x.wav", "--text", "t"], ["convert", "book.txt"], ["submit", "book.txt"]):
        for f in dataclasses.fields(QASettings):
            default = getattr(base, f.name)
            flag = qa_flag(f.name, default)
            value = None if isinstance(default, bool) else str(default + 1 if isinstance(default, int) else
                                                               default)
            args = build_parser().parse_args(cmd + ([flag] if value is None else [flag, value]))
            given = qa_options(args)
            expected = (not default) if isinstance(default, bool) else type(default)(value)
            assert given == {f.name: expected}, (cmd[0], flag)
    with pytest.raises(Exception, match="no such folder"):   # refused before any work
        qa_options(build_parser().parse_args(["convert", "book.txt", "--asr-model", "/nowhere/whisper"]))
    monkeypatch.setenv("TOMECAST_QA_MAX_TAKES", "5")
    args = build_parser().parse_args(["convert", "book.txt", "--no-repair"])
    assert QASettings.from_env(**qa_options(args)).max_takes == 5 and not qa_options(args)["repair"]
