"""Speech text: numbers, years, currency, percentages, times, roman numerals, abbreviations, markers, symbols."""

import pytest

from text_prep.normalize import heading_speech, is_speakable, roman_to_int, speech_text


@pytest.mark.parametrize("text,speech", [
    ("He had 3 dogs and 21 cats.", "He had three dogs and twenty-one cats."),
    ("It was 1,234 miles.", "It was one thousand two hundred and thirty-four miles."),
    ("Pi is 3.14 or so.", "Pi is three point one four or so."),
    ("On the 21st and the 2nd of May.", "On the twenty-first and the second of May."),
    ("In 1891 and in 2005 and in the 1890s.", "In eighteen ninety-one and in two thousand and five and in the "
                                               "eighteen nineties."),
    ("It cost $1.50 and £3 and €12.05.", "It cost one dollar and fifty cents and three pounds and twelve euros and "
                                        "five cents."),
    ("A $5 million prize.", "A five million dollars prize."),
    ("About 45% or 12.5 percent.", "About forty-five percent or twelve point five percent."),
    ("At 10:30 p.m. or 9:05 or 7:00.", "At ten thirty P M or nine oh five or seven o'clock."),
    ("Add ½ cup.", "Add one half cup."),
    ("He lived at 221B, Baker Street.", "He lived at two hundred and twenty-one B, Baker Street."),
])
def test_numbers(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("Mr. Holmes and Mrs. Hudson.", "Mister Holmes and Missus Hudson."),
    ("Dr. Watson lives on Harley Dr. now.", "Doctor Watson lives on Harley Drive now."),
    ("Lord St. Simon lives on Baker St.", "Lord Saint Simon lives on Baker Street."),
    ("Tools, i.e. hammers, e.g. big ones, etc.", "Tools, that is hammers, for example big ones, et cetera."),
    ("Mr Smith met Capt. Nemo.", "Mister Smith met Captain Nemo."),
    ("Smith v. Jones, No. 5.", "Smith versus Jones, number five."),
    ("He said no. Then left.", "He said no. Then left."),
])
def test_abbreviations(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("The woman[1] smiled.", "The woman smiled."),
    ("The woman\u00b2 smiled*.", "The woman smiled."),
    ("[Illustration: A DOG] The dog barked.", "The dog barked."),
    ("See https://www.gutenberg.org/ebooks/1661.", "See gutenberg dot org."),
    ("Write to ann.lee@example.com today.", "Write to ann dot lee at example dot com today."),
    ("Salt & pepper, 2 + 2 = 4, and/or #5.", "Salt and pepper, two plus two equals four, and or number five."),
    ("It was 30\u00b0C.", "It was thirty degrees Celsius."),
    ("A 2 x 4 board, 3\u00d75 cards.", "A two by four board, three by five cards."),
    ("Party time \U0001f389\U0001f600 now!", "Party time now!"),
    ("He was _very_ tired--so tired.", "He was very tired\u2014so tired."),
    ("Soft\u00adhy\u200bphen and word\u2060\u2014joiner.", "Softhyphen and word\u2014joiner."),
    ("Henry VIII read Chapter IV.", "Henry the Eighth read Chapter four."),
    ("Charles VIII. was killed.", "Charles the Eighth was killed."),
    ("Each $.90 at most.", "Each ninety cents at most."),
    ("The GENERAL STRIKE began, said the BBC.", "The General Strike began, said the BBC."),
])
def test_markers_urls_symbols(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text", ["* * *", '"', "...", "\u2014", "[Illustration]", "  ", "\U0001f600"])
def test_nothing_to_say(text):
    assert speech_text(text) == ""
    assert not is_speakable(speech_text(text))


@pytest.mark.parametrize("title,speech", [
    ("CHAPTER I. HER TWELFTH BIRTHDAY", "Chapter one. Her Twelfth Birthday."),
    ("CHAPTER XVI. \"TAPS\"", "Chapter sixteen. \"Taps\"."),
    ("IV.", "Four."),
    ("XII", "Twelve."),
    ("Chapter 12", "Chapter twelve."),
    ("PART TWO", "Part Two."),
    ("A Scandal in Bohemia", "A Scandal in Bohemia."),
    ("Book III: The Return", "Book three: The Return."),
    ("CHAPTER XV: ON THE LACK OF A PLAN", "Chapter fifteen: On the Lack of a Plan."),
])
def test_heading_speech(title, speech):
    assert heading_speech(title) == speech


def test_roman_numerals():
    assert [roman_to_int(s) for s in ("I", "IV", "IX", "XIV", "XL", "MCMXC")] == [1, 4, 9, 14, 40, 1990]
    assert roman_to_int("IIII") is None and roman_to_int("ABC") is None


def test_other_language_numbers():
    assert speech_text("Il avait 3 chiens.", "fr") == "Il avait trois chiens."
    assert speech_text("Mr. X", "fr") == "Mr. X"  # English abbreviations only for English


@pytest.mark.parametrize("text,speech", [
    ("It came to £88 10s., in all.", "It came to eighty-eight pounds ten shillings, in all."),
    ("Lunch 2s. 6d. and sherry 8d.", "Lunch two shillings and sixpence and sherry eightpence."),
    ("A loaf at 8½d. and a bun at 1½d.", "A loaf at eightpence halfpenny and a bun at three halfpence."),
    ("He paid £3 3s. 6d. for it.", "He paid three pounds three shillings and sixpence for it."),
    ("Rent was 5l. a year, and ¼d. a day.", "Rent was five pounds a year, and a farthing a day."),
    ("A 5/- note.", "A five shillings note."),
    ("He paid 12s.", "He paid twelve shillings."),
    ("In the 60s. we went.", "In the sixties. we went."),
    ("About five ft. seven in. in height.", "About five feet seven inches in height."),
    ("Take 6 lbs. of rice and 1 lb. of tea.", "Take six pounds of rice and one pound of tea."),
    ("A 2 ft. 6 in. bed, 3 oz. of snuff.", "A two feet six inches bed, three ounces of snuff."),
    ("1 lb. tea, 2 lb. coffee do., 3 lb. sugar do.",
     "one pound tea, two pounds coffee ditto, three pounds sugar ditto."),
    ("He had 3 dogs and I do.", "He had three dogs and I do."),
    ("No one in. The door shut.", "No one in. The door shut."),
    ("I do. Do you?", "I do. Do you?"),
    ("It was $0.75 or $1.", "It was seventy-five cents or one dollar."),
    ("The price is 2/6 net, or 7/6 each.", "The price is two and six net, or seven and six each."),
    ("Add 1/2 a cup, about 3/4 of it.", "Add one half a cup, about three quarters of it."),
])
def test_pre_decimal_money_units_and_ditto(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("Four sons, viz. Thomas and John.", "Four sons, namely Thomas and John."),
    ("To Sherlock Holmes, Esq.", "To Sherlock Holmes, Esquire."),
    ("Written Aug. 3rd and Oct. 4th.", "Written August third and October fourth."),
    ("See vol. XIV, pp. 3\u20135, and Vol. 2.", "See volume fourteen, pages three to five, and Volume two."),
    ("He was 20 yrs. 4 mos. old. Yrs. truly, J.", "He was twenty years four months old. Yours truly, J."),
    ("Your letter of the 3rd inst. and the 2nd ult.", "Your letter of the third instant and the second ultimo."),
    ("A 4to volume and two 8vo ones.", "A quarto volume and two octavo ones."),
    ("Mr. Neville St. Clair of Lee.", "Mister Neville Saint Clair of Lee."),
    ("It was Mr. Neville St.\u2014", "It was Mister Neville St.\u2014"),
    ("He lived in Baker St., near the park.", "He lived in Baker Street, near the park."),
    ("An Eley\u2019s No. 2 is good, above No. VI.", "An Eley\u2019s number two is good, above number six."),
    ("No. I will not.", "No. I will not."),
    ("We tried No. 27. No. 27 was full.", "We tried number twenty-seven. Number twenty-seven was full."),
    ("Lieut. Smith and Insp. Bradstreet met Mme. Roche.", "Lieutenant Smith and Inspector Bradstreet met Madame "
                                                          "Roche."),
])
def test_abbreviations_in_context(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("It was 1/352 of an inch.", "It was one three-hundred-fifty-second of an inch."),
    ("Add 3/4 of a cup.", "Add three quarters of a cup."),
    ("As 18/94 distinct species.", "As eighteen out of ninety-four distinct species."),
    ("In February, 1726/7, I left.", "In February, seventeen twenty-six to seventeen twenty-seven, I left."),
    ("In the \u201960s and the '90s.", "In the sixties and the nineties."),
    ("We met in \u201984.", "We met in eighty-four."),
    ("(1749\u20131753) and 1844\u201346.", "(seventeen forty-nine to seventeen fifty-three) and eighteen forty-four to "
                                       "eighteen forty-six."),
    ("On January 6, 1702, and 6 January.", "On January sixth, seventeen oh-two, and the sixth of January."),
    ("Radius \u00d7 \u221a2.", "Radius times the square root of two."),
    ("A \u00bd mile.", "A one half mile."),
    ("Pages 10\u201312.", "Pages ten to twelve."),
])
def test_numbers_in_context(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("Your loving JOYCE.", "Your loving Joyce."),
    ("I did NOT say it.", "I did Not say it."),
    ("The BBC, the USSR and HTML.", "The BBC, the USSR and HTML."),
    ("King George III. and CHAPTER II", "King George the Third and Chapter two"),
    ("To \u2e3b, Esq.", "To blank, Esquire."),
    ("Your friend \u2e3b's house in \u2014\u2014 Lane.", "Your friend blank's house in blank Lane."),
    ("\u201cI\u2014\u2014 I mean,\u201d he said.", "\u201cI\u2014\u2014 I mean,\u201d he said."),
    ("the after-\nlecture talk", "the after-lecture talk"),
    ("they pro-\nceeded slowly", "they proceeded slowly"),
    ("a well-\nknown man", "a well-known man"),
])
def test_capitals_blanks_and_line_end_hyphens(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("Bread, cheese, &c., and wine; sugar, &c. The end.", "Bread, cheese, et cetera, and wine; sugar, et cetera. "
                                                          "The end."),
    ("Pfeiffer & Co., Boston; Jones Ltd. and the Co. of Smiths.", "Pfeiffer and Company, Boston; Jones Limited and "
                                                                  "the Co. of Smiths."),
    ("In A.D. 1066 and 55 B.C.", "In A.D. ten sixty-six and fifty-five B.C."),
    ("Lat. 31\u00b0 15\u2032 N., the thermometer at \u22122\u00b0.", "Lat. thirty-one degrees fifteen minutes N., "
                                                                 "the thermometer at minus two degrees."),
    ("House, $28.12\u00bd; farm, 14.72\u00bd.", "House, twenty-eight dollars and twelve and a half cents; farm, "
                                               "fourteen point seven two and one half."),
    ("King Necho II and Louis XIV.", "King Necho the Second and Louis the Fourteenth."),
])
def test_old_book_conventions(text, speech):
    assert speech_text(text) == speech


def test_am_is_a_verb_unless_it_follows_a_number():
    from text_prep.normalize import speech_text

    assert speech_text("Here I am.") == "Here I am."
    assert speech_text("So am I.") == "So am I."
    assert speech_text("We met at 5 am.") == "We met at five A M."
