"""Text flags: every ``PrepareOptions`` field has one flag on prepare, convert, submit and words, made from the
dataclass (help and default from it) and reaching ``PrepareOptions``; lexicons (the user's first) travel inside
the job; bad lexicons are refused before any job exists."""

from __future__ import annotations

import argparse
import dataclasses
import os

import pytest

from pipeline.jobs import submit_job
from pipeline.store import Store
from text_prep import PrepareOptions, prepare
from worker.cli.main import build_parser, main
from worker.cli.options import prepare_options, settings_from

COMMANDS = ("prepare", "convert", "submit", "words")
FIELDS = dataclasses.fields(PrepareOptions)


def _actions(command: str) -> dict[str, argparse.Action]:
    """The shown action of each dest of ``command``."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions if a.help != argparse.SUPPRESS}


def _non_default(f: dataclasses.Field, action: argparse.Action) -> tuple[list[str], object]:
    """Arguments giving field ``f`` a value other than its default, and that value as PrepareOptions keeps it."""
    flag, d = action.option_strings[0], f.default
    if action.nargs == 0:   # a switch
        return [flag], not d
    if action.choices:
        choice = next(c for c in action.choices if c != str(d))
        return [flag, choice], choice
    if isinstance(action, argparse._AppendAction):
        return [flag, "a.tsv", flag, "b.tsv"], ("a.tsv", "b.tsv")
    value = {int: lambda: d + 1, float: lambda: d + 0.5}.get(action.type, lambda: "fr")()
    return [flag, str(value)], value


@pytest.mark.parametrize("command", COMMANDS)
def test_every_field_has_a_flag_that_reaches_prepare_options(command, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))   # no user lexicon
    actions = _actions(command)
    missing = [f.name for f in FIELDS if f.name not in actions]
    assert not missing, f"PrepareOptions fields without a {command} flag: {missing}"
    argv, expected = [command, "book.txt"], {}
    for f in FIELDS:
        args, expected[f.name] = _non_default(f, actions[f.name])
        argv += args
    options = PrepareOptions(**prepare_options(build_parser().parse_args(argv)))
    for f in FIELDS:
        got = getattr(options, f.name)
        assert (str(got) if isinstance(expected[f.name], str) else got) == expected[f.name], f.name
        assert got != f.default, f.name
    assert PrepareOptions(**prepare_options(build_parser().parse_args([command, "book.txt"]))) == PrepareOptions()


def test_help_and_defaults_come_from_the_dataclass():
    actions = _actions("convert")
    for f in FIELDS:
        a = actions[f.name]
        assert a.help and a.default is None, f.name   # a flag not given leaves the dataclass default
        if not isinstance(f.default, (bool, tuple)) and f.default is not None:
            assert f"(default {f.default})" in a.help, f.name
    assert "longest chunk" in actions["max_chars"].help   # the PrepareOptions docstring's words
    assert actions["tags"].choices == ["strip", "keep"]


def test_the_users_lexicon_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    args = build_parser().parse_args(["prepare", "b.txt", "--lexicon", "book.tsv"])
    assert prepare_options(args)["lexicon"] == ["book.tsv"]
    user = tmp_path / ".config" / "tomecast" / "lexicon.tsv"
    user.parent.mkdir(parents=True)
    user.write_text("colonel\tkernel\n")
    assert prepare_options(args)["lexicon"] == [str(user), "book.tsv"]
    assert prepare_options(build_parser().parse_args(["prepare", "b.txt"]))["lexicon"] == [str(user)]


@pytest.fixture()
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "book.txt"
    path.write_text("THE VISIT\n\nCHAPTER I.\n\nHermione met the colonel at noon.\n")
    return path


def test_the_lexicon_travels_inside_the_job(book, tmp_path):
    """A worker on another host has no access to the submitter's lexicon file: job.json carries it."""
    lexicon = tmp_path / "names.tsv"
    lexicon.write_text("Hermione\ther-MY-oh-nee\n")
    args = build_parser().parse_args(["convert", str(book), "--lexicon", str(lexicon), "--data", str(tmp_path / "d")])
    settings = settings_from(args)
    store = Store(settings.data_dir).ensure()
    job = submit_job(store, book, settings.job_options(prepare=prepare_options(args)))
    lexicon.unlink()
    spec = store.spec(job)
    plan = prepare(store.job_dir(job) / "input" / spec.book_file, PrepareOptions(**spec.prepare))
    assert any("her-MY-oh-nee met the colonel" in c.speech for c in plan.chunks)


@pytest.mark.parametrize("command", ["submit", "convert"])
def test_a_bad_lexicon_is_refused_before_any_job(command, book, tmp_path, capsys):
    bad, data = tmp_path / "bad.tsv", tmp_path / "data"
    bad.write_text("re:(\tx\n")
    extra = ["--broker", "redis://127.0.0.1:1/0"] if command == "submit" else ["-o", str(tmp_path / "out")]
    assert main([command, str(book), "--lexicon", str(bad), "--data", str(data), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.tsv:1" in err and "regular expression" in err
    assert not data.exists() or not Store(data).job_ids()
    assert main([command, str(book), "--lexicon", str(tmp_path / "none.tsv"), "--data", str(data), *extra]) == 2
    assert "none.tsv" in capsys.readouterr().err


def test_submit_refuses_tags_keep_for_the_original_model(book, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["submit", str(book), "--tags", "keep", "--data", str(data), "--broker", "redis://127.0.0.1:1/0"]) == 2
    assert "tags=keep needs a Turbo model" in capsys.readouterr().err
    assert not data.exists() or not Store(data).job_ids()


def test_tomecast_variables_set_text_options_and_flags_override_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TOMECAST_NOTES", "chapter-end")
    monkeypatch.setenv("TOMECAST_VERSE_LINES", "0")
    monkeypatch.setenv("TOMECAST_LEXICON", f"a.tsv{os.pathsep}b.tsv")
    options = PrepareOptions(**prepare_options(build_parser().parse_args(["prepare", "b.txt"])))
    assert (options.notes, options.verse_lines, options.lexicon) == ("chapter-end", False, ("a.tsv", "b.tsv"))
    args = build_parser().parse_args(["submit", "b.txt", "--notes", "skip", "--lexicon", "c.tsv"])
    options = PrepareOptions(**prepare_options(args))
    assert (options.notes, options.verse_lines, options.lexicon) == ("skip", False, ("c.tsv",))
    assert settings_from(args).job_options(prepare=prepare_options(args)).prepare["notes"] == "skip"
    monkeypatch.setenv("TOMECAST_TAGS", "loud")
    assert main(["prepare", "b.txt"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "tags must be one of strip, keep" in err
