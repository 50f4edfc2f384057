"""Turbo T3: text ids -> speech tokens on a GPT-2 backbone, no CFG, no perceiver, no learned speech positions.

Dimensions: B rows, N text ids, P prompt tokens (<= 375), C = 1 + P conditioning tokens, D width, V speech
vocabulary (6563). Module names equal the checkpoint's keys (``tfmr.*``, ``cond_enc.spkr_enc``,
``text_emb``, ``speech_emb``, ``speech_head`` with bias). The two tables the official model never uses at
inference, ``tfmr.wte`` and ``text_head`` (51.5 M values each), are checked for presence and shape when
loading and then left on disk. Sequence of a row: [speaker | prompt | text | BOS | t_0 t_1 ...], positions
0, 1, 2, ... (``wpe``). The decode loop lives in ``model.turbo.generate``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from model.errors import CheckpointError, KeyMismatchError
from model.turbo.config import TurboConfig
from model.turbo.gpt2 import GPT2
from model.weights import load_strict, read_state_dict, safetensors_header

log = logging.getLogger(__name__)

T3_FILE = "t3_turbo_v1.safetensors"
UNUSED_KEYS = ("tfmr.wte.weight", "text_head.weight")  # in every checkpoint, never used at inference


class SpeakerProjection(nn.Module):
    """``cond_enc``: only the speaker projection ``spkr_enc`` (E -> D) in Turbo."""

    def __init__(self, speaker_dim: int, dim: int) -> None:
        super().__init__()
        self.spkr_enc = nn.Linear(speaker_dim, dim)


class TurboT3(nn.Module):
    def __init__(self, cfg: TurboConfig, with_unused: bool = False) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.tfmr = GPT2(cfg.gpt2, with_wte=with_unused)
        self.cond_enc = SpeakerProjection(cfg.speaker_dim, d)
        self.text_emb = nn.Embedding(cfg.text_vocab, d)
        self.speech_emb = nn.Embedding(cfg.speech_vocab, d)
        if with_unused:  # only to write or read back complete checkpoints
            self.text_head = nn.Linear(d, cfg.text_vocab, bias=False)
        self.speech_head = nn.Linear(d, cfg.speech_vocab, bias=True)

    @property
    def device(self) -> torch.device:
        return self.speech_head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.speech_head.weight.dtype

    @torch.no_grad()
    def encode_cond(self, speaker_emb: torch.Tensor, prompt_tokens: torch.Tensor | None) -> torch.Tensor:
        """The conditioning prefix (1, 1 + P, D): the projected speaker, then the embedded prompt tokens as they are."""
        spk = self.cond_enc.spkr_enc(speaker_emb.to(self.device, self.dtype).reshape(1, self.cfg.speaker_dim))
        if prompt_tokens is None or prompt_tokens.numel() == 0:
            return spk[:, None]
        tokens = prompt_tokens.to(self.device, torch.long).reshape(1, -1)  # (1, P)
        if tokens.shape[1] > self.cfg.prompt_len:
            raise ValueError(f"speech prompt of {tokens.shape[1]} tokens; Turbo takes at most {self.cfg.prompt_len}")
        if int(tokens.max()) >= self.cfg.speech_vocab or int(tokens.min()) < 0:
            raise ValueError(f"prompt speech token out of range 0..{self.cfg.speech_vocab - 1}")
        return torch.cat((spk[:, None], self.speech_emb(tokens)), dim=1)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Speech logits in fp32 from final hidden states (..., D) -> (..., V)."""
        return self.speech_head(hidden).float()


def _read_used(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """Every tensor but the unused tables (a safetensors file is read key by key; a pickle whole)."""
    if path.suffix != ".safetensors":
        sd = read_state_dict(path)
        return {k: v for k, v in sd.items() if k not in UNUSED_KEYS}
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return {k: f.get_tensor(k) for k in shapes if k not in UNUSED_KEYS}
    except Exception as exc:  # noqa: BLE001 - the library raises several types for bad files
        raise CheckpointError(f"{path}: cannot read safetensors ({exc})") from None


def load_turbo_t3(path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                  ) -> TurboT3:
    """Build the Turbo T3 from ``t3_turbo_v1.safetensors`` (size read from the shapes); strict loading.

    Every key must be present with its expected shape, none may be unexpected; ``tfmr.wte`` and
    ``text_head`` are checked, then not loaded. Errors are one-line ``CheckpointError``s naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Turbo T3 checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        shapes = {k: tuple(v["shape"]) for k, v in safetensors_header(path).items()}
    else:
        shapes = {k: tuple(v.shape) for k, v in read_state_dict(path).items()}
    cfg = TurboConfig.from_shapes(shapes, source=str(path))
    expected = {"tfmr.wte.weight": (cfg.gpt2.token_vocab, cfg.dim), "text_head.weight": (cfg.text_vocab, cfg.dim)}
    for key, shape in expected.items():
        if key not in shapes:
            raise KeyMismatchError(f"{path}: missing key {key!r}")
        if shapes[key] != shape:
            raise KeyMismatchError(f"{path}: key {key!r} has shape {shapes[key]}, expected {shape}")
    sd = _read_used(path, shapes)
    with torch.device("meta"):
        model = TurboT3(cfg)
    model = model.to_empty(device=device).to(dtype)
    load_strict(model, sd, source=str(path))
    del sd
    model.eval().requires_grad_(False)
    log.info("Turbo T3 loaded from %s: %d layers, width %d, %s on %s", path.name, cfg.gpt2.n_layers, cfg.dim,
             dtype, device)
    return model
