"""The per-book QA report: typed per-chunk records in, JSON + Markdown + per-chapter PNG plots out.

The pipeline builds one ``ChunkRecord`` per chunk from the manifest (state, attempts, scores, the final take's
check results, its start time in the chapter file and in the M4B) and one ``ChapterRecord`` per chapter with the
ACX figures measured on the delivered chapter file, then calls ``write_report`` next to the M4B.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qa.acx import AcxFigures
from qa.repair import ChunkState
from qa.types import Check, CheckResult

__all__ = ["BookFile", "BookReport", "ChapterRecord", "ChunkRecord", "ReportFiles", "write_report"]


def _hms(t: float) -> str:
    t = max(0.0, t)
    return f"{int(t // 3600)}:{int(t % 3600 // 60):02d}:{t % 60:04.1f}"


@dataclass(frozen=True)
class ChunkRecord:
    chapter: int
    position: int
    text: str
    state: ChunkState
    attempts: int
    scores: tuple[float, ...]
    checks: tuple[CheckResult, ...]        # of the kept take
    start_chapter: float                   # seconds into the chapter file
    start_book: float                      # seconds into the M4B
    duration: float
    chunk_id: str = ""
    reasons: tuple[str, ...] = ()

    def figure(self, check: Check, name: str):
        for r in self.checks:
            if r.check == check:
                return r.figures.get(name)
        return None

    def to_dict(self) -> dict:
        return {"chapter": self.chapter, "position": self.position, "id": self.chunk_id, "text": self.text,
                "state": str(self.state), "attempts": self.attempts, "scores": [round(s, 4) for s in self.scores],
                "start_chapter": round(self.start_chapter, 3), "start_book": round(self.start_book, 3),
                "duration": round(self.duration, 3), "reasons": list(self.reasons),
                "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, d: dict) -> ChunkRecord:
        return cls(d["chapter"], d["position"], d["text"], ChunkState(d["state"]), d["attempts"],
                   tuple(d["scores"]), tuple(CheckResult.from_dict(c) for c in d["checks"]), d["start_chapter"],
                   d["start_book"], d["duration"], d.get("id", ""), tuple(d.get("reasons", ())))


@dataclass(frozen=True)
class ChapterRecord:
    index: int
    title: str
    file: str
    duration: float
    acx: AcxFigures | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "title": self.title, "file": self.file, "duration": round(self.duration, 3),
                "acx": self.acx.to_dict() if self.acx else None}

    @classmethod
    def measure(cls, index: int, title: str, path: Path, name: str | None = None) -> ChapterRecord:
        """ACX figures of the delivered chapter file at ``path`` (decoded by ffmpeg when not WAV)."""
        from qa.acx import acx_figures
        from qa.clip import read_audio

        audio, rate = read_audio(path)
        return cls(index, title, name or path.name, len(audio) / rate, acx_figures(audio, rate))

    @classmethod
    def from_dict(cls, d: dict) -> ChapterRecord:
        a = d.get("acx")
        acx = None if a is None else AcxFigures(a["rms_db"], a["peak_db"], a["noise_floor_db"], a["head_tone"],
                                                a["tail_tone"], tuple(a["reasons"]))
        return cls(d["index"], d["title"], d["file"], d["duration"], acx)


@dataclass(frozen=True)
class BookFile:
    """The delivered M4B as measured after encoding (EBU R128): what the listener's player plays."""

    name: str
    lufs: float | None
    true_peak_db: float | None
    ceiling_db: float                      # the promised true-peak ceiling

    @property
    def within(self) -> bool:
        return self.true_peak_db is None or self.true_peak_db <= self.ceiling_db

    def to_dict(self) -> dict:
        return {"name": self.name, "lufs": self.lufs, "true_peak_db": self.true_peak_db,
                "ceiling_db": self.ceiling_db, "within_ceiling": self.within}

    @classmethod
    def from_dict(cls, d: dict) -> BookFile:
        return cls(d["name"], d["lufs"], d["true_peak_db"], d["ceiling_db"])


