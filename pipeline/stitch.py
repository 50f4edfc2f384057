"""Stitcher: chunk WAVs -> one loudness-normalized chapter -> chapter files in a format, and the M4B book.

Plain functions over pydub and the ffmpeg/ffprobe binaries; no Celery, no torch. ``Stitching`` holds its
settings (pauses, edges, loudness, format); a job carries them in its spec.

A chapter is built as: for each chunk in order, strip its leading and trailing silence, fade both ends, pad each
end with exactly ``edge_ms`` of silence, then the pause of its boundary (sentence, paragraph, chapter, title).
So a chapter lasts exactly sum(trimmed chunk + 2 * edge) + sum(pauses), sample for sample. One gain brings the
chapter to the loudness target (integrated LUFS measured by ffmpeg's loudnorm analysis), lowered where needed so
the true peak stays under the ceiling. That master WAV is cached; chapter files and the M4B are encoded from it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from pipeline.errors import SpecError, StitchError
from pipeline.files import atomic_write, replacing

__all__ = [
    "FORMATS",
    "PAUSE_KINDS",
    "ChapterMaster",
    "Stitching",
    "encode_chapter",
    "measure_loudness",
    "prepare_piece",
    "probe",
    "stitch_master",
    "write_m4b",
]

log = logging.getLogger(__name__)

CODECS = {
    "mp3": ["-c:a", "libmp3lame"],
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
    "opus": ["-c:a", "libopus"],
}

FORMATS = tuple(CODECS)
PAUSE_KINDS = ("sentence", "paragraph", "chapter", "title")


@dataclass(frozen=True)
class Stitching:
    """How chunks become chapters: pauses by boundary, edges, fades, loudness, output format."""

    pauses_ms: Mapping[str, int] = field(default_factory=lambda: {
        "sentence": 350, "paragraph": 800, "chapter": 2000, "title": 1200})
    edge_ms: int = 30            # silence kept at each end of a chunk after trimming
    fade_ms: int = 8             # fade in/out of every chunk so joins never click
    silence_db: float = -45.0    # below this (dBFS) a chunk's edge counts as silence
    loudness_lufs: float = -18.0
    true_peak_db: float = -3.0
    format: str = "mp3"
    bitrate: str = "64k"         # mp3/opus chapters and the M4B's AAC

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise SpecError(f"output format {self.format!r} is not one of {', '.join(FORMATS)}")
        missing = [k for k in PAUSE_KINDS if k not in self.pauses_ms]
        if missing:
            raise SpecError(f"pauses {dict(self.pauses_ms)!r} lack {', '.join(missing)}")
        if any(v < 0 for v in self.pauses_ms.values()):
            raise SpecError(f"pauses {dict(self.pauses_ms)!r} must not be negative")
        if not -70 <= self.loudness_lufs <= -5:
            raise SpecError(f"loudness target {self.loudness_lufs} LUFS is out of range (-70..-5)")
        if not -9 <= self.true_peak_db <= 0:
            raise SpecError(f"true peak ceiling {self.true_peak_db} dBTP is out of range (-9..0)")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["pauses_ms"] = dict(self.pauses_ms)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Stitching:
        return cls(**{**d, "pauses_ms": dict(d["pauses_ms"])})


# ISO 639-1 -> 639-2/B for the MP4 language tag (the common ones; others pass through as given).
_LANG3 = {"en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por", "nl": "dut", "sv": "swe",
          "da": "dan", "no": "nor", "fi": "fin", "pl": "pol", "ru": "rus", "ja": "jpn", "zh": "chi", "ko": "kor",
          "ar": "ara", "he": "heb", "el": "gre", "tr": "tur", "hi": "hin", "ms": "may", "sw": "swa"}


@dataclass(frozen=True)
class ChapterMaster:
    """A stitched, normalized chapter: its WAV, exact length, where each chunk starts, and the gain applied."""

    path: Path
    frames: int
    sample_rate: int
    offsets: tuple[float, ...]     # seconds from the chapter start to each chunk's first sample (after its edge)
    gain_db: float
    loudness_lufs: float | None    # measured before the gain (None: silent)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def to_dict(self) -> dict:
        return {"frames": self.frames, "sample_rate": self.sample_rate, "offsets": list(self.offsets),
                "gain_db": self.gain_db, "loudness_lufs": self.loudness_lufs}

    @classmethod
    def load(cls, wav: Path) -> ChapterMaster | None:
        side = wav.with_suffix(".json")
        if not (wav.is_file() and side.is_file()):
            return None
        d = json.loads(side.read_text("utf-8"))
        return cls(wav, d["frames"], d["sample_rate"], tuple(d["offsets"]), d["gain_db"], d["loudness_lufs"])


def _run(cmd: Sequence[str], what: str) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True)
    except FileNotFoundError:
        raise StitchError(f"{cmd[0]} is not installed (needed to {what})") from None
    if r.returncode != 0:
        tail = r.stderr.strip().splitlines()[-1:] or ["no output"]
        raise StitchError(f"{cmd[0]} failed to {what}: {tail[0]}")
    return r


def prepare_piece(seg: AudioSegment, st: Stitching) -> AudioSegment:
    """Strip a chunk's edge silence, fade its ends, pad each end with exactly ``edge_ms`` of silence."""
    start = detect_leading_silence(seg, silence_threshold=st.silence_db, chunk_size=5)
    end = len(seg) - detect_leading_silence(seg.reverse(), silence_threshold=st.silence_db, chunk_size=5)
    body = seg[start:end] if end > start else seg[:0]
    fade = min(st.fade_ms, len(body) // 2)
    if fade > 0:
        body = body.fade_in(fade).fade_out(fade)
    edge = AudioSegment.silent(duration=st.edge_ms, frame_rate=seg.frame_rate)
    return edge + body + edge


def _silence_frames(ms: int, rate: int) -> AudioSegment:
    return AudioSegment.silent(duration=ms, frame_rate=rate)


def measure_loudness(path: Path) -> tuple[float | None, float | None]:
    """(integrated loudness LUFS, true peak dBTP) by ffmpeg's loudnorm analysis; None for silence."""
    r = _run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
              "loudnorm=print_format=json", "-f", "null", "-"], f"measure the loudness of {path.name}")
    m = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", r.stderr)
    if not m:
        raise StitchError(f"ffmpeg printed no loudness measurement for {path.name}")
    d = json.loads(m.group(0))

    def num(key: str) -> float | None:
        try:
            v = float(d[key])
        except (KeyError, ValueError):
            return None
        return v if math.isfinite(v) and v > -70 else None

    return num("input_i"), num("input_tp")


