"""Random voice checkpoints: full shapes equal the official key listing, tiny ones load, files round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.testing.voice_checkpoint import s3gen_voice_shapes, s3gen_voice_tensors, write_voice_files
from model.voice.voice import Voice
from model.voice.voice_encoder import VoiceEncoder
from model.weights import read_state_dict

KEYS_FILE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "chatterbox-state-dict-keys.txt"


def test_full_shapes_match_the_official_listing():
    if not KEYS_FILE.is_file():
        pytest.skip(f"reference key listing not found: {KEYS_FILE}")
    section = KEYS_FILE.read_text().split("##### S3Gen (s3gen")[1].split("#####")[0]
    official = {}
    for line in section.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].startswith(("tokenizer.", "speaker_encoder.")):
            official[parts[0]] = tuple(int(d) for d in parts[1].strip("()").split(",") if d.strip())
    computed = {"tokenizer._mel_filters", "tokenizer.window"}
    assert s3gen_voice_shapes("full") == {k: v for k, v in official.items() if k not in computed}


def test_tiny_tensors_and_files(tmp_path):
    tensors = s3gen_voice_tensors("tiny", 0)
    assert set(tensors) == set(s3gen_voice_shapes("tiny"))
    assert all(str(t.dtype) == "torch.int64" for k, t in tensors.items() if k.endswith("num_batches_tracked"))
    write_voice_files(tmp_path, "tiny", 5)
    ve = VoiceEncoder.from_state_dict(read_state_dict(tmp_path / "ve.safetensors"))
    assert ve.cfg.hidden == 64
    v = Voice.load(tmp_path / "conds.pt")
    assert v.cond_prompt_speech_tokens.shape == (1, 150) and v.gen.prompt_feat.shape == (1, 100, 80)
    with pytest.raises(ValueError, match="preset"):
        s3gen_voice_shapes("huge")
