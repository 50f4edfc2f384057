"""Every book in ../shared/corpus: lossless chunk spans, chunk limits, chapter titles as written and as spoken,
one-word chunk share and the back matter left out, all checked by hand once."""

import pytest

from text_prep import Pause, prepare

SHERLOCK = [
    "A Scandal in Bohemia", "The Redheaded League", "A Case of Identity", "The Boscombe Valley Mystery",
    "The Five Orange Pips", "The Man with the Twisted Lip", "The Adventure of the Blue Carbuncle",
    "The Adventure of the Speckled Band", "The Adventure of the Engineer\u2019s Thumb",
    "The Adventure of the Noble Bachelor", "The Adventure of the Beryl Coronet", "The Adventure of the Copper Beeches",
]
ROMAN = "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX XXI XXII XXIII XXIV XXV XXVI " \
        "XXVII XXVIII XXIX XXX XXXI XXXII".split()
NOWHERE = [f"CHAPTER {r}: {t}" for r, t in zip(ROMAN, [
    "DISCUSSION AND BED", "A MORNING BATH", "THE GUEST HOUSE AND BREAKFAST THEREIN", "A MARKET BY THE WAY",
    "CHILDREN ON THE ROAD", "A LITTLE SHOPPING", "TRAFALGAR SQUARE", "AN OLD FRIEND", "CONCERNING LOVE",
    "QUESTIONS AND ANSWERS", "CONCERNING GOVERNMENT", "CONCERNING THE ARRANGEMENT OF LIFE", "CONCERNING POLITICS",
    "HOW MATTERS ARE MANAGED", "ON THE LACK OF INCENTIVE TO LABOUR IN A COMMUNIST SOCIETY",
    "DINNER IN THE HALL OF THE BLOOMSBURY MARKET", "HOW THE CHANGE CAME", "THE BEGINNING OF THE NEW LIFE",
    "THE DRIVE BACK TO HAMMERSMITH", "THE HAMMERSMITH GUEST-HOUSE AGAIN", "GOING UP THE RIVER",
    "HAMPTON COURT AND A PRAISER OF PAST TIMES", "AN EARLY MORNING BY RUNNYMEDE", "UP THE THAMES: THE SECOND DAY",
    "THE THIRD DAY ON THE THAMES", "THE OBSTINATE REFUSERS", "THE UPPER WATERS", "THE LITTLE RIVER",
    "A RESTING-PLACE ON THE UPPER THAMES", "THE JOURNEY\u2019S END", "AN OLD HOUSE AMONGST NEW FOLK",
    "THE FEAST\u2019S BEGINNING\u2014THE END"], strict=True)]
COLONEL = [f"CHAPTER {r}. {t}" for r, t in zip(ROMAN, [
    "HER TWELFTH BIRTHDAY", "THE WONDER-BALL BEGINS TO UNWIND", "LLOYD MEETS HERO", "HERO'S STORY",
    "THE RED CROSS OF GENEVA", "THE WONDER-BALL'S BEST GIFT", "IN TOURS", "WITH BETTY AND EUGENIA",
    "AT THE GATE OF THE GIANT SCISSORS", "ON THE WING", "HOMEWARD BOUND", "HOME AGAIN",
    '"THE RESCUE OF THE PRINCESS WINSOME"', "IN CAMP", "THE SENTRY'S MISTAKE", '"TAPS"'], strict=False)]

EXPECTED = {
    "adventures-of-sherlock-holmes.epub": (
        ("The Adventures of Sherlock Holmes", "Arthur Conan Doyle", "en-GB"), SHERLOCK,
        ("Titlepage (titlepage)", "Imprint (imprint)", "Colophon (colophon)", "Uncopyright (copyright)")),
    "news-from-nowhere.html": (
        ("News from Nowhere", "William Morris", "en"), NOWHERE,
        ("CHAPTER XVI: DINNER IN THE HALL OF THE BLOOMSBURY MARKET: 1 note (notes)",
         "CHAPTER XXX: THE JOURNEY\u2019S END: 1 note (notes)",
         "CHAPTER XXXII: THE FEAST\u2019S BEGINNING\u2014THE END: 1 note (notes)",
         "news-from-nowhere.html (front matter)", "FOOTNOTES: (notes)")),
    "little-colonels-hero.txt": (
        ("The Little Colonel's Hero", "Annie Fellows Johnston", "en"), COLONEL,
        ('CHAPTER XVI. "TAPS": after the end (3082 words)', "little-colonels-hero.txt (front matter)")),
}

