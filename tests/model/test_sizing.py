"""Default batch size: from free memory on CUDA (a power of two, capped), fixed on CPU."""

import torch

from model.config import T3Config
from model.sizing import HEADROOM, MAX_BATCH, S3GEN_BYTES_PER_TEXT, TEXT_TOKENS, suggest_batch_size
from model.turbo.config import TurboConfig


def test_suggested_batch_follows_free_memory():
    assert suggest_batch_size(None, "cpu") == 4
    small = suggest_batch_size(None, torch.device("cuda"), torch.bfloat16, free_bytes=8 * 2**30)
    big = suggest_batch_size(None, torch.device("cuda"), torch.bfloat16, free_bytes=140 * 2**30)
    assert 1 <= small < big <= MAX_BATCH and small & (small - 1) == 0
    assert suggest_batch_size(None, torch.device("cuda"), free_bytes=2**20) == 1


def test_turbo_fits_more_texts_than_the_original_model():
    """Turbo keeps one cache row a text (no CFG) of a smaller backbone: more texts fit the same memory."""
    free = 24 * 2**30
    original = suggest_batch_size(T3Config(), torch.device("cuda"), torch.bfloat16, free_bytes=free)
    turbo = suggest_batch_size(TurboConfig(), torch.device("cuda"), torch.bfloat16, free_bytes=free)
    assert original < turbo <= MAX_BATCH


def test_turbo_rows_do_not_count_the_shared_voice_prefix():
    """Turbo stores its up-to-376-position voice prefix once per batch: a row holds only text and speech."""
    g = TurboConfig().gpt2
    per_row = 2 * g.n_layers * g.n_heads * g.head_dim * 2 * (TEXT_TOKENS + 1000)  # K and V in bf16
    free = int((64 * (per_row + S3GEN_BYTES_PER_TEXT) + 1) / HEADROOM)  # 64 rows without the prefix, fewer with it
    assert suggest_batch_size(TurboConfig(), torch.device("cuda"), torch.bfloat16, free_bytes=free) == 64
