"""The faster-whisper transcriber on real speech: words with times, packing chunks into one window gives each
chunk its own words, and a missing model folder is a one-line error."""

from pathlib import Path

import numpy as np
import pytest

from qa.align import align, words
from qa.errors import AsrUnavailableError
from qa.settings import QASettings


def test_lj_clip_is_transcribed_with_word_times(lj_clips, tiny_asr):
    name, audio, sr, text = lj_clips[0]
    (t,) = tiny_asr.transcribe([(audio, sr)])
    a = align(words(text), words(t.text))
    assert a.errors <= 2, t.text
    assert 0 <= t.words[0].start < 0.5 and len(audio) / sr - 1.0 < t.words[-1].end <= len(audio) / sr


def test_packed_chunks_get_their_own_words(lj_clips, tiny_asr):
    clips = [(audio, sr) for _, audio, sr, _ in lj_clips]
    packed = tiny_asr.transcribe(clips)  # both ~10 s clips fit one 28 s window
    assert len(packed) == len(clips)
    for t, (_, audio, sr, text) in zip(packed, lj_clips, strict=True):
        a = align(words(text), words(t.text))
        assert a.errors <= 2, (text, t.text)
        assert t.words[-1].end <= len(audio) / sr + 0.01


def test_silence_gives_no_words(tiny_asr):
    (t,) = tiny_asr.transcribe([(np.zeros(16000 * 3, np.float32), 16000)])
    assert len(words(t.text)) <= 1  # Whisper may hallucinate one filler word on silence


def test_missing_model_folder_is_an_error():
    pytest.importorskip("faster_whisper")
    from qa.asr import Transcriber

    with pytest.raises(AsrUnavailableError, match="does not exist"):
        Transcriber("/nonexistent/whisper-model")


def test_asr_off_by_setting_gives_no_transcriber():
    from qa.asr import load_transcriber

    assert load_transcriber(QASettings(asr=False)) is None


def test_default_model_follows_the_language():
    from qa.asr import default_model

    assert default_model("en-GB") == "base.en" and default_model("de") == "base"


def test_without_faster_whisper_checks_run_and_say_once_that_asr_is_off(lj_clips):
    import subprocess
    import sys
    import textwrap

    name, audio, sr, text = lj_clips[0]
    code = textwrap.dedent(f"""
        import sys, logging
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("faster_whisper", "ctranslate2", "rapidfuzz"):
                    raise ImportError(name + " is not installed")
        sys.meta_path.insert(0, _Block())
        logging.basicConfig(level=logging.WARNING)
        from qa import check_clip
        clip = "{Path(__file__).resolve().parents[3] / 'shared' / 'voices' / (name + '.wav')}"
        for _ in range(2):
            r = check_clip(clip, {text!r})
            assert r.passed and not r.asr_ran, r.reasons
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert r.stderr.count("ASR check is off") == 1
