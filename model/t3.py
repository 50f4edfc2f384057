"""T3: text ids -> speech tokens. Llama backbone plus custom embeddings, learned positions and heads.

Dimensions: B rows, N text ids (with SOT/EOT), P prompt tokens, C conditioning tokens, D width, V speech
vocabulary. Module names equal the checkpoint's keys (``tfmr.*``, ``cond_enc.*``, ``text_emb``,
``speech_emb``, ``text_pos_emb.emb``, ``speech_pos_emb.emb``, ``text_head``, ``speech_head``), so loading
is a strict one-to-one copy. The decode loop lives in ``model.generate``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from model.cond_enc import CondEncoder
from model.config import T3Config
from model.errors import CheckpointError
from model.llama import Llama
from model.weights import load_strict, read_state_dict, safetensors_header

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class T3Cond:
    """A voice as T3 sees it: speaker embedding (1, E), prompt speech tokens (1, P) or None, exaggeration."""

    speaker_emb: torch.Tensor
    prompt_tokens: torch.Tensor | None
    exaggeration: float = 0.5


class LearnedPositions(nn.Module):
    def __init__(self, n: int, dim: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(n, dim)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.emb(idx)


class T3(nn.Module):
    def __init__(self, cfg: T3Config) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.tfmr = Llama(cfg.llama)
        self.cond_enc = CondEncoder(d, cfg.speaker_dim, cfg.perceiver_queries, cfg.perceiver_heads)
        self.text_emb = nn.Embedding(cfg.text_vocab, d)
        self.speech_emb = nn.Embedding(cfg.speech_vocab, d)
        self.text_pos_emb = LearnedPositions(cfg.text_positions, d)
        self.speech_pos_emb = LearnedPositions(cfg.speech_positions, d)
        self.text_head = nn.Linear(d, cfg.text_vocab, bias=False)
        self.speech_head = nn.Linear(d, cfg.speech_vocab, bias=False)

    @property
    def device(self) -> torch.device:
        return self.speech_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.speech_head.weight.dtype

    @torch.no_grad()
    def encode_cond(self, cond: T3Cond) -> torch.Tensor:
        """The conditioning prefix (1, C, D): speaker, perceiver over the embedded prompt, exaggeration."""
        spk = cond.speaker_emb.to(self.device, self.dtype).reshape(1, -1)
        prompt = None
        if cond.prompt_tokens is not None and cond.prompt_tokens.numel() > 0:
            tokens = cond.prompt_tokens.to(self.device, torch.long).reshape(1, -1)  # (1, P)
            if int(tokens.max()) >= self.cfg.speech_vocab or int(tokens.min()) < 0:
                raise ValueError(f"prompt speech token out of range 0..{self.cfg.speech_vocab - 1}")
            idx = torch.arange(tokens.shape[1], device=self.device)
            prompt = self.speech_emb(tokens) + self.speech_pos_emb(idx)[None]  # (1, P, D)
        exag = torch.tensor([float(cond.exaggeration)], device=self.device, dtype=self.dtype)
        return self.cond_enc(spk, prompt, exag)

    def embed_text(self, ids: torch.Tensor, zero_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Text ids (B, N) -> (B, N, D): token embedding + learned position 0..N-1.

        Rows where ``zero_tokens`` (B,) is True keep only the position part (the CFG unconditional row).
        """
        tok = self.text_emb(ids)
        if zero_tokens is not None:
            tok = tok.masked_fill(zero_tokens[:, None, None], 0.0)
        return tok + self.text_pos_emb(torch.arange(ids.shape[1], device=ids.device))[None]

    def embed_speech(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Speech tokens and their learned positions, same shape (...) -> (..., D)."""
        return self.speech_emb(tokens) + self.speech_pos_emb(positions)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Speech logits in fp32 from final hidden states (..., D) -> (..., V)."""
        return self.speech_head(hidden).float()


T3_FILES = {"t3_cfg.safetensors": "english", "t3_mtl23ls_v2.safetensors": "multilingual"}


def load_t3(path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
            expect: str | None = None) -> T3:
    """Build T3 from a checkpoint file, inferring its size from the tensor shapes; strict loading.

    ``expect`` ("english" or "multilingual") rejects a file of the other variant. Errors are one-line
    ``CheckpointError``s naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"T3 checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        shapes = {k: v["shape"] for k, v in safetensors_header(path).items()}
        sd = None
    else:
        sd = read_state_dict(path)
        shapes = {k: tuple(v.shape) for k, v in sd.items()}
    cfg = T3Config.from_shapes(shapes, source=str(path))
    variant = "multilingual" if cfg.is_multilingual else "english"
    if cfg.text_vocab not in (704, 2454):
        log.warning("%s: text vocabulary %d is neither English (704) nor multilingual (2454)", path, cfg.text_vocab)
    if expect is not None and expect != variant:
        raise CheckpointError(f"{path}: a {variant} T3 checkpoint (text vocab {cfg.text_vocab}), expected {expect}")
    if sd is None:
        sd = read_state_dict(path)
    with torch.device("meta"):
        model = T3(cfg)
    model = model.to_empty(device=device).to(dtype)
    load_strict(model, sd, source=str(path))
    del sd
    model.eval().requires_grad_(False)
    log.info("T3 loaded from %s: %s, %d layers, width %d, %s on %s", path.name, variant, cfg.llama.n_layers,
             cfg.dim, dtype, device)
    return model
