"""Turbo's sampling options as one frozen dataclass (torch-free), and how a ``SynthesisParams`` maps onto it.

Turbo samples with temperature -> top-k -> top-p -> repetition penalty and has no CFG, min-p or
exaggeration; its flow takes 2 meanflow steps. ``TurboParams.from_synthesis`` reads the shared fields of
the engine-wide ``SynthesisParams``: a field left at the original model's default takes Turbo's default
(top_p 0.95, 2 flow steps), a field set to anything else is used as given; ``min_p``, ``cfg_weight``,
``exaggeration`` and ``flow_cfg_rate`` do not apply (the official Turbo path ignores them too).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from model.errors import ModelError

__all__ = ["TurboParams", "RUNAWAY_BASE_TOKENS"]

RUNAWAY_BASE_TOKENS = 50  # as model.params: the runaway cap is base + tokens_per_char x characters
MAX_FLOW_STEPS = 100


@dataclass(frozen=True)
class TurboParams:
    """Every option of a Turbo synthesis; defaults are the official ``ChatterboxTurboTTS.generate`` ones."""

    temperature: float = 0.8
    top_k: int = 1000
    top_p: float = 0.95
    repetition_penalty: float = 1.2
    max_new_tokens: int = 1000
    n_flow_steps: int = 2
    tokens_per_char: float = 6.0

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            integer = f.name in ("top_k", "max_new_tokens", "n_flow_steps")
            ok = (isinstance(v, int) if integer else isinstance(v, (int, float)) and math.isfinite(v)) \
                and not isinstance(v, bool)
            if not ok:
                raise ModelError(f"{f.name} must be a finite {'integer' if integer else 'number'}, got {v!r}")
        checks = (
            ("temperature", self.temperature > 0, "> 0"),
            ("top_k", self.top_k >= 0, ">= 0 (0 turns it off)"),
            ("top_p", 0 < self.top_p <= 1, "in (0, 1]"),
            ("repetition_penalty", self.repetition_penalty > 0, "> 0 (1 turns it off)"),
            ("max_new_tokens", 1 <= self.max_new_tokens <= 4096, "in [1, 4096]"),
            ("n_flow_steps", 1 <= self.n_flow_steps <= MAX_FLOW_STEPS, f"in [1, {MAX_FLOW_STEPS}]"),
            ("tokens_per_char", self.tokens_per_char >= 0, ">= 0 (0 turns the runaway cap off)"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ModelError(f"{name} must be {rule}, got {getattr(self, name)!r}")

    def token_cap(self, text: str) -> int:
        """Most speech tokens ``text`` may get: its runaway cap, at most ``max_new_tokens``."""
        if self.tokens_per_char == 0:
            return self.max_new_tokens
        return min(self.max_new_tokens, math.ceil(RUNAWAY_BASE_TOKENS + self.tokens_per_char * len(text)))

    @classmethod
    def from_synthesis(cls, params) -> TurboParams:
        """The Turbo view of a ``model.params.SynthesisParams`` (see the module docstring)."""
        if isinstance(params, TurboParams):
            return params
        reference = type(params)()  # the original model's defaults
        turbo = cls()
        values = {}
        for name in ("temperature", "top_p", "repetition_penalty", "max_new_tokens", "n_flow_steps",
                     "tokens_per_char", "top_k"):
            if not hasattr(params, name):
                continue
            given = getattr(params, name)
            values[name] = getattr(turbo, name) if given == getattr(reference, name) else given
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
