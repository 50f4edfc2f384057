"""Decode a voice clip file (wav, flac, mp3, m4a, ogg, ... anything ffmpeg reads) to float32 mono.

``load_clip_native(path)`` keeps the file's own rate (the model resamples with its own filters, which is
what voice parity was proven with); ``load_clip(path, sample_rate)`` lets ffmpeg resample (libsoxr when the
build has it). Stereo and multichannel audio are averaged to mono (the plain mean of the channels, as
librosa's loader does; ffmpeg's own downmix would scale by 1/sqrt(2)). Every failure is a one-line
``ClipError`` naming the file.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np

from pipeline.errors import ClipError

log = logging.getLogger(__name__)

TIMEOUT_S = 300
# Only the start of a clip is used (the model takes its first 10 s): decoding stops here, so a 2-hour clip costs
# what a minute does (memory and time).
MAX_CLIP_SECONDS = 60.0


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise ClipError(f"{name} is not installed: it is needed to decode voice clips")
    return exe


def _first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ClipError(f"voice clip not found: {path}")
    if not path.is_file():
        raise ClipError(f"voice clip is not a file: {path}")
    if path.stat().st_size == 0:
        raise ClipError(f"voice clip is empty (0 bytes): {path}")


def probe_sample_rate(path: str | Path) -> int:
    """The sample rate of the first audio stream; ClipError if there is none or the file is unreadable."""
    return _probe(Path(path))[0]


def _probe(path: Path) -> tuple[int, int]:
    """(sample rate, channels) of the first audio stream."""
    _check_file(path)
    cmd = [_tool("ffprobe"), "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels",
           "-of", "default=noprint_wrappers=1:nokey=1", str(path)]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ClipError(f"{path}: ffprobe timed out") from None
    if r.returncode != 0:
        why = "invalid data" if b"Invalid data found" in r.stderr else _first_line(r.stderr)
        raise ClipError(f"{path}: not a readable audio file ({why})")
    fields = [f.strip() for f in r.stdout.decode().split()]
    if len(fields) < 2 or not all(f.isdigit() for f in fields[:2]):
        raise ClipError(f"{path}: no audio stream found")
    return int(fields[0]), max(1, int(fields[1]))


def _decode(path: Path, channels: int, sample_rate: int | None, max_seconds: float | None) -> np.ndarray:
    cmd = [_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn",
           "-ac", str(channels)]
    if sample_rate is not None:
        cmd += ["-af", "aresample=resampler=soxr:precision=20", "-ar", str(int(sample_rate))]
    if max_seconds is not None:
        cmd += ["-t", f"{float(max_seconds):.3f}"]
    cmd += ["-f", "f32le", "-acodec", "pcm_f32le", "-"]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ClipError(f"{path}: decoding timed out after {TIMEOUT_S} s") from None
    if r.returncode != 0:
        text = r.stderr.decode("utf-8", "replace")
        if "matches no streams" in text:
            raise ClipError(f"{path}: no audio stream found")
        if "Invalid data found" in text:
            raise ClipError(f"{path}: not a readable audio file (invalid data)")
        raise ClipError(f"{path}: cannot decode audio ({_first_line(r.stderr)})")
    wav = np.frombuffer(r.stdout, dtype="<f4")
    wav = wav[: wav.size - wav.size % channels].reshape(-1, channels).mean(axis=1, dtype=np.float32)
    if wav.size == 0:
        raise ClipError(f"{path}: contains no audio samples")
    if not np.isfinite(wav).all():
        raise ClipError(f"{path}: decoded audio contains NaN or infinite samples")
    return wav


def load_clip_native(path: str | Path, max_seconds: float | None = MAX_CLIP_SECONDS) -> tuple[np.ndarray, int]:
    """(float32 mono samples in [-1, 1], the file's sample rate); at most the first ``max_seconds``."""
    path = Path(path)
    rate, channels = _probe(path)
    wav = _decode(path, channels, None, max_seconds)
    log.info("decoded %s: %.2f s at %d Hz", path, wav.size / rate, rate)
    return wav, rate


def load_clip(path: str | Path, sample_rate: int, max_seconds: float | None = MAX_CLIP_SECONDS) -> np.ndarray:
    """Float32 mono samples at ``sample_rate`` (resampled by ffmpeg); at most the first ``max_seconds``."""
    if int(sample_rate) <= 0:
        raise ClipError(f"sample rate must be positive, got {sample_rate!r}")
    path = Path(path)
    _, channels = _probe(path)
    wav = _decode(path, channels, int(sample_rate), max_seconds)
    log.info("decoded %s: %.2f s at %d Hz", path, wav.size / int(sample_rate), int(sample_rate))
    return wav
