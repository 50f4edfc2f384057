"""Default batch size: from free memory on CUDA (a power of two, capped), fixed on CPU."""

import torch

from model.config import T3Config
from model.sizing import MAX_BATCH, suggest_batch_size
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
