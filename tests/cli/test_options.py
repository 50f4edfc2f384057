"""CLI options: each command lists only the flags it acts on, one spelling per option everywhere, help with
defaults, and inputs checked before any model loads."""

from __future__ import annotations

import argparse

import pytest

from model.params import SynthesisParams
from worker.cli.main import build_parser, main


def _flags(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {s for a in sub.choices[command]._actions if a.help != argparse.SUPPRESS for s in a.option_strings}


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("command", "present", "absent"), [
    ("convert", {"--voice", "--device", "--batch-size", "--no-watermark", "--temperature", "--format", "--data",
                 "--front-matter", "--no-title", "--no-chapter-titles"}, {"--broker", "--chunks-per-task",
                                                                          "--qa-queue"}),
    ("submit", {"--voice", "--broker", "--chunks-per-task", "--temperature", "--format", "--front-matter",
                "--priority", "--qa-queue"}, {"--device", "--batch-size", "--threads", "--no-watermark"}),
    ("say", {"--voice", "--device", "--temperature", "--no-watermark"}, {"--batch-size", "--broker", "--format",
                                                                         "--chunks-per-task"}),
    ("voice", {"--model", "--device", "--threads", "--no-watermark"}, {"--temperature", "--batch-size", "--voice"}),
    ("worker", {"--broker", "--device", "--batch-size", "--no-watermark", "--queues", "--qa-queue"},
     {"--temperature", "--voice", "--format", "--chunks-per-task"}),
    ("prepare", {"--front-matter", "--no-title", "--no-chapter-titles", "--max-chars", "--language"},
     {"--include-front-matter", "--no-titles", "--device", "--data"}),
    # retry --here runs the job's own model in this process: engine flags, never another model
    ("retry", {"--data", "--broker", "--here", "--device"}, {"--model", "--temperature", "--voice", "--engine"}),
])
def test_each_command_lists_only_what_it_uses(command, present, absent):
    flags = _flags(command)
    assert present <= flags, present - flags
    assert not absent & flags, absent & flags


@pytest.mark.parametrize("command", ["status", "jobs", "cancel"])
def test_read_only_commands_take_only_the_data_folder(command):
    assert _flags(command) - {"-h", "--help", "--json"} == {"--data"}


def test_sampling_help_shows_the_models_defaults(capsys):
    text = _help("convert", capsys)
    d = SynthesisParams()
    for flag, value in (("--temperature", d.temperature), ("--top-p", d.top_p), ("--min-p", d.min_p),
                        ("--repetition-penalty", d.repetition_penalty), ("--cfg-weight", d.cfg_weight),
                        ("--exaggeration", d.exaggeration), ("--max-new-tokens", d.max_new_tokens)):
        start = text.rindex(flag + " ")   # its help entry, after the usage line
        assert f"(default {value})" in text[start: start + 260], flag
    assert "first 10 s" in text   # the same clip advice as the README


def test_prepare_keeps_its_old_spellings_hidden(capsys):
    text = _help("prepare", capsys)
    assert "--front-matter" in text and "--include-front-matter" not in text and "--no-titles" not in text
    args = build_parser().parse_args(["prepare", "b.txt", "--no-titles", "--include-front-matter"])
    assert (args.speak_title, args.speak_chapter_titles, args.include_front_matter) == (False, False, True)
    args = build_parser().parse_args(["prepare", "b.txt", "--no-opening"])
    assert (args.speak_title, args.speak_chapter_titles) == (False, None)


def test_voice_and_say_check_the_clip_before_loading_a_model(tmp_path, capsys):
    """The model path does not exist: had anything tried to load it, the error would name the model."""
    missing, model = tmp_path / "nope.wav", str(tmp_path / "no-model")
    assert main(["voice", str(missing), "-o", str(tmp_path / "v.voice"), "--model", model, "--no-watermark"]) == 2
    err = capsys.readouterr().err
    assert "nope.wav" in err and "no-model" not in err and len(err.strip().splitlines()) == 1
    not_audio = tmp_path / "clip.wav"
    not_audio.write_text("not audio")
    assert main(["say", "Hello.", "--voice", str(not_audio), "-o", str(tmp_path / "x.wav"), "--model", model]) == 2
    err = capsys.readouterr().err
    assert "clip.wav" in err and "no-model" not in err


def test_a_bad_sampling_value_is_refused_before_loading(tmp_path, capsys):
    model = str(tmp_path / "no-model")
    assert main(["say", "Hello.", "--top-p", "0", "-o", str(tmp_path / "x.wav"), "--model", model]) == 2
    err = capsys.readouterr().err
    assert "top_p=0.0" in err and "no-model" not in err


def test_compile_is_an_engine_flag_refused_off_cuda_before_loading(tmp_path, capsys):
    assert {"--compile"} <= _flags("convert") & _flags("worker") & _flags("say")
    assert "--compile" not in _flags("submit")
    model = str(tmp_path / "no-model")
    assert main(["say", "Hello.", "--compile", "--device", "cpu", "-o", str(tmp_path / "x.wav"),
                 "--model", model]) == 2
    err = capsys.readouterr().err
    assert "compile needs a CUDA device" in err and "no-model" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["convert", "submit", "say", "worker", "voice", "retry"])
def test_no_help_shows_an_unresolved_default(command, capsys):
    assert "default None" not in _help(command, capsys)
