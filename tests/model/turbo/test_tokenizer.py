"""Turbo text front end: punc_norm and GPT-2 ids equal the official AutoTokenizer's on three tag layouts."""

import json

import pytest

from model.errors import CheckpointError, ModelError
from model.testing.turbo_checkpoint import write_turbo_tokenizer
from model.turbo.tags import TURBO_TAGS
from model.turbo.tokenizer import TurboTokenizer, punc_norm
from tests.model.turbo.turbo_fixtures import golden_file


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(golden_file("tokenizer_golden.json").read_text())


@pytest.mark.parametrize("layout", ["decoder", "special", "legacy"])
def test_ids_equal_the_official_tokenizer(golden, layout, tmp_path):
    g = golden["layouts"][layout]
    tok = TurboTokenizer(write_turbo_tokenizer(tmp_path, **g["kwargs"]))
    assert tok.vocab_size == g["len"] == 50276
    for s in g["samples"]:
        assert punc_norm(s["text"]) == s["norm"], s["text"]
        assert tok.encode(s["text"]) == s["ids"], s["text"]


def test_golden_records_the_official_version(golden):
    assert golden["version"] == "0.1.7"


def test_tags_are_read_from_the_files(tmp_path):
    tok = TurboTokenizer(write_turbo_tokenizer(tmp_path, base_vocab=2029))
    assert tok.tags == TURBO_TAGS
    ids = tok.encode("Hello [laugh] there [clear throat].", normalize=False)
    assert ids.count(2029) == 1 and 2029 + TURBO_TAGS.index("[clear throat]") in ids


def test_punc_norm_has_no_rules_for_ellipsis_dash_or_semicolon():
    assert punc_norm("wait... a - b; c") == "Wait... a - b; c."
    assert punc_norm("so: “yes” — ok…") == 'So, "yes" - ok,'
    assert punc_norm("") == "You need to add some text for me to talk."
    assert punc_norm("done!") == "Done!"


def test_over_long_text_is_refused(tmp_path):
    tok = TurboTokenizer(write_turbo_tokenizer(tmp_path, base_vocab=2029))
    with pytest.raises(ModelError, match="at most 1024"):
        tok.encode("word " * 1500)


def test_missing_or_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(CheckpointError, match="missing vocab.json"):
        TurboTokenizer(tmp_path)
    folder = write_turbo_tokenizer(tmp_path / "t", base_vocab=2029)
    (folder / "tokenizer_config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot read"):
        TurboTokenizer(folder)
