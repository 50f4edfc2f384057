"""Progress bar: counts cached chunks as done, adds audio and speed as batches finish."""

from __future__ import annotations

import io

from pipeline.manifest import ChapterEntry, ChunkEntry, Manifest
from worker.cli.progress import ChunkProgress, format_duration


def test_bar_counts_chunks_audio_and_speed(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    p = ChunkProgress("book.epub", enabled=True)
    chunks = (ChunkEntry("0.0", 0, 0, "a", "ca", 1, "done", 60.0), ChunkEntry("0.1", 0, 1, "b", "cb", 2),
              ChunkEntry("0.2", 0, 2, "c", "cc", 3))
    p.start(Manifest("j", "m", "v", 24000, (ChapterEntry(0, "One", 3),), chunks))
    p.advance(2, 120.0)
    p.close()
    out = err.getvalue()
    assert "3/3 chunks" in out and "3.0 min audio" in out and "x real time" in out
    assert p.made == 120.0 and p.audio == 180.0


def test_format_duration():
    assert format_duration(None) == "-" and format_duration(59.6) == "1:00" and format_duration(3725) == "1:02:05"
