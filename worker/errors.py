"""Errors of worker: settings and engine problems, each a one-line message naming the offending value.

WorkerError               base; the CLI prints it as one line and exits 2
└── SettingsError         an environment variable or flag with a value that cannot be used
"""

from __future__ import annotations

__all__ = ["SettingsError", "WorkerError"]


class WorkerError(Exception):
    """Base of worker errors."""


class SettingsError(WorkerError):
    """A setting (environment variable or flag) has an unusable value."""
