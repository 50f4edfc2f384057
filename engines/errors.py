"""Errors of engines.

EngineError
└── EspeakUnavailableError   the espeak-ng program is not installed or fails
"""

from __future__ import annotations

__all__ = ["EngineError", "EspeakUnavailableError"]


class EngineError(Exception):
    """Base of engines errors."""


class EspeakUnavailableError(EngineError):
    """espeak-ng cannot be run."""
