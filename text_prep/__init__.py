"""text_prep: a manuscript file becomes a lossless, ordered plan of synthesis chunks.

Never imports torch (checked by tests/test_layers.py).

    from text_prep import prepare, PrepareOptions
    book = prepare("book.epub", PrepareOptions(max_chars=300))
    for chapter in book.chapters:
        for chunk in chapter.chunks:
            chunk.text, chunk.speech, chunk.span, chunk.pause, chunk.key

Readers (``readers/``) turn .txt/.md/.html/.xhtml/.epub into sections; ``chapters`` finds headings in plain
text; ``sentences`` splits with Punkt (offline); ``normalize`` makes speech text; ``chunking`` packs sentences;
``prepare`` ties them together. Errors: ``errors.TextPrepError`` and subclasses, one-line messages.
"""

from text_prep.errors import BookFormatError, InputFileError, TextPrepError
from text_prep.prepare import prepare
from text_prep.types import Book, Chapter, Chunk, Cover, Pause, PrepareOptions

__all__ = [
    "Book",
    "BookFormatError",
    "Chapter",
    "Chunk",
    "Cover",
    "InputFileError",
    "Pause",
    "PrepareOptions",
    "TextPrepError",
    "prepare",
]
