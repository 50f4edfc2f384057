"""PaceModel: how long a text should take to say, learned from the book's own accepted chunks.

Pace is letters per second of speech (letters and digits of the speech text; spaces and punctuation are not
said). Until ``learned_after`` chunks have been accepted the prior pace and a wide prior band are used; then the
band is centred on the book's mean log ratio (speech seconds / prior-expected seconds) with a half-width of
``learned_spread`` or four standard deviations, whichever is wider. A voice that reads slowly moves the centre,
not the false-alarm rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from qa.settings import QASettings

__all__ = ["PaceModel", "letters"]


def letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


@dataclass
class PaceModel:
    settings: QASettings = field(default_factory=QASettings)
    _logs: list[float] = field(default_factory=list)  # log(actual / prior-expected) of accepted chunks

    def prior_seconds(self, text: str) -> float:
        return max(letters(text), 1) / self.settings.prior_letters_per_second

    @property
    def learned(self) -> bool:
        return len(self._logs) >= self.settings.learned_after

    def expect(self, text: str) -> tuple[float, float, float]:
        """(expected seconds, lowest ok, highest ok) of speech for ``text``."""
        base = self.prior_seconds(text)
        s = self.settings
        if not self.learned or base < s.min_expected_for_duration:
            return base, base * s.prior_min_ratio, base * s.prior_max_ratio
        n = len(self._logs)
        mean = sum(self._logs) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in self._logs) / max(1, n - 1))
        half = max(s.learned_spread, 4 * sd)
        return base * math.exp(mean), base * math.exp(mean - half), base * math.exp(mean + half)

    def accept(self, text: str, speech_seconds: float) -> None:
        """Teach the model one accepted chunk (titles shorter than ``min_expected_for_duration`` are skipped)."""
        base = self.prior_seconds(text)
        if speech_seconds > 0 and base >= self.settings.min_expected_for_duration:
            self._logs.append(math.log(speech_seconds / base))

    def to_dict(self) -> dict:
        return {"logs": list(self._logs)}

    @classmethod
    def from_dict(cls, d: dict, settings: QASettings | None = None) -> PaceModel:
        return cls(settings or QASettings(), list(d.get("logs", [])))
