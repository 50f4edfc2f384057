"""S3 tokenizer (tiny weights): token count and range, max_tokens, padded batch == one by one, loading."""

from __future__ import annotations

import math

import pytest
import torch

from model.errors import KeyMismatchError
from model.testing.voice_checkpoint import s3gen_voice_tensors
from model.voice.s3_tokenizer import S3Tokenizer


@pytest.fixture(scope="module")
def tok_sd() -> dict[str, torch.Tensor]:
    sd = s3gen_voice_tensors("tiny", 0)
    return {k[len("tokenizer."):]: v for k, v in sd.items() if k.startswith("tokenizer.")}


@pytest.fixture(scope="module")
def tok(tok_sd) -> S3Tokenizer:
    return S3Tokenizer.from_state_dict(tok_sd)


def test_config_inferred(tok):
    assert (tok.cfg.width, tok.cfg.layers, tok.cfg.heads, tok.cfg.n_mels) == (128, 2, 2, 128)


def test_token_count_range_and_cut(tok):
    torch.manual_seed(0)
    wav = torch.randn(16000 * 3 + 321) * 0.1
    tokens = tok.tokenize(wav)
    assert tokens.shape == (1, math.ceil(((16000 * 3 + 321) // 160) / 4)) and tokens.dtype == torch.int64
    assert int(tokens.min()) >= 0 and int(tokens.max()) <= 6560
    cut = tok.tokenize(wav, max_tokens=20)
    assert cut.shape == (1, 20)


def test_padded_batch_equals_one_by_one(tok):
    torch.manual_seed(1)
    a, b = torch.randn(16000 * 2) * 0.1, torch.randn(16000 * 3 + 480) * 0.1
    ma, mb = tok.log_mel(a), tok.log_mel(b)
    batch = torch.zeros(2, 128, mb.shape[1])
    batch[0, :, : ma.shape[1]] = ma
    batch[1] = mb
    tokens, lens = tok.quantize(batch, torch.tensor([ma.shape[1], mb.shape[1]]))
    one_a, _ = tok.quantize(ma[None], torch.tensor([ma.shape[1]]))
    one_b, _ = tok.quantize(mb[None], torch.tensor([mb.shape[1]]))
    assert int(lens[0]) == one_a.shape[1]
    assert torch.equal(tokens[0, : int(lens[0])], one_a[0])
    assert torch.equal(tokens[1], one_b[0])


def test_loading_checks_keys_and_stored_buffers(tok_sd, tok):
    with_buffers = dict(tok_sd, _mel_filters=tok._mel_filters.clone(), window=tok.window.clone())
    S3Tokenizer.from_state_dict(with_buffers)
    with pytest.raises(KeyMismatchError, match="_mel_filters"):
        S3Tokenizer.from_state_dict(dict(tok_sd, _mel_filters=torch.zeros(128, 201)))
    missing = {k: v for k, v in tok_sd.items() if k != "encoder.blocks.1.attn.fsmn_block.weight"}
    with pytest.raises(KeyMismatchError, match="fsmn_block"):
        S3Tokenizer.from_state_dict(missing)
