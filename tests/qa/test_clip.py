"""check_clip: files in WAV and compressed formats, typed errors on bad input, JSON of the report."""

import subprocess
import wave

import numpy as np
import pytest

from qa.clip import check_clip, read_audio
from qa.errors import AudioInputError
from qa.settings import QASettings
from qa.types import ClipReport

NO_ASR = QASettings(asr=False)


def test_wav_and_mp3_read_alike(lj_clips, tmp_path):
    name, audio, sr, text = lj_clips[0]
    src = tmp_path / "clip.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(sr)
        w.writeframes((audio * 32767).astype("<i2").tobytes())
    mp3 = tmp_path / "clip.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), str(mp3)], check=True)
    a, r = read_audio(mp3)
    assert r == sr and abs(len(a) / r - len(audio) / sr) < 0.1
    rep = check_clip(mp3, text, NO_ASR, asr=None)
    assert rep.passed and not rep.asr_ran and ClipReport.from_json(rep.to_json()) == rep


def test_silence_fails_with_its_reason():
    rep = check_clip((np.zeros(48000, np.float32), 16000), "Some words here to say.", NO_ASR, asr=None)
    assert not rep.passed and any(r.startswith("loudness: no sound") for r in rep.reasons)
    text = rep.render()
    assert text.startswith("FAIL  3.00 s, 10 checks (ASR off)") and "FAIL loudness" in text


@pytest.mark.parametrize("make, words", [(lambda p: p / "missing.wav", "no such file"),
                                         (lambda p: (p / "junk.wav").write_text("not audio") and p / "junk.wav",
                                          "cannot decode audio")])
def test_bad_files_are_audio_input_errors(tmp_path, make, words):
    with pytest.raises(AudioInputError, match=words):
        check_clip(make(tmp_path), "text", NO_ASR, asr=None)


def test_empty_text_is_an_error():
    with pytest.raises(AudioInputError, match="text to check against is empty"):
        check_clip((np.zeros(100, np.float32), 16000), "  ", NO_ASR, asr=None)
