"""Content addresses and seeds: what decides a chunk's audio, hashed."""

from __future__ import annotations

import hashlib
import json

__all__ = ["chunk_cache_key", "chunk_seed"]


def chunk_seed(job_seed: int, chunk_key: str) -> int:
    """Per-chunk seed: a function of the job seed and the chunk's speech key only (same in every mode)."""
    digest = hashlib.sha256(f"{int(job_seed)}:{chunk_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def chunk_cache_key(model_id: str, voice_key: str, sampling: dict, seed: int, speech: str) -> str:
    """Content address of a chunk's audio: everything that decides the samples, nothing else."""
    ident = json.dumps({"model": model_id, "voice": voice_key, "sampling": sampling, "seed": int(seed),
                        "speech": speech}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
