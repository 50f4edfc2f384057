"""text_prep: a manuscript file becomes a lossless, ordered plan of synthesis chunks.

Never imports torch (checked by tests/test_layers.py).

    from text_prep import prepare, PrepareOptions
    book = prepare("book.epub", PrepareOptions(max_chars=300))
    for chapter in book.chapters:
        for chunk in chapter.chunks:
            chunk.text, chunk.speech, chunk.span, chunk.pause, chunk.key

Readers (``readers/``) turn .txt/.md/.html/.xhtml/.epub into sections (plays, dictionaries, tables and notes
read as a narrator would); ``chapters`` finds headings in plain text; ``backmatter`` ends the text at THE END;
``notes`` applies the footnote policy; ``layout`` gives each paragraph kind its pieces (headings via
``headings``, verse lines, scene breaks, pause marks, editorial brackets); ``sentences`` splits with Punkt
(offline); ``normalize`` makes speech text; ``chunking`` packs prose sentences; ``prepare`` ties them together.
``lexicon`` applies the user's pronunciation lexicon (``PrepareOptions.lexicon``) to speech text; ``words``
lists a book's names, non-dictionary and rare words to fill one (``book_words``).
Errors: ``errors.TextPrepError`` and subclasses, one-line messages.
"""

from text_prep.errors import BookFormatError, InputFileError, TextPrepError
from text_prep.lexicon import Lexicon, LexiconError
from text_prep.prepare import prepare
from text_prep.types import (
    Book,
    Chapter,
    Chunk,
    Cover,
    DirectionsPolicy,
    HeadingNumbers,
    NotesPolicy,
    Pause,
    PrepareOptions,
    SpeakersPolicy,
    TablesPolicy,
)
from text_prep.words import book_words

__all__ = [
    "Book",
    "BookFormatError",
    "Chapter",
    "Chunk",
    "Cover",
    "DirectionsPolicy",
    "HeadingNumbers",
    "InputFileError",
    "Lexicon",
    "LexiconError",
    "NotesPolicy",
    "Pause",
    "PrepareOptions",
    "SpeakersPolicy",
    "TablesPolicy",
    "TextPrepError",
    "book_words",
    "prepare",
]
