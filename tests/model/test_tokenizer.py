"""Text front end: punc_norm (expectations from the official one), [SPACE] encoding, special ids, languages."""

import json
from pathlib import Path

import pytest

from model.errors import CheckpointError, ModelError
from model.testing.t3_checkpoint import write_tokenizer
from model.tokenizer import EMPTY_TEXT, TextTokenizer, punc_norm


@pytest.mark.parametrize("raw,expected", [
    ("", EMPTY_TEXT),
    ("hello world", "Hello world."),
    ("  many   spaces\there ", "many spaces here."),  # first char is a space: no capital
    ("Wait... what…", "Wait,  what,"),
    ("Note: this - that; other", "Note, this, that,  other."),
    ("He said “yes” — ‘no’ – maybe", "He said \"yes\" - 'no' - maybe."),
    ("Question?", "Question?"),
    ("A list , with space", "A list, with space."),
    ("Ends with dash-", "Ends with dash-"),
])
def test_punc_norm(raw, expected):
    assert punc_norm(raw) == expected


def test_multilingual_endings():
    assert punc_norm("你好。", multilingual=True) == "你好。"
    assert punc_norm("你好。") == "你好。."


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return TextTokenizer(write_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json"))


def test_special_ids(tok):
    assert (tok.start_id, tok.stop_id) == (255, 0)
    assert tok.vocab_size == 704


def test_spaces_become_space_tokens(tok):
    ids = tok.encode("ab cd")
    assert ids.count(2) == 1  # [SPACE] = 2
    assert 255 not in ids and 0 not in ids  # SOT/EOT are added by the model
    assert tok.decode(ids) == "Ab cd."


def test_normalize_flag(tok):
    assert tok.encode("ab", normalize=False) != tok.encode("ab")


def test_english_rejects_other_languages(tok):
    with pytest.raises(ModelError, match="multilingual"):
        tok.encode("bonjour", language="fr")


def test_multilingual_prefix_and_lowercase(tmp_path):
    mtl = TextTokenizer(write_tokenizer(tmp_path / "mtl.json", vocab_size=2454))
    assert mtl.is_multilingual
    ids = mtl.encode("Bonjour", language="FR")
    vocab = mtl._tok.get_vocab()
    assert ids[0] == vocab["[fr]"]
    assert mtl._tok.id_to_token(ids[1]).startswith("b")  # lowercased
    assert mtl.encode("Bonjour", language="fr") == mtl.encode("bonjour", language="fr")
    with pytest.raises(ModelError, match="unsupported language"):
        mtl.encode("x", language="xx")
    with pytest.raises(ModelError, match="zh"):
        mtl.encode("x", language="zh")


def test_bad_tokenizer_file(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(CheckpointError) as e:
        TextTokenizer(bad)
    assert "\n" not in str(e.value)


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "t3" / "tokenizer_golden.json"


def test_ids_equal_the_official_tokenizers(tmp_path):
    """Same tokenizer files, same texts: official punc_norm + EnTokenizer/MTLTokenizer ids (zh/ja/he/ru aside)."""
    if not GOLDEN.is_file():
        pytest.skip(f"golden file absent: {GOLDEN}")
    golden = json.loads(GOLDEN.read_text())
    en = TextTokenizer(write_tokenizer(tmp_path / "tokenizer.json", 704))
    mtl = TextTokenizer(write_tokenizer(tmp_path / "grapheme_mtl_merged_expanded_v1.json", 2454))
    for case in golden["english"]:
        assert punc_norm(case["text"]) == case["norm"]
        assert en.encode(case["text"]) == case["ids"], case["text"]
    for case in golden["multilingual"]:
        assert punc_norm(case["text"], multilingual=True) == case["norm"]
        assert mtl.encode(case["text"], language=case["language"]) == case["ids"], case["text"]
