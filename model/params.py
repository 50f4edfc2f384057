"""Synthesis parameters: every sampling option of the engine, as one frozen dataclass.

Torch-free on purpose: worker settings and job submission build and validate these without loading torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from model.errors import ModelError

__all__ = ["SynthesisParams", "RUNAWAY_BASE_TOKENS"]

# Runaway cap: base + tokens_per_char * characters. Narration runs ~15 characters/s and T3 makes 25 tokens/s,
# ~1.7 tokens per character; 6 per character is 3.5x that (slower than any real reading), and the 50-token
# base (2 s) leaves room for a short title's slow, emphatic delivery and its trailing breath. A 10-character
# title may then take 110 tokens (4.4 s) instead of 1000 (40 s); a 300-character chunk stays at max_new_tokens.
# Tuned for alphabetic scripts: dense ones (Chinese, Japanese, Korean: 3-6 tokens per character) need a
# larger tokens_per_char, or 0.
RUNAWAY_BASE_TOKENS = 50


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
        self.t3().validate()
        if not 0 <= self.exaggeration <= 2:
            raise ModelError(f"exaggeration must be in [0, 2], got {self.exaggeration}")
        if self.max_new_tokens > 4096 - 4:
            raise ModelError(f"max_new_tokens must be at most 4092 (learned positions), got {self.max_new_tokens}")
        if not 1 <= self.n_flow_steps <= 100:
            raise ModelError(f"n_flow_steps must be in [1, 100], got {self.n_flow_steps}")
        if self.flow_cfg_rate < 0:
            raise ModelError(f"flow_cfg_rate must be >= 0, got {self.flow_cfg_rate}")
        if not (math.isfinite(self.tokens_per_char) and self.tokens_per_char >= 0):
            raise ModelError(f"tokens_per_char must be >= 0 (0 turns the runaway cap off), got {self.tokens_per_char}")

    def token_cap(self, text: str) -> int:
        """Most speech tokens ``text`` may get: its runaway cap, at most ``max_new_tokens``."""
        if self.tokens_per_char == 0:
            return self.max_new_tokens
        return min(self.max_new_tokens, math.ceil(RUNAWAY_BASE_TOKENS + self.tokens_per_char * len(text)))

    def t3(self):
        """The T3 decoding part (``model.generate.T3Params``; imported here so this module stays torch-free)."""
        from model.generate import T3Params

        return T3Params(temperature=self.temperature, top_p=self.top_p, min_p=self.min_p,
                        repetition_penalty=self.repetition_penalty, cfg_weight=self.cfg_weight,
                        max_new_tokens=self.max_new_tokens)

    def to_dict(self) -> dict:
        return asdict(self)
