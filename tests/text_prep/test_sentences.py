"""Punkt sentence splitting, offline: titles, initials, i.e., quotations, ellipses; reproducible parameters."""

import subprocess
import sys
from pathlib import Path

import pytest

from text_prep import sentences
from text_prep.sentences import load_parameters, params_from_json, params_to_json, sentence_spans

REPO = Path(__file__).resolve().parents[2]


def split(text):
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize("text,expected", [
    ("Mr. Holmes went out. He came back.", ["Mr. Holmes went out.", "He came back."]),
    ("We met Lord St. Simon at noon. He was late.", ["We met Lord St. Simon at noon.", "He was late."]),
    ("Mrs. Hudson and Dr. Watson waited. Nobody came.", ["Mrs. Hudson and Dr. Watson waited.", "Nobody came."]),
    ("The book by J. R. R. Tolkien is long. I read it.", ["The book by J. R. R. Tolkien is long.", "I read it."]),
    ("Bring tools, i.e. hammers and saws. Then start.", ["Bring tools, i.e. hammers and saws.", "Then start."]),
    ("Bring fruit, e.g. apples. Then go.", ["Bring fruit, e.g. apples.", "Then go."]),
    ('"Are you there?" she asked. "Yes."', ['"Are you there?" she asked.', '"Yes."']),
    ("\u201cWho is it?\u201d He opened the door.", ["\u201cWho is it?\u201d", "He opened the door."]),
    ('"Stop!" cried the man. We stopped.', ['"Stop!" cried the man.', "We stopped."]),
    ("He waited... Then he left.", ["He waited...", "Then he left."]),
    ("I wonder... perhaps not. Yes.", ["I wonder... perhaps not.", "Yes."]),
    ("It was 3 p.m. on Monday. She came.", ["It was 3 p.m. on Monday.", "She came."]),
])
def test_hard_cases(text, expected):
    assert split(text) == expected


def test_spans_are_absolute_and_cover_the_text():
    text = "xx Mr. A came. B left!  C stayed? yy"
    spans = sentence_spans(text, 3, len(text) - 3)
    assert spans[0][0] == 3 and spans[-1][1] == len(text) - 3
    for (_, b), (c, _) in zip(spans, spans[1:], strict=False):
        assert b <= c and not text[b:c].strip()


def test_shipped_parameters_work_without_punkt_tab(monkeypatch):
    load_parameters.cache_clear()
    sentences._tokenizer.cache_clear()
    monkeypatch.setattr(sentences, "_installed_punkt_tab", lambda: None)
    try:
        params = load_parameters()
        assert {"mr", "mrs", "dr", "st", "i.e", "e.g"} <= params.abbrev_types
        assert len(params.ortho_context) > 1000
        assert split("Mr. Holmes met St. Simon. Fine.") == ["Mr. Holmes met St. Simon.", "Fine."]
    finally:
        load_parameters.cache_clear()
        sentences._tokenizer.cache_clear()


def test_parameter_json_round_trip():
    p = params_from_json((REPO / "text_prep" / "resources" / "punkt_en.json").read_text(encoding="utf-8"))
    assert params_to_json(p) == (REPO / "text_prep" / "resources" / "punkt_en.json").read_text(encoding="utf-8")


def test_shipped_parameters_are_small():
    assert (REPO / "text_prep" / "resources" / "punkt_en.json").stat().st_size < 200_000


def test_training_script_reproduces_the_shipped_file_byte_for_byte(corpus):
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "train_punkt.py"), "--corpus", str(corpus), "--check"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_installed_punkt_tab_is_preferred(tmp_path, monkeypatch):
    import nltk.data

    lang = tmp_path / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    lang.mkdir(parents=True)
    (lang / "abbrev_types.txt").write_text("zork\nco\n")
    (lang / "collocations.tab").write_text("")
    (lang / "sent_starters.txt").write_text("however\n")
    (lang / "ortho_context.tab").write_text("the\t2\n")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nltk_data")] + list(nltk.data.path))
    load_parameters.cache_clear()
    sentences._tokenizer.cache_clear()
    try:
        params = load_parameters()
        assert "zork" in params.abbrev_types and "mr" in params.abbrev_types  # installed data + our list
        assert len(params.ortho_context) == 1
        assert split("We met zork. Smith came. Fine.") == ["We met zork. Smith came.", "Fine."]
    finally:
        load_parameters.cache_clear()
        sentences._tokenizer.cache_clear()


def test_shortcut_agrees_with_plain_punkt(corpus):
    import random

    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from text_prep.chapters import paragraph_spans
    from text_prep.readers import read_document

    fast = sentences._tokenizer()
    plain = PunktSentenceTokenizer(load_parameters())
    assert type(fast) is not PunktSentenceTokenizer
    texts = [s.text for s in read_document(corpus / "news-from-nowhere.html").sections]
    rng = random.Random(0)
    soup = ["word", "Word", "Mr", "St", "i.e", "J", "12", '"', "'", "\u201c", "\u201d", "\u2019", "(", ")", "--",
            "...", ".", "?", "!", " ", " ", " ", "\n"]
    texts += ["".join(rng.choice(soup) for _ in range(300)) for _ in range(300)]
    paragraphs = [t[a:b] for t in texts for a, b in paragraph_spans(t)]
    assert len(paragraphs) > 1000
    for p in paragraphs:
        assert list(fast.span_tokenize(p)) == list(plain.span_tokenize(p)), p


@pytest.mark.parametrize("text,expected", [
    ("An Eley\u2019s No. 2 is an excellent argument. That is all.",
     ["An Eley\u2019s No. 2 is an excellent argument.", "That is all."]),
    ("It was Mr. Neville St. Clair. He lived in Lee.", ["It was Mr. Neville St. Clair.", "He lived in Lee."]),
    ("See vol. XIV of the work. Also pp. 3 and 4. Then Fig. 2 shows it.",
     ["See vol. XIV of the work.", "Also pp. 3 and 4.", "Then Fig. 2 shows it."]),
    ("The cost was \u00a388 10s. 6d. in all. He paid 2s. 6d. for lunch.",
     ["The cost was \u00a388 10s. 6d. in all.", "He paid 2s. 6d. for lunch."]),
    ("It was No. 5 Baker Street. He said no. Then he left.",
     ["It was No. 5 Baker Street.", "He said no.", "Then he left."]),
    ("The 3rd inst. was a Monday. Nothing happened.", ["The 3rd inst. was a Monday.", "Nothing happened."]),
    ("He weighed 6 lbs. 4 oz. at birth. He grew.", ["He weighed 6 lbs. 4 oz. at birth.", "He grew."]),
    ("He said no. I was wrong.", ["He said no.", "I was wrong."]),
    ("Ha! there has been a murder. Go.", ["Ha! there has been a murder.", "Go."]),
    ("\u201cWhat! where?\u201d shouted he. Stop! Then go.",
     ["\u201cWhat! where?\u201d shouted he.", "Stop!", "Then go."]),
])
def test_abbreviations_before_numbers_and_names_do_not_end_sentences(text, expected):
    assert split(text) == expected
