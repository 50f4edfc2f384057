"""What both model facades (``model.tts.TTS`` and ``model.turbo.tts.TurboTTS``) do the same way: the built-in
voice, loading and adopting voices, ``synthesize`` as the audio of ``synthesize_takes``, and the batch size
that fits the device."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import ModelError
from model.voice.voice import Voice

__all__ = ["FacadeVoices", "PARTS", "S3GEN_ROWS", "S3GEN_SEED_SALT", "SAMPLE_RATE", "Take", "s3gen_groups"]

SAMPLE_RATE = 24_000
# Seeds of S3Gen's noise are drawn from a stream apart from T3's sampling stream.
S3GEN_SEED_SALT = 0x5EED_5EED
PARTS = ("voice", "synthesis")
# Most rows per S3Gen call. Its throughput is flat from 64 rows on (H200), and smaller groups of token-sorted
# rows carry less padding: in a book's calls of 256 chunks, 23% of the frames are padding at 128 rows, 12% at 64.
S3GEN_ROWS = 64


def s3gen_groups(counts: list[int], rows: int) -> list[list[int]]:
    """Indices of ``counts`` (speech tokens per text) sorted by count, in groups of at most ``rows``."""
    order = sorted(range(len(counts)), key=counts.__getitem__)
    return [order[i:i + rows] for i in range(0, len(order), rows)]


@dataclass(frozen=True)
class Take:
    """One text's synthesis, from either model: its audio and how its speech-token decoding ended."""

    audio: np.ndarray  # float32 mono, 24 kHz
    tokens: int  # speech tokens sampled before the stop token (all of them when the cap was hit)
    token_cap: int  # the most this text could get (its runaway cap, at most max_new_tokens)
    hit_cap: bool  # decoding ended at the cap instead of a stop token: likely a runaway


class FacadeVoices:
    """Mixed into a facade that sets ``_builtin``, ``voice_models``, ``model_id``, ``parts``, ``device``, ``dtype``
    and ``t3`` and defines ``synthesize_takes``."""

    s3gen_rows = S3GEN_ROWS  # most rows per S3Gen call (an instance may set another: benchmarks compare)

    def suggested_batch_size(self) -> int:
        """Texts per batch that fit this device's free memory now (``model.sizing.suggest_batch_size``)."""
        from model.sizing import suggest_batch_size

        return suggest_batch_size(self.t3.cfg if self.t3 is not None else None, self.device, self.dtype)

    def builtin_voice(self) -> Voice:
        if self._builtin is None:
            raise ModelError(f"checkpoint {self.model_id} has no built-in voice (conds.pt); pass a reference clip")
        return self._builtin

    def load_voice(self, path: str | Path) -> Voice:
        return Voice.load(path, device=self.device)

    def adopt_voice_networks(self, other: FacadeVoices) -> None:
        """Use ``other``'s already-loaded voice networks (e.g. a voice-only load made earlier in this process)
        instead of loading them again; both must come from the same checkpoint."""
        if other.voice_models is None:
            raise ModelError(f"model {other.model_id} has no voice networks to adopt (parts={other.parts})")
        if other.model_id != self.model_id:
            raise ModelError(f"cannot adopt voice networks of {other.model_id} into {self.model_id}")
        self.voice_models = other.voice_models

    def synthesize(self, texts: list[str], voice: Voice, params=None, seeds: list[int] | None = None,
                   batch_size: int | None = None) -> list[np.ndarray]:
        """One float32 mono 24 kHz waveform per text; ``seeds[i]`` makes text i reproducible."""
        return [t.audio for t in self.synthesize_takes(texts, voice, params, seeds, batch_size=batch_size)]
