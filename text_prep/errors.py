"""Errors of text_prep: every one is a user-input problem with a one-line message naming the file.

TextPrepError
├── InputFileError        missing file, directory, unreadable, empty, binary, unknown extension
└── BookFormatError       a file of a known kind that cannot be read: corrupt or encrypted EPUB, no text
"""

from __future__ import annotations

__all__ = ["BookFormatError", "InputFileError", "TextPrepError"]


class TextPrepError(Exception):
    """Base of text_prep errors (mapped by the CLI to a one-line message and exit code 2)."""


class InputFileError(TextPrepError):
    """The path does not name a readable manuscript file."""


class BookFormatError(TextPrepError):
    """The manuscript's format is known but its content cannot be used."""
