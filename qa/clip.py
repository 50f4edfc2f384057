"""``check_clip``: every check on one audio file (or array) against its text, the code behind ``tomecast check``.

Audio is read with the stdlib ``wave`` module (PCM WAV) or decoded by an ``ffmpeg`` subprocess (anything else);
never torch.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from qa.asr import Transcriber, load_transcriber
from qa.chunk import check_chunk
from qa.errors import AudioInputError
from qa.pace import PaceModel
from qa.settings import QASettings
from qa.types import ChunkContext, ClipReport

__all__ = ["check_clip", "read_audio"]


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of an audio file; ``AudioInputError`` when it cannot be read."""
    p = Path(path)
    if not p.is_file():
        raise AudioInputError(f"{p}: no such file")
    try:
        return _read_wav(p)
    except (wave.Error, EOFError, ValueError):
        pass
    if shutil.which("ffmpeg") is None:
        raise AudioInputError(f"{p}: not a PCM WAV file and ffmpeg is not installed to decode it")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(p), "-ac", "1", "-c:a", "pcm_s16le",
                            str(out)], capture_output=True, text=True)
        if r.returncode != 0 or not out.is_file():
            msg = (r.stderr.strip().splitlines() or ["unknown format"])[-1]
            raise AudioInputError(f"{p}: cannot decode audio: {msg}")
        return _read_wav(out)


def _read_wav(p: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(p), "rb") as w:
        width, channels, rate, n = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    if width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    else:
        raise ValueError(f"{width * 8}-bit WAV")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    if x.size == 0:
        raise AudioInputError(f"{p}: the audio is empty")
    return x.astype(np.float32), rate


def check_clip(clip: str | Path | tuple[np.ndarray, int], text: str, settings: QASettings | None = None,
               asr: Transcriber | None | str = "auto", language: str = "en",
               pace: PaceModel | None = None) -> ClipReport:
    """Every check on ``clip`` (a path, or (samples, sample rate)) against ``text``.

    ``asr``: a loaded ``Transcriber``; None for signal checks only; "auto" loads ``settings.asr_model`` when
    faster-whisper is installed and ``settings.asr`` is on (else says once that ASR is off)."""
    settings = settings or QASettings()
    settings.validate()
    if not text or not text.strip():
        raise AudioInputError("the text to check against is empty")
    audio, rate = read_audio(clip) if isinstance(clip, (str, Path)) else clip
    if len(audio) == 0:
        raise AudioInputError("the audio is empty")
    transcriber = load_transcriber(settings) if asr == "auto" else asr
    pace = pace or PaceModel(settings)
    ctx = ChunkContext(text=text, language=language, expected=pace.expect(text))
    return check_chunk(audio, rate, ctx, settings, transcriber)
