"""Speech text: what the narrator says for a piece of display text.

Chatterbox applies its own punctuation normalisation (``punc_norm``: ellipses and colons to commas, dashes,
curly quotes, a final period) when it synthesises, so this package does not repeat it; it produces text that
is ready to be read aloud. One module per concept, applied by ``speech.speech_text`` in this order:

    cleanup        invisible characters, emoji, [Illustration] tags, footnote markers, section breaks,
                   URLs and e-mails, line-end hyphens ("after-\\nlecture"), blanks ("To ⸻" -> "To blank")
    roman          "CHAPTER IV" -> "Chapter four", "vol. XIV" -> "volume fourteen", "Henry VIII"
    abbreviations  Mr., Dr., St. (Saint/Street from context), No., viz., Esq., "Aug. 3rd", inst., 4to...
    measures       "6 lbs." -> "6 pounds", "five ft. seven in.", "do." (ditto)
    money          "$0.75", "£88 10s.", "2s. 6d." -> "two shillings and sixpence", "8½d."
    numbers        fractions, ratios, old-style years, ranges, decades, dates, ordinals, years, integers
    symbols        &, °, ×, √, #, +, =
    casing         capitals title-cased, acronyms kept
    headings       ``heading_speech`` for chapter headings
    dictionary     the offline English word list used by cleanup, casing and ``text_prep.words``

Text with nothing to say becomes ''. English rules apply to English only; numbers follow the language.
"""

from text_prep.normalize.headings import heading_speech
from text_prep.normalize.roman import roman_to_int
from text_prep.normalize.speech import is_speakable, speech_text

__all__ = ["heading_speech", "is_speakable", "roman_to_int", "speech_text"]
