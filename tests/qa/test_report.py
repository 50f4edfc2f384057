"""The book report: JSON round trip, a Markdown summary listing failed and repaired chunks with chapter, time
offset, text and reason, an ACX line, and one PNG plot per chapter."""

import pytest

from qa.acx import AcxFigures
from qa.repair import ChunkState
from qa.report import BookFile, BookReport, ChapterRecord, ChunkRecord, write_report
from qa.types import Check, CheckResult


def record(ch, pos, state, start, reasons=()):
    checks = (CheckResult(Check.DURATION, True, {"speech": 3.0, "expected": 3.2, "low": 1.5, "high": 7.0}),
              CheckResult(Check.LOUDNESS, True, {"rms_db": -20.0}),
              CheckResult(Check.ASR, state != ChunkState.FAILED, {"accuracy": 0.9}, "; ".join(reasons)))
    return ChunkRecord(ch, pos, f"Chunk {pos} of chapter {ch}.", state, 1 if state == ChunkState.PASSED else 3,
                       (0.9,), checks, start, 100.0 * ch + start, 3.0, f"c{ch}-{pos}", tuple(reasons))


def make_report():
    chunks = [record(0, 0, ChunkState.PASSED, 0.0), record(0, 1, ChunkState.REPAIRED, 3.5),
              record(0, 2, ChunkState.FAILED, 7.0, ("asr: skipped 4 words: 'a b c d'",)),
              record(1, 0, ChunkState.TRIMMED, 0.0), record(1, 1, ChunkState.PASSED, 3.4)]
    good = AcxFigures(-20.0, -4.0, -70.0, 0.7, 2.0, ())
    bad = AcxFigures(-25.0, -2.0, -70.0, 0.7, 2.0, ("RMS -25.0 dB outside -23 to -18 dB",))
    chapters = [ChapterRecord(0, "The Start", "chapters/01 The Start.m4a", 10.5, good),
                ChapterRecord(1, "The End", "chapters/02 The End.m4a", 6.4, bad)]
    return BookReport("A Book", "An Author", tuple(chunks), tuple(chapters), "base.en", {"max_takes": 3})


def test_json_round_trips():
    r = make_report()
    assert BookReport.from_json(r.to_json()) == r
    assert r.counts() == {"passed": 2, "trimmed": 1, "repaired": 1, "split": 0, "failed": 1}


def test_the_m4b_line_says_whether_its_true_peak_keeps_the_ceiling():
    from dataclasses import replace

    ok = replace(make_report(), book_file=BookFile("A Book.m4b", -18.2, -4.1, -3.0))
    over = replace(make_report(), book_file=BookFile("A Book.m4b", -17.9, -2.2, -3.0))
    assert BookReport.from_json(ok.to_json()) == ok
    assert "A Book.m4b: -18.2 LUFS integrated, true peak -4.1 dBTP (within the -3 dBTP ceiling)." in ok.summary()
    assert "(**over** the -3 dBTP ceiling)" in over.summary() and not over.book_file.within


def test_summary_lists_failed_and_repaired_chunks_with_time_and_reason():
    md = make_report().summary()
    assert "**1 failed**" in md and "ACX: 1 of 2 chapters pass (1)." in md
    failed = md.split("## Failed chunks (1)")[1].split("## Repaired")[0]
    assert "| 1 The Start | 0:00:07.0 | 0:00:07.0 | 2 | failed | 3 | Chunk 2 of chapter 0. |" in failed
    assert "skipped 4 words" in failed
    repaired = md.split("## Repaired chunks (2)")[1]
    assert "0:01:40.0" in repaired and "repaired" in repaired and "trimmed" in repaired


def test_write_report_makes_json_markdown_and_a_plot_per_chapter(tmp_path):
    files = write_report(make_report(), tmp_path)
    assert files.json.read_text().startswith("{") and files.summary.read_text().startswith("# QA report")
    assert [p.name for p in files.plots] == ["qa-report-ch01.png", "qa-report-ch02.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files.plots)


def test_chapter_acx_is_measured_on_the_encoded_file(tmp_path):
    import subprocess

    import numpy as np

    sr = 24000
    t = np.arange(sr * 5) / sr
    x = np.concatenate([np.zeros(sr), 0.14 * np.sin(2 * np.pi * 220 * t), np.zeros(2 * sr)]).astype(np.float32)
    wav = tmp_path / "ch.wav"
    import wave

    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(sr)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    m4a = tmp_path / "01 Chapter.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(m4a)],
                   check=True)
    rec = ChapterRecord.measure(0, "Chapter", m4a)
    assert rec.file == "01 Chapter.m4a" and 7.9 < rec.duration < 8.2
    assert rec.acx.rms_db == pytest.approx(-22.0, abs=0.3) and rec.acx.peak_db < -10 and rec.acx.passed
