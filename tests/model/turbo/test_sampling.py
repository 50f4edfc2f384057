"""Turbo processors (temperature -> top-k -> top-p -> repetition penalty) equal the official transformers chain.

Golden: the official ``LogitsProcessorList`` of ``inference_turbo`` applied to fixed scores and histories for four
parameter sets (tests/golden/turbo/t3_golden.safetensors, scripts/golden_turbo.py).
"""

import pytest
import torch
from safetensors.torch import load_file

from model.turbo import sampling as turbo_sampling
from tests.model.turbo.turbo_fixtures import golden_file

PROCESSOR_SETS = ((0.8, 1000, 0.95, 1.2), (0.7, 50, 0.8, 1.5), (1.0, 0, 1.0, 1.0), (1.3, 5, 0.5, 2.0))


@pytest.fixture(scope="module")
def golden() -> dict[str, torch.Tensor]:
    return load_file(str(golden_file("t3_golden.safetensors")))


def test_parameter_sets_match_the_golden_script(golden):
    import json

    meta = json.loads(golden_file("meta.json").read_text())
    assert [tuple(x) for x in meta["processor_sets"]] == list(PROCESSOR_SETS)


def _seen(history: torch.Tensor, vocab: int) -> torch.Tensor:
    seen = torch.zeros(history.shape[0], vocab, dtype=torch.bool)
    return seen.scatter_(1, history, True)


@pytest.mark.parametrize("i", range(len(PROCESSOR_SETS)))
def test_processors_equal_the_official_chain(golden, i):
    tau, k, p, rho = PROCESSOR_SETS[i]
    scores = golden["in.proc_scores"]
    ours = turbo_sampling.process(scores, _seen(golden["in.proc_history"], scores.shape[1]),
                                  temperature=torch.tensor([[tau]]), top_k=k,
                                  top_p=torch.tensor([[p]]) if p < 1.0 else None, penalty=torch.tensor([[rho]]))
    ref = golden[f"proc_out.{i}"]
    assert torch.equal(torch.isinf(ours), torch.isinf(ref))
    finite = ~torch.isinf(ref)
    torch.testing.assert_close(ours[finite], ref[finite], rtol=1e-6, atol=1e-6)
