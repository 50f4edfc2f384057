"""Errors of qa: one-line messages that name the offending value.

QAError
├── AudioInputError     a clip that cannot be read (missing, not audio, empty) or a bad array
├── SettingsError       a QASettings field out of range (e.g. from a TOMECAST_QA_* variable)
└── AsrUnavailableError the ASR model cannot be loaded (extra not installed, folder missing)
"""

from __future__ import annotations

__all__ = ["AsrUnavailableError", "AudioInputError", "QAError", "SettingsError"]


class QAError(Exception):
    """Base of qa errors (the CLI maps them to a one-line message and exit code 2)."""


class AudioInputError(QAError):
    """The audio given to a check cannot be used."""


class SettingsError(QAError):
    """A QA setting is out of range."""


class AsrUnavailableError(QAError):
    """The ASR model cannot be loaded."""
