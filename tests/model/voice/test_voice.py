"""Voice files: round trip, official conds.pt layout both ways, content key, one-line errors."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from model.errors import VoiceError
from model.testing.voice_checkpoint import builtin_voice
from model.voice.voice import GEN_KEYS, T3_KEYS, Voice
from tests.model.voice.voice_fixtures import GOLDEN


def test_round_trip_and_key(tmp_path):
    v = builtin_voice("tiny", 3)
    v.save(tmp_path / "a.voice")
    w = Voice.load(tmp_path / "a.voice")
    assert w.key == v.key
    assert torch.equal(w.cond_prompt_speech_tokens, v.cond_prompt_speech_tokens)
    assert torch.equal(w.gen.prompt_feat, v.gen.prompt_feat)
    assert w.exaggeration == pytest.approx(0.5)
    assert w.with_exaggeration(0.7).key != v.key
    assert builtin_voice("tiny", 4).key != v.key


def test_saved_file_has_the_official_layout(tmp_path):
    builtin_voice("full", 0).save(tmp_path / "conds.pt")
    d = torch.load(tmp_path / "conds.pt", weights_only=True)
    assert set(d) == {"t3", "gen"}
    assert tuple(d["t3"]) == T3_KEYS and set(d["gen"]) == set(GEN_KEYS)
    assert d["t3"]["clap_emb"] is None and d["t3"]["cond_prompt_speech_emb"] is None
    assert d["t3"]["speaker_emb"].shape == (1, 256) and d["t3"]["emotion_adv"].shape == (1, 1, 1)
    assert d["gen"]["prompt_feat"].shape == (1, 500, 80) and d["gen"]["prompt_token"].shape == (1, 250)


def test_official_conds_file_loads():
    path = GOLDEN / "conds_official.pt"
    v = Voice.load(path)
    g = load_file(str(GOLDEN / "golden.safetensors"))
    assert torch.equal(v.cond_prompt_speech_tokens, g["LJ001-0001.e2e.t3_prompt_tokens"])
    assert torch.equal(v.gen.prompt_feat, g["LJ001-0001.e2e.gen_prompt_feat"])
    assert torch.equal(v.speaker_emb, g["LJ001-0001.e2e.ve_embedding"])
    assert v.gen.prompt_feat_len is None and v.exaggeration == pytest.approx(0.5)


def test_bad_files_are_one_line_errors(tmp_path):
    cases = {"missing.voice": None, "garbage.voice": b"not a torch file at all",
             "tensor.voice": "tensor", "nogen.voice": {"t3": {"speaker_emb": torch.zeros(1, 256)}}}
    for name, content in cases.items():
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        elif content == "tensor":
            torch.save(torch.zeros(3), p)
        elif content is not None:
            torch.save(content, p)
        with pytest.raises(VoiceError) as err:
            Voice.load(p)
        assert "\n" not in str(err.value) and name in str(err.value)
    bad = builtin_voice("tiny", 0).to_conds()
    bad["t3"]["cond_prompt_speech_tokens"] = torch.full((1, 10), 9000)
    torch.save(bad, tmp_path / "range.voice")
    with pytest.raises(VoiceError, match="outside 0..6560"):
        Voice.load(tmp_path / "range.voice")


def test_odd_prompt_in_a_file_is_evened(tmp_path):
    d = builtin_voice("tiny", 0).to_conds()
    d["gen"]["prompt_feat"] = torch.cat([d["gen"]["prompt_feat"], d["gen"]["prompt_feat"][:, :1]], dim=1)  # 101
    d["gen"]["prompt_token"] = d["gen"]["prompt_token"][:, :49]
    torch.save(d, tmp_path / "odd.voice")
    v = Voice.load(tmp_path / "odd.voice")
    assert v.gen.n_prompt_tokens == 49 and v.gen.n_prompt_frames == 98 and int(v.gen.prompt_token_len[0]) == 49