@dataclass(frozen=True)
class BookReport:
    title: str
    author: str
    chunks: tuple[ChunkRecord, ...]
    chapters: tuple[ChapterRecord, ...]
    asr_model: str | None                  # None: ASR was off
    settings: dict = field(default_factory=dict)
    book_file: BookFile | None = None      # the M4B as measured; None before assembly or unmeasured

    def by_state(self, *states: ChunkState) -> list[ChunkRecord]:
        return [c for c in self.chunks if c.state in states]

    def counts(self) -> dict[str, int]:
        return {str(s): len(self.by_state(s)) for s in ChunkState}

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "author": self.author, "asr_model": self.asr_model,
                           "counts": self.counts(), "settings": self.settings,
                           "book_file": self.book_file.to_dict() if self.book_file else None,
                           "chapters": [c.to_dict() for c in self.chapters],
                           "chunks": [c.to_dict() for c in self.chunks]}, indent=1)

    @classmethod
    def from_json(cls, s: str) -> BookReport:
        d = json.loads(s)
        return cls(d["title"], d["author"], tuple(ChunkRecord.from_dict(c) for c in d["chunks"]),
                   tuple(ChapterRecord.from_dict(c) for c in d["chapters"]), d["asr_model"], d.get("settings", {}),
                   BookFile.from_dict(d["book_file"]) if d.get("book_file") else None)

    def summary(self) -> str:
        """The readable Markdown summary: counts, the ACX line, then every failed and repaired chunk."""
        c = self.counts()
        n = len(self.chunks)
        lines = [f"# QA report: {self.title}", "", f"*{self.author}*", "",
                 f"{n} chunks: {c['passed']} passed, {c['trimmed']} trimmed, {c['repaired']} re-taken, "
                 f"{c['split']} split, **{c['failed']} failed** (kept with their reasons).",
                 "ASR: " + (f"on ({self.asr_model})." if self.asr_model else "off (signal checks only)."), ""]
        if self.book_file is not None:
            b = self.book_file

            def fmt(v: float | None, unit: str) -> str:
                return "silent" if v is None else f"{v:.1f} {unit}"
            lines += [f"{b.name}: {fmt(b.lufs, 'LUFS')} integrated, true peak {fmt(b.true_peak_db, 'dBTP')} "
                      f"({'within' if b.within else '**over**'} the {b.ceiling_db:g} dBTP ceiling).", ""]
        measured = [ch for ch in self.chapters if ch.acx is not None]
        if measured:
            ok = [ch for ch in measured if ch.acx.passed]
            lines.append(f"ACX: {len(ok)} of {len(measured)} chapters pass"
                         + (f" ({', '.join(str(ch.index + 1) for ch in ok)})." if ok else "."))
            lines += ["", "| chapter | RMS dB | true peak dB | noise floor dB | head s | tail s | ACX |",
                      "|---|---|---|---|---|---|---|"]
            for ch in measured:
                a = ch.acx
                lines.append(f"| {ch.index + 1} {ch.title} | {a.rms_db:.1f} | {a.peak_db:.1f} | "
                             f"{a.noise_floor_db:.1f} | {a.head_tone:.2f} | {a.tail_tone:.2f} | "
                             f"{'pass' if a.passed else '; '.join(a.reasons)} |")
            lines.append("")
        titles = {ch.index: ch.title for ch in self.chapters}
        for heading, states in (("Failed chunks", (ChunkState.FAILED,)),
                                ("Repaired chunks", (ChunkState.TRIMMED, ChunkState.REPAIRED, ChunkState.SPLIT))):
            rows = self.by_state(*states)
            lines += [f"## {heading} ({len(rows)})", ""]
            if not rows:
                lines += ["None.", ""]
                continue
            lines += ["| chapter | at (chapter) | at (book) | chunk | state | takes | text | reason |",
                      "|---|---|---|---|---|---|---|---|"]
            for r in rows:
                text = r.text if len(r.text) <= 90 else r.text[:87] + "..."
                reason = "; ".join(r.reasons) if r.reasons else "-"
                lines.append(f"| {r.chapter + 1} {titles.get(r.chapter, '')} | {_hms(r.start_chapter)} | "
                             f"{_hms(r.start_book)} | {r.position} | {r.state} | {r.attempts} | "
                             f"{_cell(text)} | {_cell(reason)} |")
            lines.append("")
        return "\n".join(lines)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    summary: Path
    plots: tuple[Path, ...]


def write_report(report: BookReport, folder: Path, stem: str = "qa-report", plots: bool = True) -> ReportFiles:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>-chNN.png`` (one per chapter) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    j, md = folder / f"{stem}.json", folder / f"{stem}.md"
    _atomic(j, report.to_json())
    _atomic(md, report.summary() + "\n")
    pngs: list[Path] = []
    if plots:
        from qa.plots import chapter_plot

        for ch in report.chapters:
            rows = [c for c in report.chunks if c.chapter == ch.index]
            if rows:
                png = folder / f"{stem}-ch{ch.index + 1:02d}.png"
                pngs.append(chapter_plot(rows, f"{ch.index + 1}. {ch.title}", png))
    return ReportFiles(j, md, tuple(pngs))


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)