# Chapter titles as spoken (the title chunk of each chapter), and the most one-word chunks (share of non-title
# chunks) a listener should hear.
SPOKEN = {
    "adventures-of-sherlock-holmes.epub": ([t + "." for t in SHERLOCK], 0.02),
    "news-from-nowhere.html": (["Chapter one: Discussion and Bed.", "Chapter two: A Morning Bath."], 0.005),
    "little-colonels-hero.txt": (["Chapter one: Her Twelfth Birthday.",
                                  "Chapter two: The Wonder-Ball Begins to Unwind.",
                                  "Chapter three: Lloyd Meets Hero.", "Chapter four: Hero's Story."], 0.01),
}


def spoken_titles(book) -> list[str]:
    return [next(c.speech for c in ch.chunks if c.pause == Pause.TITLE and c.text == ch.title) for ch in book.chapters]


def one_word_share(book) -> float:
    body = [c for c in book.chunks if c.pause != Pause.TITLE]
    return sum(1 for c in body if len(c.speech.split()) == 1) / len(body)


@pytest.fixture(scope="module")
def books(corpus):
    return {p.name: prepare(p) for p in sorted(corpus.iterdir()) if p.is_file()}


def test_every_corpus_book_is_known(books):
    assert sorted(books) == sorted(EXPECTED)  # a new corpus book needs its titles checked by hand


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_chapters_and_skipped(books, name):
    meta, titles, skipped = EXPECTED[name]
    book = books[name]
    assert (book.title, book.author, book.language) == meta
    assert len(book.chapters) == len(titles)
    assert [c.title for c in book.chapters] == titles
    assert book.skipped == skipped


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lossless_spans_in_every_chapter(books, name):
    for ch in books[name].chapters:
        assert ch.lossless_violation() is None, (ch.title, ch.lossless_violation())
        body = "".join(c.text for c in ch.chunks if c.span[0] != c.span[1])
        assert "".join(body.split()) == "".join(ch.text.split())  # same characters, whitespace aside


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chunk_rules(books, name):
    book = books[name]
    for ch in book.chapters:
        assert ch.chunks[-1].pause == Pause.CHAPTER
        for c in ch.chunks:
            assert any(x.isalnum() for x in c.speech)
            if c.pause != Pause.TITLE:
                # over the limit only by a merged unspeakable fragment such as "* * *"
                assert len(c.text) <= 300 or not any(x.isalnum() for x in c.text[300:])
            assert "\n\n" not in c.text.strip() or not any(x.isalnum() for x in c.text.split("\n\n", 1)[1])


def test_gutenberg_boilerplate_is_gone(books):
    for name in ("news-from-nowhere.html", "little-colonels-hero.txt"):
        text = " ".join(c.text for c in books[name].chunks)
        assert "Project Gutenberg" not in text and "PROJECT GUTENBERG" not in text


@pytest.mark.parametrize("name", sorted(SPOKEN))
def test_spoken_titles_and_one_word_share(books, name):
    titles, share = SPOKEN[name]
    spoken = spoken_titles(books[name])
    assert spoken[:len(titles)] == titles
    assert all("Ii" not in t.split() and "hundred" not in t for t in spoken)
    assert one_word_share(books[name]) <= share


def test_back_matter_after_the_end_is_not_read(books):
    last = books["little-colonels-hero.txt"].chapters[-1]
    assert last.chunks[-1].text.strip() == "THE END." and last.chunks[-1].pause == Pause.CHAPTER
    text = " ".join(c.text for c in books["little-colonels-hero.txt"].chunks)
    assert "BLUE BONNET" not in text and "Selections from L.C. Page" not in text


def test_html_footnotes_are_not_read_inline(books):
    speech = " ".join(c.speech for c in books["news-from-nowhere.html"].chunks)
    assert "[1]" not in speech and "Cirencester and Burford he must" not in speech


def test_speech_samples(books):
    speeches = {c.speech for c in books["adventures-of-sherlock-holmes.epub"].chunks}
    assert "Mister Holmes" in " ".join(speeches) and "Mr." not in " ".join(speeches)
    first = books["little-colonels-hero.txt"].chapters[0].chunks
    assert first[1].speech == "Chapter one: Her Twelfth Birthday."
