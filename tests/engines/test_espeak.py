"""The espeak-ng engine: the Speech protocol's shape, deterministic takes, seeds vary a take, voices save/load."""

import numpy as np

from engines.espeak import EspeakEngine, EspeakVoice


def test_speech_protocol_shape(espeak, tmp_path):
    assert espeak.model_id == "espeak-ng:en-us" and espeak.sample_rate == 22050
    voice = espeak.prepare_voice(None)
    assert espeak.prepare_voice(tmp_path / "any-clip.wav") == voice  # cannot clone: the espeak voice
    voice.save(tmp_path / "v.voice")
    assert espeak.load_voice(tmp_path / "v.voice") == voice and voice.key.startswith("espeak-")
    assert EspeakEngine().speech("anything", None, purpose="voice").model_id == espeak.model_id


def test_takes_are_deterministic_and_seeds_vary_them(espeak):
    v = espeak.prepare_voice(None)
    texts = ["The first sentence, said slowly.", "-- a second one, with a dash in front, 1887."]
    a = espeak.synthesize(texts, v, None, [1, 2])
    b = espeak.synthesize(texts, v, None, [1, 2])
    c = espeak.synthesize(texts[:1], v, None, [40])
    assert all(x.dtype == np.float32 and x.ndim == 1 and len(x) > 22050 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert 0.1 < np.abs(a[0]).max() <= 1.0


def test_voice_key_depends_on_settings():
    assert EspeakVoice("en-us").key != EspeakVoice("en-gb").key
