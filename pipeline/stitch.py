"""Stitcher: chunk WAVs -> one loudness-normalized chapter master -> chapter files in a format, and the M4B book.

Plain functions over numpy and the ffmpeg/ffprobe binaries; no Celery, no torch. ``Stitching`` holds its
settings (pauses, edges, loudness, format); a job carries them in its spec.

A chapter is built as: for each chunk in order, strip its leading and trailing silence, fade both ends, pad each
end with exactly ``edge_ms`` of silence, then the pause of its boundary (sentence, paragraph, title...). The
chapter's ends are room tone of a set length, as ACX asks (0.5-1 s at the head, 1-5 s at the tail): the first
chunk is padded before its first sound with ``head_ms`` instead of the edge, the last after its last sound with
``tail_ms`` instead of the edge and its pause (the "chapter" pause). Since every chunk's own silence is stripped
first, the head and tail are exactly those lengths whatever silence the synthesizer left. So a chapter lasts
exactly head + sum(trimmed chunk) + (2n - 2) * edge + sum(pauses but the last) + tail, sample for sample.

In linear time and bounded memory, whatever the chapter's length: the first pass reads one chunk at a time and
appends its 16-bit samples to a raw temp file while an ffmpeg process beside us measures their loudness and true
peak (``loudness.LoudnessMeter``); the second pass streams that file through one gain (to the loudness target)
and a true-peak limiter (``loudness.limit``, for the few peaks the gain would push over) into the master WAV.
Where the limiter took more than ``LOUDNESS_TOLERANCE_LU`` of loudness with the peaks (known from the energy it
removed), the second pass runs once more with the gain raised by that much.
The master's ceiling sits ``CODEC_HEADROOM_DB`` under the promised one, because lossy encoders overshoot; the
encoders then measure what they wrote and turn a file that still went over down (``true_peak_db``).
That master WAV is cached; chapter files and the M4B are encoded from it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import subprocess
import tempfile
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.covers import prepare_cover
from pipeline.errors import SpecError, StitchError
from pipeline.files import atomic_write, replacing
from pipeline.loudness import Loudness, LoudnessMeter, limit, measure_loudness

__all__ = [
    "CODEC_HEADROOM_DB",
    "FORMATS",
    "PAUSE_KINDS",
    "VERSION",
    "ChapterMaster",
    "Loudness",
    "Stitching",
    "encode_chapter",
    "encode_m4b",
    "measure_loudness",
    "prepare_piece",
    "probe",
    "read_pcm",
    "stitch_master",
    "write_m4b",
]

log = logging.getLogger(__name__)

VERSION = 3   # of how a master is made from its chunks (part of its cache key): 2 = streamed, limited, headroom;
#               3 = head and tail room tone

CODECS = {
    "mp3": ["-c:a", "libmp3lame"],
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
    "opus": ["-c:a", "libopus"],
}

FORMATS = tuple(CODECS)
PAUSE_KINDS = ("sentence", "paragraph", "chapter", "title", "line", "scene")
# line: the end of a verse line (shorter than a sentence); scene: a scene break (* * *), longer than a paragraph;
# chapter: after a chapter's last chunk, where the stitcher puts Stitching.tail_ms of room tone instead (the kind
# stays for plans and job documents that name it)
DEFAULT_PAUSES_MS = {"sentence": 350, "paragraph": 800, "chapter": 2000, "title": 1200, "line": 250, "scene": 1800}

# Lossy encoders (AAC, MP3, Opus at 64 kb/s) raise the true peak of speech by up to ~1.5 dB: the master keeps
# this much under the promised ceiling, so the encoded files rarely need the measured second encode.
CODEC_HEADROOM_DB = 1.5
LIMIT_MAX_DB = 8.0        # the limiter takes at most this off a peak; beyond, the whole chapter is turned down
LIMIT_WINDOW_MS = 5.0     # the limiter's gain falls over 2 windows before a peak and rises over 2 after it
_BLOCK = 1 << 18          # samples per read in the second pass (11 s at 24 kHz; 1 MiB as float32)
_REENCODE_MARGIN_DB = 0.3
LOUDNESS_TOLERANCE_LU = 0.5   # a master quieter than the target by more (after limiting) is made again
_REENCODE_TRIES = 3       # lossy overshoot is not linear in the level: measure again after each encode
MP3_LSF_CUTOFF_HZ = 8000
MAX_TONE_MS = 10_000      # of head or tail room tone: more is a typo, not a setting


@dataclass(frozen=True)
class Stitching:
    """How chunks become chapters: pauses by boundary, edges, room tone at the ends, fades, loudness, format.

    Room tone is digital silence, like the pauses: ACX's checks (``qa.acx``) count a frame under -50 dB as room
    tone and want a noise floor of at most -60 dB, both of which silence meets; generated noise at the ends only
    would make them unlike every pause inside the chapter."""

    pauses_ms: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PAUSES_MS))
    edge_ms: int = 30            # silence kept at each end of a chunk after trimming
    head_ms: int = 750           # room tone before a chapter's first sound (ACX: 0.5-1 s)
    tail_ms: int = 2000          # room tone after its last sound, instead of the "chapter" pause (ACX: 1-5 s)
    fade_ms: int = 8             # fade in/out of every chunk so joins never click
    silence_db: float = -45.0    # below this (dBFS, RMS over 5 ms) a chunk's edge counts as silence
    loudness_lufs: float = -18.0
    true_peak_db: float = -3.0   # of every delivered file: master, chapter files, M4B
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
        for name, ms in (("head", self.head_ms), ("tail", self.tail_ms)):
            if not 0 <= ms <= MAX_TONE_MS:
                raise SpecError(f"{name} room tone of {ms} ms is out of range (0..{MAX_TONE_MS}; ACX: head "
                                f"500-1000, tail 1000-5000)")
        if not -70 <= self.loudness_lufs <= -5:
            raise SpecError(f"loudness target {self.loudness_lufs} LUFS is out of range (-70..-5)")
        if not -9 <= self.true_peak_db <= 0:
            raise SpecError(f"true peak ceiling {self.true_peak_db} dBTP is out of range (-9..0)")

    @property
    def master_peak_db(self) -> float:
        """The master's true-peak ceiling: the promised one less the headroom lossy codecs need."""
        return self.true_peak_db - CODEC_HEADROOM_DB

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["pauses_ms"] = dict(self.pauses_ms)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Stitching:
        # a job written before a pause kind existed takes that kind's default
        return cls(**{**d, "pauses_ms": {**DEFAULT_PAUSES_MS, **d["pauses_ms"]}})


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
    offsets: tuple[float, ...]     # seconds from the chapter start to each chunk's first sample (after its edge;
    #                                the first chunk's: after the head room tone)
    gain_db: float
    loudness_lufs: float | None    # measured before the gain (None: silent)
    master_lufs: float | None = None   # of the master as written, estimated (the gain and the limiter's loss)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def to_dict(self) -> dict:
        return {"frames": self.frames, "sample_rate": self.sample_rate, "offsets": list(self.offsets),
                "gain_db": self.gain_db, "loudness_lufs": self.loudness_lufs, "master_lufs": self.master_lufs}

    @classmethod
    def load(cls, wav: Path) -> ChapterMaster | None:
        side = wav.with_suffix(".json")
        if not (wav.is_file() and side.is_file()):
            return None
        d = json.loads(side.read_text("utf-8"))
        return cls(wav, d["frames"], d["sample_rate"], tuple(d["offsets"]), d["gain_db"], d["loudness_lufs"],
                   d.get("master_lufs"))