def stitch_master(chunk_wavs: Sequence[Path], pauses_ms: Sequence[int], st: Stitching, out: Path) -> ChapterMaster:
    """Join chunk WAVs in order with the pause after each, normalize loudness, write ``out`` (+ .json sidecar)."""
    if len(chunk_wavs) != len(pauses_ms):
        raise StitchError(f"{len(chunk_wavs)} chunks but {len(pauses_ms)} pauses")
    if not chunk_wavs:
        raise StitchError("a chapter needs at least one chunk")
    pieces: list[AudioSegment] = []
    offsets: list[float] = []
    rate = None
    frames = 0
    for wav, pause in zip(chunk_wavs, pauses_ms, strict=True):
        seg = AudioSegment.from_wav(str(wav))
        if seg.channels != 1 or seg.sample_width != 2:
            seg = seg.set_channels(1).set_sample_width(2)
        rate = rate or seg.frame_rate
        if seg.frame_rate != rate:
            seg = seg.set_frame_rate(rate)
        piece = prepare_piece(seg, st)
        offsets.append((frames + int(st.edge_ms * rate / 1000)) / rate)
        gap = _silence_frames(pause, rate)
        pieces += [piece, gap]
        frames += int(piece.frame_count()) + int(gap.frame_count())
    joined = sum(pieces[1:], pieces[0])
    assert int(joined.frame_count()) == frames
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="tomecast-stitch-") as tmp:
        raw = Path(tmp) / "raw.wav"
        joined.export(str(raw), format="wav")
        lufs, peak = measure_loudness(raw)
    gain = 0.0
    if lufs is not None:
        gain = st.loudness_lufs - lufs
        if peak is not None and peak + gain > st.true_peak_db:
            gain = st.true_peak_db - peak
    normalized = joined.apply_gain(gain) if gain else joined
    data = normalized.export(format="wav").read()
    atomic_write(out, data)
    master = ChapterMaster(out, frames, rate, tuple(offsets), round(gain, 3), lufs)
    atomic_write(out.with_suffix(".json"), json.dumps(master.to_dict(), indent=1))
    log.debug("stitched %s: %d chunks, %.2f s, gain %+.2f dB", out.name, len(chunk_wavs), master.duration, gain)
    return master


