"""Progress of a job in this process: a tqdm bar over chunks showing audio made, speed (x real time) and ETA."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from pipeline.manifest import Manifest
from pipeline.states import ChunkState

__all__ = ["ChunkProgress", "format_duration"]


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ChunkProgress:
    """Call ``start(manifest)`` once the plan exists, then ``advance(chunks, audio_seconds)`` per batch."""

    def __init__(self, label: str, enabled: bool | None = None):
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar: tqdm | None = None
        self.audio = 0.0      # seconds of audio in the book so far (cached included)
        self.made = 0.0       # seconds of audio synthesized by this run
        self.t0 = time.monotonic()

    def start(self, manifest: Manifest) -> None:
        total = len(manifest.chunks)
        cached = manifest.count(ChunkState.DONE)
        self.audio = sum(c.duration or 0.0 for c in manifest.chunks if c.state == ChunkState.DONE)
        self.t0 = time.monotonic()
        self.bar = tqdm(total=total, initial=cached, desc=self.label[:30], unit="chunk", disable=not self.enabled,
                        dynamic_ncols=True, file=sys.stderr,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} chunks "
                                   "[{elapsed}<{remaining}{postfix}]")
        self._postfix(0.0)

    def advance(self, chunks: int, audio_seconds: float) -> None:
        self.audio += audio_seconds
        self.made += audio_seconds
        if self.bar is not None:
            self.bar.update(chunks)
            self._postfix(self.made)

    def _postfix(self, made: float) -> None:
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        self.bar.set_postfix_str(f"{self.audio / 60:.1f} min audio, {made / elapsed:.2f}x real time", refresh=True)

    def close(self, complete: bool = False) -> None:
        """End the bar; ``complete`` (the book is made) shows it at 100% whatever chunks came from where."""
        if self.bar is not None:
            if complete and self.bar.n < self.bar.total:
                self.bar.n = self.bar.total
                self.bar.refresh()
            self.bar.close()