def _run(cmd: Sequence[str], what: str) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True)
    except FileNotFoundError:
        raise StitchError(f"{cmd[0]} is not installed (needed to {what})") from None
    if r.returncode != 0:
        tail = r.stderr.strip().splitlines()[-1:] or ["no output"]
        raise StitchError(f"{cmd[0]} failed to {what}: {tail[0]}")
    return r


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """A chunk's audio as mono 16-bit samples and its rate (the synthesizer writes exactly that; anything else
    is converted by ffmpeg)."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getcomptype() == "NONE":
                return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()
    except (wave.Error, EOFError):
        pass
    except OSError as exc:
        raise StitchError(f"cannot read chunk {path.name}: {exc.strerror or exc}") from None
    rate = _probe_rate(path)
    r = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-i", str(path), "-ac", "1",
                        "-f", "s16le", "-c:a", "pcm_s16le", "-"], capture_output=True)
    if r.returncode != 0:
        raise StitchError(f"cannot read chunk {path.name}: {r.stderr.decode(errors='replace').strip()[-200:]}")
    return np.frombuffer(r.stdout, dtype="<i2"), rate


def _probe_rate(path: Path) -> int:
    streams = [s for s in probe(path).get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise StitchError(f"chunk {Path(path).name} has no audio")
    return int(streams[0]["sample_rate"])


def _loud_bounds(pcm: np.ndarray, rate: int, silence_db: float) -> tuple[int, int]:
    """[start, end) of a chunk without its silent edges: whole 5 ms blocks (counted from each end) whose RMS is
    under ``silence_db`` dBFS are dropped; (0, 0) when every block is silent."""
    block = max(1, rate * 5 // 1000)
    floor = (32768.0 * 10 ** (silence_db / 20)) ** 2 * block

    def first_loud(x: np.ndarray) -> int | None:
        n = len(x)
        if n == 0:
            return None
        sq = np.square(x, dtype=np.float64)
        sums = np.add.reduceat(sq, np.arange(0, n, block))
        sizes = np.minimum(block, n - np.arange(0, n, block))
        loud = np.flatnonzero(sums >= floor * sizes / block)   # mean square of each block against the floor
        return int(loud[0]) * block if loud.size else None

    start = first_loud(pcm)
    if start is None:
        return 0, 0
    back = first_loud(pcm[::-1])
    return start, max(start, len(pcm) - back)


def prepare_piece(pcm: np.ndarray, rate: int, st: Stitching, lead_ms: int | None = None,
                  trail_ms: int | None = None) -> np.ndarray:
    """A chunk as it enters the chapter (16-bit): silent edges stripped, both ends faded, then padded with exactly
    ``lead_ms`` before and ``trail_ms`` after (each ``edge_ms`` unless given: the chapter's head and tail)."""
    start, end = _loud_bounds(pcm, rate, st.silence_db)
    body = pcm[start:end].astype(np.float32)
    fade = min(int(st.fade_ms * rate / 1000), len(body) // 2)
    if fade > 0:
        ramp = np.arange(fade, dtype=np.float32) / fade
        body[:fade] *= ramp
        body[-fade:] *= ramp[::-1]
    lead = _frames(st.edge_ms if lead_ms is None else lead_ms, rate)
    trail = _frames(st.edge_ms if trail_ms is None else trail_ms, rate)
    out = np.zeros(lead + len(body) + trail, dtype="<i2")
    out[lead: lead + len(body)] = np.round(body).astype("<i2")
    return out


def _frames(ms: int, rate: int) -> int:
    return int(ms * rate / 1000)


def stitch_master(chunk_wavs: Sequence[Path], pauses_ms: Sequence[int], st: Stitching, out: Path) -> ChapterMaster:
    """Join chunk WAVs in order with the pause after each, normalize loudness, write ``out`` (+ .json sidecar).

    The chapter opens with ``st.head_ms`` of room tone and closes with ``st.tail_ms``, which replaces the last
    pause. Two streamed passes (see the module docstring): memory holds one chunk and one block, never the chapter."""
    if len(chunk_wavs) != len(pauses_ms):
        raise StitchError(f"{len(chunk_wavs)} chunks but {len(pauses_ms)} pauses")
    if not chunk_wavs:
        raise StitchError("a chapter needs at least one chunk")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    offsets: list[float] = []
    rate = None
    frames = 0
    with tempfile.TemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".raw") as raw:
        meter = None
        try:
            last = len(chunk_wavs) - 1
            for i, (wav, pause) in enumerate(zip(chunk_wavs, pauses_ms, strict=True)):
                pcm, r = read_pcm(wav)
                if rate is None:
                    rate = r
                    meter = LoudnessMeter(rate, out.name)
                elif r != rate:
                    raise StitchError(f"chunk {Path(wav).name} is at {r} Hz, the chapter at {rate} Hz")
                lead = st.head_ms if i == 0 else st.edge_ms
                piece = prepare_piece(pcm, rate, st, lead, st.tail_ms if i == last else st.edge_ms)
                offsets.append((frames + _frames(lead, rate)) / rate)
                gap = np.zeros(0 if i == last else _frames(pause, rate), dtype="<i2")
                for part in (piece, gap):
                    raw.write(part.tobytes())
                    meter.feed(part)
                frames += len(piece) + len(gap)
            measured = meter.result()
        finally:
            if meter is not None:
                meter.__exit__()
        gain, cap = _gain(measured, st)
        lufs = None
        if measured.lufs is not None:
            lufs = measured.lufs + gain + _write_scaled(raw, frames, rate, gain, st, out)
            short = st.loudness_lufs - lufs
            if short > LOUDNESS_TOLERANCE_LU and gain < cap:
                # the limiter took loudness with the peaks (peaky speech: ~1 LU): once more, that much louder
                gain = min(gain + short, cap)
                lufs = measured.lufs + gain + _write_scaled(raw, frames, rate, gain, st, out)
        else:
            _write_scaled(raw, frames, rate, gain, st, out)
    master = ChapterMaster(out, frames, rate, tuple(offsets), round(gain, 3), measured.lufs,
                           None if lufs is None else round(lufs, 2))
    atomic_write(out.with_suffix(".json"), json.dumps(master.to_dict(), indent=1))
    log.debug("stitched %s: %d chunks, %.2f s, %s LUFS, peak %s dBFS, gain %+.2f dB", out.name, len(chunk_wavs),
              master.duration, measured.lufs, measured.true_peak, gain)
    return master


def _gain(measured: Loudness, st: Stitching) -> tuple[float, float]:
    """(gain, most gain allowed) of a chapter: to the loudness target, unless the limiter would have to take more
    than ``LIMIT_MAX_DB`` off its highest peak (``measured.true_peak`` is the sample peak: see LoudnessMeter)."""
    if measured.lufs is None:
        return 0.0, 0.0
    cap = math.inf
    if measured.true_peak is not None:
        cap = st.master_peak_db + LIMIT_MAX_DB - measured.true_peak
    return min(st.loudness_lufs - measured.lufs, cap), cap


def _write_scaled(raw, frames: int, rate: int, gain_db: float, st: Stitching, out: Path) -> float:
    """Stream the raw 16-bit chapter through the gain and the limiter into ``out`` (a WAV), block by block;
    returns the loudness (dB) the limiter took: the energy ratio after/before it. (The limiter works only on
    loud moments, all inside the loudness gate, with one gain across frequencies: its loss in energy is its loss
    in LUFS to within ~0.1 LU, without a second ffmpeg measurement.)

    Each block is read with enough context either side that the limiter sees every peak that shapes it."""
    gain = np.float32(10 ** (gain_db / 20))
    ceiling = 32767.0 * 10 ** (st.master_peak_db / 20)
    window = max(1, int(LIMIT_WINDOW_MS * rate / 1000))
    ctx = 2 * window + 32
    energy_in = energy_out = 0.0
    with replacing(out, suffix=".wav") as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            for s in range(0, frames, _BLOCK):
                e = min(s + _BLOCK, frames)
                a, b = max(0, s - ctx), min(frames, e + ctx)
                raw.seek(2 * a)
                x = np.frombuffer(raw.read(2 * (b - a)), dtype="<i2").astype(np.float32)
                x *= gain
                own = slice(s - a, len(x) - (b - e))
                energy_in += float(np.dot(x[own], x[own]))
                limit(x, ceiling, window)
                y = x[own]
                energy_out += float(np.dot(y, y))
                np.clip(np.round(y, out=y), -32768, 32767, out=y)
                w.writeframes(y.astype("<i2").tobytes())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    return 10 * math.log10(energy_out / energy_in) if energy_in > 0 and energy_out > 0 else 0.0


def _encode_checked(cmd_in: list[str], cmd_out: list[str], out: Path, true_peak_db: float | None,
                    what: str) -> Loudness | None:
    """Run ffmpeg ``cmd_in + cmd_out + [out]``; if ``true_peak_db`` is given, measure what it wrote and, over
    the ceiling, encode once more that much quieter (plus a margin). Returns the final measurement."""
    _run([*cmd_in, *cmd_out, str(out)], what)
    if true_peak_db is None:
        return None
    m = measure_loudness(out)
    drop = 0.0
    for _ in range(_REENCODE_TRIES):
        if m.true_peak is None or m.true_peak <= true_peak_db:
            return m
        drop += true_peak_db - _REENCODE_MARGIN_DB - m.true_peak
        log.info("%s: %.2f dBTP after encoding, over %.1f: encoding again %.2f dB quieter", out.name, m.true_peak,
                 true_peak_db, -drop)
        _run([*cmd_in, "-af", f"volume={drop:.3f}dB", *cmd_out, str(out)], what)
        m = measure_loudness(out)
    if m.true_peak is not None and m.true_peak > true_peak_db:   # kept: a book a little hot beats no book
        log.warning("%s: true peak %+.1f dBTP after %d encodes, over the ceiling of %+.1f (the codec overshoots; "
                    "a higher bitrate or another format would help)", out.name, m.true_peak, _REENCODE_TRIES + 1,
                    true_peak_db)
    return m


def _wav_rate(path: Path) -> int:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getframerate()
    except (wave.Error, EOFError, OSError):
        return _probe_rate(path)


def encode_chapter(master: Path, out: Path, fmt: str, bitrate: str, tags: dict[str, str],
                   true_peak_db: float | None = None) -> Path:
    """Encode a master WAV to ``fmt`` with metadata tags, atomically; with ``true_peak_db``, the encoded file is
    measured and kept at or under that ceiling."""
    if fmt not in CODECS:
        raise StitchError(f"output format {fmt!r} is not one of {', '.join(CODECS)}")
    out = Path(out)
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-y", "-i", str(master), "-map_metadata", "-1"]
    for k, v in tags.items():
        cmd += ["-metadata", f"{k}={v}"]
    codec = list(CODECS[fmt])
    if fmt in ("mp3", "opus"):
        codec += ["-b:a", bitrate]
    if fmt == "mp3" and _wav_rate(master) < 32000:
        # MPEG-2 layer III (under 32 kHz) codes everything above ~8 kHz in one band without a scale factor: lame
        # at 64 kb/s turns sibilants there into peaks up to 9 dB over the source (measured on LJ Speech at 24 kHz:
        # -4.5 dBTP in, +4.8 out). Cut there; the speech above 8 kHz costs ~0.6 LU and no intelligibility.
        codec += ["-cutoff", str(MP3_LSF_CUTOFF_HZ)]
    with replacing(out, suffix=out.suffix) as tmp:  # ffmpeg picks the muxer by the suffix
        m = _encode_checked(cmd, codec, tmp, true_peak_db, f"encode {out.name}")
    if m is not None:
        log.debug("%s: %s LUFS, %s dBTP", out.name, m.lufs, m.true_peak)
    return out


def _ffmeta_escape(s: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", s)


def write_m4b(masters: Sequence[ChapterMaster], titles: Sequence[str], out: Path, *, title: str, author: str,
              language: str, cover: Path | None = None, bitrate: str = "64k",
              true_peak_db: float | None = None) -> Path:
    """One AAC M4B from chapter masters with a chapter marker at each start, book tags and cover art (any image
    format: converted to JPEG, or left out with a warning). With ``true_peak_db``, the M4B is measured and kept
    at or under that ceiling."""
    return encode_m4b(masters, titles, out, title=title, author=author, language=language, cover=cover,
                      bitrate=bitrate, true_peak_db=true_peak_db)[0]


def encode_m4b(masters: Sequence[ChapterMaster], titles: Sequence[str], out: Path, *, title: str, author: str,
               language: str, cover: Path | None = None, bitrate: str = "64k",
               true_peak_db: float | None = None) -> tuple[Path, Loudness | None]:
    """``write_m4b``, with the M4B's loudness as measured after encoding (None without ``true_peak_db``)."""
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
        cover = prepare_cover(cover, Path(tmp))
        cmd = ["ffmpeg", "-hide_banner", "-nostats", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
               "-i", str(meta_path)]
        if cover is not None:
            cmd += ["-i", str(cover)]
        cmd += ["-map_metadata", "1", "-map_chapters", "1"]
        out_map = ["-map", "0:a"]
        if cover is not None:
            out_map += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
        lang = _LANG3.get((language or "").split("-")[0].lower(), (language or "und")[:3].lower())
        # ffmpeg's default AAC coder (twoloop) runs ~110 s per hour of speech-like audio here and overshoots the
        # master's true peak by ~2.2 dB; "fast" runs ~15 s per hour and overshoots by ~0.5 dB (a book is hours)
        codec = [*out_map, "-c:a", "aac", "-aac_coder", "fast", "-b:a", bitrate, "-metadata:s:a:0", f"language={lang}",
                 "-movflags", "+faststart", "-f", "mp4"]
        with replacing(out, suffix=".m4b") as tmp_out:
            measured = _encode_checked(cmd, codec, tmp_out, true_peak_db, f"write {out.name}")
    if measured is not None:
        log.info("%s: %s LUFS, %s dBTP", out.name, measured.lufs, measured.true_peak)
    return out, measured


def probe(path: Path) -> dict:
    """ffprobe's view of a file: format (duration, tags), streams and chapters."""
    r = _run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
              "-show_chapters", str(path)], f"probe {Path(path).name}")
    return json.loads(r.stdout)