def encode_chapter(master: Path, out: Path, fmt: str, bitrate: str, tags: dict[str, str]) -> Path:
    """Encode a master WAV to ``fmt`` with metadata tags, atomically."""
    if fmt not in CODECS:
        raise StitchError(f"output format {fmt!r} is not one of {', '.join(CODECS)}")
    out = Path(out)
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-y", "-i", str(master), "-map_metadata", "-1"]
    for k, v in tags.items():
        cmd += ["-metadata", f"{k}={v}"]
    cmd += CODECS[fmt]
    if fmt in ("mp3", "opus"):
        cmd += ["-b:a", bitrate]
    with replacing(out, suffix=out.suffix) as tmp:  # ffmpeg picks the muxer by the suffix
        _run([*cmd, str(tmp)], f"encode {out.name}")
    return out


def _ffmeta_escape(s: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", s)


def write_m4b(masters: Sequence[ChapterMaster], titles: Sequence[str], out: Path, *, title: str, author: str,
              language: str, cover: Path | None = None, bitrate: str = "64k") -> Path:
    """One AAC M4B from chapter masters with a chapter marker at each start, book tags and cover art."""
    if len(masters) != len(titles) or not masters:
        raise StitchError(f"{len(masters)} chapter files for {len(titles)} titles")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="tomecast-m4b-") as tmp:
        listing = Path(tmp) / "list.txt"
        listing.write_text("".join("file '" + str(m.path.resolve()).replace("'", "'\\''") + "'\n" for m in masters),
                           "utf-8")
        meta = [";FFMETADATA1", f"title={_ffmeta_escape(title)}", f"album={_ffmeta_escape(title)}",
                f"artist={_ffmeta_escape(author)}", f"album_artist={_ffmeta_escape(author)}", "genre=Audiobook"]
        start = 0
        rate = masters[0].sample_rate
        for m, t in zip(masters, titles, strict=True):
            end = start + m.frames
            meta += ["[CHAPTER]", f"TIMEBASE=1/{rate}", f"START={start}", f"END={end}", f"title={_ffmeta_escape(t)}"]
            start = end
        meta_path = Path(tmp) / "meta.txt"
        meta_path.write_text("\n".join(meta) + "\n", "utf-8")
        cmd = ["ffmpeg", "-hide_banner", "-nostats", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
               "-i", str(meta_path)]
        if cover is not None:
            cmd += ["-i", str(cover)]
        cmd += ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        if cover is not None:
            cmd += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
        lang = _LANG3.get((language or "").split("-")[0].lower(), (language or "und")[:3].lower())
        cmd += ["-c:a", "aac", "-b:a", bitrate, "-metadata:s:a:0", f"language={lang}",
                "-movflags", "+faststart", "-f", "mp4"]
        with replacing(out, suffix=".m4b") as tmp_out:
            _run([*cmd, str(tmp_out)], f"write {out.name}")
    return out


def probe(path: Path) -> dict:
    """ffprobe's view of a file: format (duration, tags), streams and chapters."""
    r = _run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
              "-show_chapters", str(path)], f"probe {Path(path).name}")
    return json.loads(r.stdout)
