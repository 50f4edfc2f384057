"""Synthesis parameters: every sampling option of the engine, as one frozen dataclass with the model's limits.

Torch-free on purpose (imports only ``model.config`` and ``model.errors``): worker settings and job submission
build and validate these without loading torch. ``validate()`` is the one place the limits live; the decoder
(``model.generate.T3Params``) keeps only its own switches (graph, greedy, stop checks) and no second set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from model.config import T3Config
from model.errors import ParamsError

__all__ = ["SynthesisParams", "RUNAWAY_BASE_TOKENS", "MAX_NEW_TOKENS", "MAX_FLOW_STEPS"]

# Runaway cap: base + tokens_per_char * characters. Narration runs ~15 characters/s and T3 makes 25 tokens/s,
# ~1.7 tokens per character; 6 per character is 3.5x that (slower than any real reading), and the 50-token
# base (2 s) leaves room for a short title's slow, emphatic delivery and its trailing breath. A 10-character
# title may then take 110 tokens (4.4 s) instead of 1000 (40 s); a 300-character chunk stays at max_new_tokens.
# Tuned for alphabetic scripts: dense ones (Chinese, Japanese, Korean: 3-6 tokens per character) need a
# larger tokens_per_char, or 0.
RUNAWAY_BASE_TOKENS = 50
# Speech token k is embedded at learned position k + 1 (both BOS use 0), so K tokens need K + 1 <= table rows.
MAX_NEW_TOKENS = T3Config().speech_positions - 1
# The flow's Euler solver takes any step count; past ~100 the mel no longer changes while the cost grows
# linearly (10 is the official default), so more is a mistake, not a quality setting.
MAX_FLOW_STEPS = 100

_INTS = ("max_new_tokens", "n_flow_steps")


@dataclass(frozen=True)
class SynthesisParams:
    """Every sampling option of a synthesis; defaults are the official English ones."""

    temperature: float = 0.8
    top_p: float = 1.0
    min_p: float = 0.05
    repetition_penalty: float = 1.2
    cfg_weight: float = 0.5
    exaggeration: float = 0.5
    max_new_tokens: int = 1000
    n_flow_steps: int = 10
    flow_cfg_rate: float = 0.7
    tokens_per_char: float = 6.0  # runaway cap per text: 50 + this x characters speech tokens; 0 turns it off

    def validate(self) -> None:
        """Raise ParamsError (one line naming the parameter and value) unless every value is usable."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _INTS:
                ok = isinstance(v, int) and not isinstance(v, bool)
            else:
                ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            if not ok:
                raise ParamsError(f"{f.name} must be a finite {'integer' if f.name in _INTS else 'number'}, "
                                  f"got {v!r}")
        # The limits the official processors and the model enforce (transformers 5.2: temperature > 0,
        # repetition penalty > 0, min_p in [0, 1]; top_p = 0 would keep nothing but the argmax).
        checks = (
            ("temperature", self.temperature > 0, "> 0"),
            ("top_p", 0 < self.top_p <= 1, "in (0, 1]"),
            ("min_p", 0 <= self.min_p <= 1, "in [0, 1]"),
            ("repetition_penalty", self.repetition_penalty > 0, "> 0 (1 turns it off)"),
            ("cfg_weight", self.cfg_weight >= 0, ">= 0"),
            ("exaggeration", 0 <= self.exaggeration <= 2, "in [0, 2]"),
            ("max_new_tokens", 1 <= self.max_new_tokens <= MAX_NEW_TOKENS,
             f"in [1, {MAX_NEW_TOKENS}] (learned speech positions)"),
            ("n_flow_steps", 1 <= self.n_flow_steps <= MAX_FLOW_STEPS, f"in [1, {MAX_FLOW_STEPS}]"),
            ("flow_cfg_rate", self.flow_cfg_rate >= 0, ">= 0"),
            ("tokens_per_char", self.tokens_per_char >= 0, ">= 0 (0 turns the runaway cap off)"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ParamsError(f"{name} must be {rule}, got {getattr(self, name)!r}")

    def token_cap(self, text: str) -> int:
        """Most speech tokens ``text`` may get: its runaway cap, at most ``max_new_tokens``."""
        if self.tokens_per_char == 0:
            return self.max_new_tokens
        return min(self.max_new_tokens, math.ceil(RUNAWAY_BASE_TOKENS + self.tokens_per_char * len(text)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> SynthesisParams:
        """Validated params from a mapping (a job document, CLI overrides); missing keys keep their defaults.

        Unknown keys are refused; integral floats (``1000.0`` from JSON) become ints."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ParamsError(f"unknown synthesis parameter {unknown[0]!r} (known: {', '.join(sorted(names))})")
        values = dict(d)
        for name in _INTS:
            v = values.get(name)
            if isinstance(v, float) and v.is_integer():
                values[name] = int(v)
        p = cls(**values)
        p.validate()
        return p
