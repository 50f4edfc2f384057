"""Random-weight checkpoints in the official file layout, for tests, golden scripts and benchmarks.

``write_random_checkpoint(folder, preset)`` writes a complete folder (t3_cfg.safetensors, tokenizer.json,
ve.safetensors, conds.pt, s3gen.safetensors) that ``model.tts.TTS.load(folder)`` loads like a real one.
Presets: "tiny" (CPU tests, well under a second per chunk) and "full" (real sizes, for speed and memory).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_random_checkpoint"]


def write_random_checkpoint(folder: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    from model.testing.s3gen_checkpoint import write_s3gen_file
    from model.testing.t3_checkpoint import write_t3_files

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_t3_files(folder, preset, seed)  # also ve.safetensors and conds.pt
    write_s3gen_file(folder, preset, seed)
    return folder
