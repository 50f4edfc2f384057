"""Fixtures shared by the T3 decoding tests: a tiny random T3 and a random voice conditioning."""

import pytest
import torch

from model.t3 import T3, T3Cond
from model.testing.t3_checkpoint import t3_config, t3_state_dict


@pytest.fixture(scope="module")
def model() -> T3:
    m = T3(t3_config("tiny")).eval()
    m.load_state_dict(t3_state_dict("tiny", seed=1))
    return m


@pytest.fixture(scope="module")
def cond() -> T3Cond:
    g = torch.Generator().manual_seed(0)
    return T3Cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 150), generator=g), 0.5)
