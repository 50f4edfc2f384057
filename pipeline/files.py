"""Atomic file writes and 16-bit WAV input/output.

``replacing`` is the one temp-file-then-rename of the code base: every file the pipeline writes (JSON documents,
chunk WAVs, chapter masters and files, the M4B, copies of inputs) goes through it, so a half-written file is
never taken for a finished one and nothing temporary is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.errors import StoreError

__all__ = ["atomic_copy", "atomic_write", "file_digest", "is_disk_full", "read_wav", "replacing", "wav_duration",
           "write_wav"]

# errno values that mean "no room": a full filesystem, or the user's quota on it
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) says the disk or quota is full; ffmpeg reports it only
    in its message."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return True
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp path beside ``path``; if the block succeeds it replaces ``path`` by an atomic rename, and in
    every case nothing temporary is left behind (a half-written file is never taken for a finished one).

    The one temp-then-rename of the code base: every other atomic write goes through it. ``suffix`` ends the
    temp name, for writers that choose a format by it (ffmpeg)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    return path


def atomic_copy(src: Path, dst: Path, link: bool = False) -> Path:
    """Copy ``src`` to ``dst`` atomically; ``link`` hard-links instead where it can (immutable cache files)."""
    dst = Path(dst)
    with replacing(dst) as tmp:
        try:
            if not link:
                raise OSError
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    return dst


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Float audio in [-1, 1] -> 16-bit PCM mono WAV, written atomically."""
    pcm = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    pcm = np.round(pcm * 32767.0).astype("<i2")
    path = Path(path)
    with replacing(path) as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.tobytes())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit PCM mono WAV -> (float32 samples, sample rate)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise StoreError(f"{path}: expected 16-bit mono WAV")
        frames = w.readframes(w.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32767.0, w.getframerate()


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
