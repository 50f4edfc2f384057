"""QASettings: every threshold of the chunk checks, the ASR check and the repair policy, defined once.

Each field becomes a CLI flag (``--qa-<field with dashes>``) and a ``TOMECAST_QA_<FIELD>`` variable; ``from_env``
reads the variables, ``validate`` checks ranges before any work starts.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields, replace

from qa.errors import SettingsError

__all__ = ["QASettings"]

ENV_PREFIX = "TOMECAST_QA_"


@dataclass(frozen=True)
class QASettings:
    """Thresholds. Levels are dBFS of 20 ms frames; times are seconds."""

    # what counts as sound: a frame louder than both this floor and (loudest frame - active_range_db)
    silence_floor_db: float = -50.0
    active_range_db: float = 40.0
    # silence
    max_lead_silence: float = 1.0
    max_trail_silence: float = 1.2
    max_inner_silence: float = 1.6
    # level and signal faults
    min_rms_db: float = -40.0          # RMS over the sounding frames
    clip_level: float = 0.995          # |sample| at or above this is at the ceiling
    max_clipped_fraction: float = 0.0005  # of samples in runs of >= 3 at the ceiling
    max_dc_offset: float = 0.02
    noise_flatness: float = 0.4        # a sounding frame with spectral flatness above this (and high ZCR) is noise
    noise_zcr: float = 0.25
    max_noise_run: float = 0.35        # longest run of noise-like frames allowed (fricatives are shorter)
    max_tail: float = 0.3              # sound allowed after the last spoken word (ASR) or after the last voiced frame
    tail_margin: float = 0.35          # word end timestamps run early by up to this
    # duration against the text: letters per second
    prior_letters_per_second: float = 13.0
    prior_min_ratio: float = 0.45      # speech duration / expected, before the book has taught its pace
    prior_max_ratio: float = 2.2
    learned_after: int = 8             # accepted chunks before the book's own pace is used
    learned_spread: float = 0.35       # allowed |log ratio| around the book's mean (at least), or 4 sigma
    min_expected_for_duration: float = 1.0  # shorter expectations (titles) only check the prior band
    # ASR
    asr: bool = True
    asr_model: str = "base.en"         # hub id or local folder
    asr_device: str = "cpu"
    asr_compute_type: str = "int8"
    asr_threads: int = 0               # 0: CTranslate2 picks
    asr_pack_seconds: float = 28.0     # chunks packed into one Whisper window up to this long (0: one by one)
    asr_error_rate: float = 0.1        # word errors allowed: ceil(words x rate), at least asr_min_errors
    asr_min_errors: int = 1
    asr_wrong_weight: float = 0.5      # a wrong (dissimilar) word counts this much; a missing or extra word 1
    asr_similarity: float = 0.5        # a substituted word this similar (sound or spelling) is a mishearing
    asr_max_trailing_missing: int = 2  # this many text words unheard at the end: truncated
    asr_max_missing_run: int = 2       # more consecutive text words unheard than this: a skipped phrase
    # repair
    repair: bool = True                # False: check and record only (the random-weights demo)
    max_takes: int = 3                 # re-takes with new seeds before splitting (0: none)
    split: bool = True

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise SettingsError(f"qa setting {f.name} must be finite, got {v}")
        checks = {
            "max_takes": self.max_takes >= 0, "learned_after": self.learned_after >= 1,
            "clip_level": 0 < self.clip_level <= 1, "max_clipped_fraction": 0 <= self.max_clipped_fraction <= 1,
            "prior_letters_per_second": self.prior_letters_per_second > 0,
            "prior_min_ratio": 0 < self.prior_min_ratio < self.prior_max_ratio,
            "asr_error_rate": 0 <= self.asr_error_rate <= 1, "asr_similarity": 0 < self.asr_similarity <= 1,
            "asr_wrong_weight": 0 <= self.asr_wrong_weight <= 1,
            "asr_pack_seconds": 0 <= self.asr_pack_seconds <= 30, "asr_min_errors": self.asr_min_errors >= 0,
            "active_range_db": self.active_range_db > 0, "asr_threads": self.asr_threads >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise SettingsError(f"qa setting {name} out of range: {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> QASettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SettingsError(f"unknown qa setting {unknown[0]!r}")
        return cls(**d)

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> QASettings:
        """Defaults, then TOMECAST_QA_* variables, then ``overrides`` (CLI flags); validated."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.name, type(getattr(cls(), f.name)), raw)
        s = replace(cls(**values), **overrides)
        s.validate()
        return s


def _parse(name: str, kind: type, raw: str):
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return low in ("1", "true", "yes", "on")
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a {kind.__name__}") from None
