"""Paralinguistic tags: the known list, finding them, keeping or stripping them with tidy spacing."""

from model.turbo.tags import SOUND_TAGS, STYLE_TAGS, TURBO_TAGS, apply_tags, find_tags, strip_tags


def test_nineteen_tags_fill_the_released_vocabulary():
    assert len(TURBO_TAGS) == 19 == 50276 - 50257
    assert len(set(TURBO_TAGS)) == 19
    assert "[laugh]" in SOUND_TAGS and "[clear throat]" in SOUND_TAGS and "[whispering]" in STYLE_TAGS


def test_keep_returns_the_text_untouched():
    text = "Well [sigh] fine.  [laugh]"
    assert apply_tags(text, keep=True) is text


def test_strip_leaves_one_space_between_words_and_none_before_punctuation():
    assert strip_tags("Well [sigh] fine.") == "Well fine."
    assert strip_tags("Oh [laugh].") == "Oh."
    assert strip_tags("[chuckle] Right, then.") == "Right, then."
    assert strip_tags("Stop.[shush]") == "Stop."
    assert strip_tags("a [clear throat] b [cough], c") == "a b, c"
    assert strip_tags("word[laugh]word") == "word word"
    assert apply_tags("Hi [gasp] there", keep=False) == "Hi there"


def test_only_known_tags_exact_case_are_touched():
    text = "See [Chapter 1] and [LAUGH] and [laughs]."
    assert strip_tags(text) == text
    assert find_tags(text) == []


def test_find_tags_in_order():
    assert find_tags("[sigh] one [laugh] two [sigh]") == ["[sigh]", "[laugh]", "[sigh]"]


def test_a_custom_tag_set():
    assert strip_tags("a [beep] b [laugh]", tags=("[beep]",)) == "a b [laugh]"
