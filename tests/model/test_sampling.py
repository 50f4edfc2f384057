"""Logits processors equal transformers' (the official chain); counter-based sampling is fair and row-local."""

import pytest
import torch

from model import sampling

transformers = pytest.importorskip("transformers")
from transformers.generation.logits_process import (  # noqa: E402
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TopPLogitsWarper,
)

V = 300


def _case(seed: int):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(3, V, generator=g) * 3
    history = torch.randint(0, V, (3, 12), generator=g)
    seen = torch.zeros(3, V, dtype=torch.bool).scatter_(1, history, True)
    return scores, history, seen


def _t(v: float) -> torch.Tensor:
    return torch.tensor([[v]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repetition_penalty_matches_transformers(seed):
    scores, history, seen = _case(seed)
    ref = RepetitionPenaltyLogitsProcessor(1.3)(history, scores.clone())
    torch.testing.assert_close(sampling.repetition_penalty_(scores, seen, _t(1.3)), ref, rtol=0, atol=0)


@pytest.mark.parametrize("min_p", [0.05, 0.3])
def test_min_p_matches_transformers(min_p):
    scores, history, _ = _case(4)
    ref = MinPLogitsWarper(min_p)(history, scores.clone())
    assert torch.equal(sampling.min_p_filter(scores, _t(min_p)), ref)


@pytest.mark.parametrize("top_p", [0.5, 0.9, 0.95])
def test_top_p_matches_transformers(top_p):
    scores, history, _ = _case(5)
    ref = TopPLogitsWarper(top_p)(history, scores.clone())
    ours = sampling.top_p_filter(scores, _t(top_p))
    assert torch.equal(ours, ref)
    assert torch.isinf(ours).any()  # something was actually filtered


def test_full_chain_matches_transformers_order():
    scores, history, seen = _case(6)
    ref = RepetitionPenaltyLogitsProcessor(1.2)(history, scores.clone()) / 0.8
    ref = TopPLogitsWarper(0.9)(history, MinPLogitsWarper(0.05)(history, ref))
    ours = sampling.process(scores, seen, penalty=_t(1.2), temperature=_t(0.8), min_p=_t(0.05), top_p=_t(0.9))
    assert torch.equal(ours, ref)


def test_gumbel_sampling_follows_softmax():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, float("-inf")]])
    n = 40000
    keys = sampling.seed_keys(list(range(n)), "cpu")
    draws = sampling.sample(logits.expand(n, -1), keys, torch.tensor(3))
    counts = torch.bincount(draws, minlength=5).float()
    freq = counts / n
    expected = torch.softmax(logits, -1)[0]
    assert counts[4] == 0  # filtered tokens never drawn
    torch.testing.assert_close(freq, expected, rtol=0, atol=0.015)


def test_noise_depends_only_on_row_seed_and_step():
    keys = sampling.seed_keys([1, 2, 3], "cpu")
    alone = sampling.seed_keys([2], "cpu")
    a = sampling.gumbel_noise(keys, torch.tensor(5), 1000)
    b = sampling.gumbel_noise(alone, torch.tensor(5), 1000)
    assert torch.equal(a[1], b[0])
    assert not torch.equal(a[0], a[1])
    assert not torch.equal(a[1], sampling.gumbel_noise(keys, torch.tensor(6), 1000)[1])
    assert torch.isfinite(a).all()


def test_large_seeds_are_distinct():
    keys = sampling.seed_keys([0, 1 << 32, (1 << 64) - 1, 12345678901234], "cpu")
    assert len(set(keys.tolist())) == 4


def test_greedy_takes_argmax():
    scores = torch.tensor([[0.1, 3.0, 2.0], [5.0, -1.0, 4.9]])
    assert sampling.sample(scores, sampling.seed_keys([0, 0], "cpu"), torch.tensor(0), greedy=True).tolist() == [1, 0]
