"""Per-chapter PNG plots of the QA report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["chapter_plot"]


def chapter_plot(rows: Sequence, title: str, path: Path) -> Path:
    """Three panels over the chapter's chunks: speech duration vs expected, loudness, scores (failed in red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qa.repair import ChunkState
    from qa.types import Check

    pos = [r.position for r in rows]
    colors = ["tab:red" if r.state == ChunkState.FAILED else "tab:orange" if r.state != ChunkState.PASSED
              else "tab:blue" for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    speech = [r.figure(Check.DURATION, "speech") or 0.0 for r in rows]
    expected = [r.figure(Check.DURATION, "expected") or 0.0 for r in rows]
    low = [r.figure(Check.DURATION, "low") or 0.0 for r in rows]
    high = [r.figure(Check.DURATION, "high") or 0.0 for r in rows]
    axes[0].fill_between(pos, low, high, color="0.9", label="accepted band", step="mid")
    axes[0].plot(pos, expected, color="0.4", lw=1, label="expected")
    axes[0].scatter(pos, speech, c=colors, s=12, zorder=3, label="speech")
    axes[0].set_ylabel("seconds")
    axes[0].legend(loc="upper right", fontsize=7)
    rms = [r.figure(Check.LOUDNESS, "rms_db") for r in rows]
    axes[1].scatter(pos, [v if v is not None else -90 for v in rms], c=colors, s=12)
    axes[1].set_ylabel("RMS dB")
    axes[2].scatter(pos, [r.scores[-1] if r.scores else 0.0 for r in rows], c=colors, s=12)
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].set_ylabel("score")
    axes[2].set_xlabel("chunk")
    axes[0].set_title(f"{title}  (blue passed, orange repaired, red failed)", fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
    return path
