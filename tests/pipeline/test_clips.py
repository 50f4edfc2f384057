"""Clip decoding through ffmpeg: real mp3/m4a/ogg/flac/wav files, stereo downmix, rates, one-line errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.clips import load_clip, load_clip_native, probe_sample_rate
from pipeline.errors import ClipError, PipelineError

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                                reason="ffmpeg/ffprobe not installed")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clips")
    tone = "sine=frequency=440:duration=4:sample_rate={sr}"
    ffmpeg("-f", "lavfi", "-i", tone.format(sr=22050), str(d / "tone.wav"))
    ffmpeg("-f", "lavfi", "-i", tone.format(sr=44100), "-b:a", "128k", str(d / "tone.mp3"))
    ffmpeg("-f", "lavfi", "-i", tone.format(sr=48000), "-c:a", "aac", str(d / "tone.m4a"))
    ffmpeg("-f", "lavfi", "-i", tone.format(sr=48000), "-c:a", "libvorbis", str(d / "tone.ogg"))
    # stereo 44.1 kHz flac: the tone on the left channel only, silence on the right
    ffmpeg("-f", "lavfi", "-i", tone.format(sr=44100), "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono:d=4",
           "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo[a]", "-map", "[a]", "-t", "4",
           str(d / "stereo.flac"))
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=32x32:d=1", str(d / "video.mp4"))
    (d / "notes.txt").write_text("not audio at all\n")
    (d / "empty.wav").write_bytes(b"")
    raw = (d / "tone.wav").read_bytes()
    (d / "corrupt.wav").write_bytes(raw[:44] + bytes(range(256)) * 3)
    (d / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(5000))
    return d


@pytest.mark.parametrize("name,rate", [("tone.wav", 22050), ("tone.mp3", 44100), ("tone.m4a", 48000),
                                       ("tone.ogg", 48000), ("stereo.flac", 44100)])
def test_native_decode(clips, name, rate):
    wav, sr = load_clip_native(clips / name)
    assert sr == rate == probe_sample_rate(clips / name)
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert abs(wav.size / sr - 4.0) < 0.1
    # a 440 Hz tone: strongest FFT bin at 440 Hz
    spec = np.abs(np.fft.rfft(wav))
    assert abs(np.fft.rfftfreq(wav.size, 1 / sr)[spec.argmax()] - 440) < 2


def test_stereo_is_averaged(clips):
    mono, _ = load_clip_native(clips / "tone.wav")
    stereo, _ = load_clip_native(clips / "stereo.flac")
    # lavfi sine has amplitude 1/8; averaged with a silent channel it halves
    assert abs(float(np.abs(mono).max()) - 0.125) < 0.01
    assert abs(float(np.abs(stereo).max()) - 0.0625) < 0.01


@pytest.mark.parametrize("sr", [16000, 24000])
def test_resampled_decode(clips, sr):
    wav = load_clip(clips / "tone.mp3", sr)
    assert abs(wav.size / sr - 4.0) < 0.1


@pytest.mark.parametrize("name,msg", [("missing.wav", "not found"), ("empty.wav", "empty"),
                                      ("notes.txt", "not a readable audio file"),
                                      ("video.mp4", "no audio stream"), ("garbage.mp3", "audio")])
def test_bad_files(clips, name, msg):
    for call in (lambda p: load_clip_native(p), lambda p: load_clip(p, 16000)):
        with pytest.raises(ClipError, match=msg) as err:
            call(clips / name)
        assert isinstance(err.value, PipelineError)
        assert "\n" not in str(err.value) and name in str(err.value)


def test_corrupt_wav_is_error_or_noise(clips):
    # a wav whose payload is junk still decodes as PCM (ffmpeg cannot tell); what matters is no traceback
    try:
        wav, _ = load_clip_native(clips / "corrupt.wav")
    except ClipError as err:
        assert "\n" not in str(err)
    else:
        assert wav.size > 0 and np.isfinite(wav).all()


def test_encoded_clip_to_voice(tmp_path):
    """A real clip encoded to mp3 and m4a decodes into a usable voice (tiny random encoders)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model" / "voice"))
    from voice_fixtures import VOICES, voice_models

    from model.voice.prepare import prepare_voice

    src = VOICES / "LJ001-0001.wav"
    if not src.is_file():
        pytest.skip(f"reference clip not found: {src}")
    ffmpeg("-i", str(src), "-b:a", "96k", str(tmp_path / "lj.mp3"))
    ffmpeg("-i", str(src), "-ac", "2", "-ar", "44100", "-c:a", "aac", str(tmp_path / "lj.m4a"))
    for name in ("lj.mp3", "lj.m4a"):
        wav, sr = load_clip_native(tmp_path / name)
        voice = prepare_voice(wav, sr, voice_models("tiny"))
        assert voice.cond_prompt_speech_tokens.shape == (1, 150)
        assert voice.gen.n_prompt_frames == 2 * voice.gen.n_prompt_tokens >= 2 * 240


def test_wav_decode_is_sample_exact():
    """16-bit PCM decodes to exactly x / 32768, as the official loader reads it (the voice goldens rely on it)."""
    import wave

    src = Path(__file__).resolve().parents[3] / "shared" / "voices" / "LJ001-0001.wav"
    if not src.is_file():
        pytest.skip(f"reference clip not found: {src}")
    with wave.open(str(src)) as w:
        ref = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
    wav, sr = load_clip_native(src)
    assert sr == 22050 and np.array_equal(wav, ref)


def test_a_long_clip_is_decoded_only_as_far_as_it_is_used(tmp_path):
    """A 20-minute clip: only the first MAX_CLIP_SECONDS come back (ffmpeg stops there), quickly."""
    import time

    from pipeline.clips import MAX_CLIP_SECONDS

    long = tmp_path / "long.flac"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=1200:sample_rate=16000", str(long))
    start = time.monotonic()
    wav, rate = load_clip_native(long)
    assert rate == 16000 and len(wav) == int(MAX_CLIP_SECONDS * rate)
    assert len(load_clip(long, 8000)) == int(MAX_CLIP_SECONDS * 8000)
    assert time.monotonic() - start < 10
