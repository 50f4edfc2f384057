"""`tomecast convert --engine espeak` with QA flags, then `tomecast report` and `status`: chunks that fail a check
are kept and counted, the job completes, the report (beside the chapter files too) lists them with their reason."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.store import Store
from worker.cli.main import main

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "little-colonels-hero.txt"


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from engines.espeak import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    if not CORPUS.is_file():
        pytest.skip(f"corpus book not found at {CORPUS}")
    root = tmp_path_factory.mktemp("report-cmd")
    lines = CORPUS.read_text("utf-8").splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("*** START OF"))
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "CHAPTER II.")
    book = root / "hero.txt"
    book.write_text("\n".join(lines[: head + 1] + ["", ""] + lines[start: start + 16]), "utf-8")
    saved = dict(os.environ)
    os.environ["TOMECAST_DATA"] = str(root / "data")
    try:   # an impossible level: every chunk fails the loudness check; one re-take, no split keeps it fast
        rc = main(["convert", str(book), "--engine", "espeak", "--no-asr", "--qa-max-takes", "1", "--no-qa-split",
                   "--qa-min-rms-db", "0", "-o", str(root / "out"), "--quiet"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    store = Store(root / "data")
    (job_id,) = store.job_ids()
    return rc, store, job_id, root


def test_a_book_whose_chunks_fail_qa_still_completes(converted, capsys):
    rc, store, job_id, root = converted
    assert rc == 0 and store.state(job_id).state == "done"
    manifest = store.manifest(job_id)
    assert manifest.qa_failed() == manifest.chunks and manifest.model_id.startswith("espeak-ng")
    assert store.state(job_id).title == "The Little Colonel's Hero"
    assert all(any(r.startswith("loudness") for r in c.qa_reasons) for c in manifest.chunks)
    (m4b,) = (root / "out").glob("*.m4b")
    assert (root / "out" / f"{m4b.stem}.qa-report.md").is_file()
    assert sorted(p.suffix for p in (root / "out" / m4b.stem).iterdir()) == [".mp3"]


def test_report_and_status_show_the_failed_chunks(converted, capsys):
    _, store, job_id, _ = converted
    n = len(store.manifest(job_id).chunks)
    assert main(["report", job_id, "--data", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert f"## Failed chunks ({n})" in out and "loudness" in out and "ASR: off" in out
    assert main(["report", job_id, "--data", str(store.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["failed"] == n
    assert main(["status", job_id, "--data", str(store.root)]) == 0
    assert f"qa: {n} chunks failed their checks" in capsys.readouterr().out
    assert main(["status", job_id, "--data", str(store.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["chunks_qa_failed"] == n


def test_chapters_pass_acx_room_tone_and_chunks_start_where_the_report_says(converted):
    """The chapter files open and close with ACX's room tone, and every chunk's start in the report (shifted by
    the head) is where its speech starts in the delivered file: silence just before it, sound just after."""
    from qa.acx import HEAD_TONE, TAIL_TONE, TONE_DB
    from qa.clip import read_audio

    _, store, job_id, root = converted
    st = store.spec(job_id).stitching
    report = json.loads((store.job_dir(job_id) / "qa-report.json").read_text())
    md = (store.job_dir(job_id) / "qa-report.md").read_text()
    book_start = 0.0
    for ch, entry in zip(report["chapters"], store.manifest(job_id).chapters, strict=True):
        acx = ch["acx"]
        assert HEAD_TONE[0] <= acx["head_tone"] <= HEAD_TONE[1] and TAIL_TONE[0] <= acx["tail_tone"] <= TAIL_TONE[1]
        assert not any("room tone" in r for r in acx["reasons"]), acx
        audio, rate = read_audio(store.job_dir(job_id) / entry.file)
        chunks = [c for c in report["chunks"] if c["chapter"] == ch["index"]]
        assert chunks[0]["start_chapter"] == pytest.approx(st.head_ms / 1000, abs=1e-3)
        for c in chunks:
            t = c["start_chapter"]
            assert c["start_book"] == pytest.approx(book_start + t, abs=0.002)
            before = audio[int((t - 0.2) * rate): int((t - 0.01) * rate)]
            after = audio[int(t * rate): int((t + 0.15) * rate)]
            assert 20 * np.log10(np.abs(before).max() + 1e-9) < TONE_DB < 20 * np.log10(np.abs(after).max()), c
        book_start += ch["duration"]
    passing = [ch for ch in report["chapters"] if ch["acx"]["passed"]]
    assert f"ACX: {len(passing)} of {len(report['chapters'])} chapters pass" in md


def test_report_of_an_unknown_job_is_one_line(converted, capsys):
    _, store, _, _ = converted
    assert main(["report", "no-such-job", "--data", str(store.root)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_retry_here_gives_exactly_the_failed_chunks_new_takes(converted, capsys, monkeypatch):
    _, store, job_id, _ = converted
    from pipeline.qa_stage import Verdict

    before = store.manifest(job_id)
    seeds = {c.id: {a.seed for a in Verdict.load(store, c.cache).attempts} for c in before.chunks}
    assert main(["retry", job_id, "--here", "--data", str(store.root)]) == 0
    after = store.manifest(job_id)   # the job's own threshold still fails them, after one more take each
    assert store.state(job_id).state == "done" and len(after.qa_failed()) == len(after.chunks)
    assert all(c.qa_round == 1 and c.qa_attempts == 2 for c in after.chunks)
    for c in after.chunks:
        new = {a.seed for a in Verdict.load(store, c.cache).attempts} - {c.seed}
        assert new and not new & seeds[c.id], c.id   # a re-take with a seed not tried before
    capsys.readouterr()
    assert main(["retry", job_id, "--here", "--data", str(store.root)]) == 0
    assert all(c.qa_round == 2 for c in store.manifest(job_id).chunks)


def test_the_bar_ends_at_100_and_log_lines_never_land_in_it(converted, tmp_path, capsys, monkeypatch):
    """A chapter's QA summary is a line of its own above the bar (tqdm.write), not glued into the bar's line."""
    _, store, _, root = converted
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("TOMECAST_DATA", str(tmp_path / "data"))
    rc = main(["convert", str(root / "hero.txt"), "--engine", "espeak", "--no-asr", "--no-repair",
               "--qa-min-rms-db", "0", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 0
    at = err.index("QA 5 failed of 5")
    line_start = max(err.rfind("\n", 0, at), err.rfind("\r", 0, at)) + 1
    assert "%|" not in err[line_start:at] and err[at:].split("\n", 1)[0].endswith("(loudness 5)")
    bars = [seg for seg in err.replace("\r", "\n").split("\n") if "%|" in seg]
    assert bars and bars[-1].lstrip().split(":", 1)[1].strip().startswith("100%")
