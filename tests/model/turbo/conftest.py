"""Fixtures of the Turbo tests: one tiny random Turbo checkpoint folder per session, its T3, a voice prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from model.testing.turbo_checkpoint import write_turbo_checkpoint
from model.turbo.t3 import TurboT3, load_turbo_t3


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory) -> Path:
    return write_turbo_checkpoint(tmp_path_factory.mktemp("turbo_tiny"), "tiny", seed=1)


@pytest.fixture(scope="session")
def tiny_t3(tiny_folder) -> TurboT3:
    return load_turbo_t3(tiny_folder / "t3_turbo_v1.safetensors")


@pytest.fixture(scope="session")
def tiny_cond(tiny_t3) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return tiny_t3.encode_cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 40), generator=g))
