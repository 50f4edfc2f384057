"""S3TokenizerV2: 16 kHz speech -> 25 Hz speech tokens (ids 0..6560), §5.3.

Log-mel front end (128 Slaney bands, n_fft 400, hop 160, last STFT frame dropped, log10 floored 8 decades
under the clip's peak, scaled (x + 4) / 4), then an encoder of two stride-2 convolutions (4 mel frames per
token) and pre-LN blocks whose attention carries rotary positions and an FSMN memory (a depthwise conv over
the values), then an FSQ quantiser (8 dims, 3 levels each, base-3 digits).

Dimensions: B batch, F mel frames, T = ceil(F / 4) tokens, D width (1280), H heads of 64, N = 128 mels.
Key names are the ``tokenizer.*`` keys of ``s3gen.safetensors`` without their prefix. The mel filter bank
and the STFT window are computed here; the checkpoint may carry them (``_mel_filters``, ``window``), and
then they must equal ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from model.errors import KeyMismatchError
from model.voice.melfilters import slaney_mel_filters
from model.weights import load_strict

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
MEL_PER_TOKEN = 4
HEAD_DIM = 64
FSMN_KERNEL = 31
MAX_FRAMES = 3000                         # 30 s; longer input needs windowing, which voices never need
MAX_POSITIONS = 2048
FSQ_SCALE = 0.9990000128746033            # float32 nearest to 0.999, as the reference uses
BUFFERS = ("_mel_filters", "window")


@dataclass(frozen=True)
class S3TokenizerConfig:
    n_mels: int = 128
    width: int = 1280
    layers: int = 6
    fsq_dims: int = 8

    @property
    def heads(self) -> int:
        return self.width // HEAD_DIM

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor]) -> S3TokenizerConfig:
        w = sd["encoder.conv1.weight"]
        layers = len({k.split(".")[2] for k in sd if k.startswith("encoder.blocks.")})
        return cls(n_mels=w.shape[1], width=w.shape[0], layers=layers,
                   fsq_dims=sd["quantizer._codebook.project_down.weight"].shape[0])


def log_mel(wav: torch.Tensor, filters: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """(L,) 16 kHz -> (N, L // 160) log-mel, normalised as the tokenizer was trained."""
    spec = torch.stft(wav, N_FFT, HOP, window=window, return_complex=True)   # (201, 1 + L // 160)
    power = spec[..., :-1].abs() ** 2
    mel = filters @ power
    logm = torch.clamp(mel, min=1e-10).log10()
    logm = torch.maximum(logm, logm.max() - 8.0)
    return (logm + 4.0) / 4.0


@lru_cache(maxsize=1)
def _rope_tables(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin (n, 64) for rotate-half RoPE, made through ``torch.polar`` as the reference does (CPU, cached)."""
    with torch.device("cpu"):
        return _rope(n)


def _rope(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    freqs = 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2)[: HEAD_DIM // 2].float() / HEAD_DIM))
    angles = torch.outer(torch.arange(n), freqs).float()
    cis = torch.polar(torch.ones_like(angles), angles)
    cis = torch.cat((cis, cis), dim=-1)
    real = torch.view_as_real(cis)
    return real[..., 0].contiguous(), real[..., 1].contiguous()


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


class _LayerNorm(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).type(x.dtype)


class FSMNAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width)
        self.out = nn.Linear(width, width)
        self.fsmn_block = nn.Conv1d(width, width, FSMN_KERNEL, groups=width, bias=False)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, keep: torch.Tensor, cos: torch.Tensor,
                sin: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q = self.query(x).view(b, t, self.heads, -1)                        # (B, T, H, 64)
        k = self.key(x).view(b, t, self.heads, -1)
        v = self.value(x).view(b, t, self.heads, -1)
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        # FSMN memory over the (masked) values
        vm = v.reshape(b, t, d) * keep                                       # (B, T, D)
        mem = self.fsmn_block(F.pad(vm.transpose(1, 2), ((FSMN_KERNEL - 1) // 2, (FSMN_KERNEL - 1) // 2)))
        mem = (mem.transpose(1, 2) + vm) * keep
        scale = (d // self.heads) ** -0.25
        q = q.permute(0, 2, 1, 3) * scale                                    # (B, H, T, 64)
        k = k.permute(0, 2, 3, 1) * scale                                    # (B, H, 64, T)
        scores = (q @ k + bias).float()                                      # (B, H, T, T)
        w = torch.softmax(scores, dim=-1).to(q.dtype)
        att = (w @ v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3).flatten(2)     # (B, T, D)
        return self.out(att) + mem


class Block(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = FSMNAttention(width, heads)
        self.attn_ln = _LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.mlp_ln = _LayerNorm(width, eps=1e-5)

    def forward(self, x, bias, keep, cos, sin):
        x = x + self.attn(self.attn_ln(x), bias, keep, cos, sin)
        return x + self.mlp(self.mlp_ln(x))


class Encoder(nn.Module):
    def __init__(self, cfg: S3TokenizerConfig):
        super().__init__()
        self.conv1 = nn.Conv1d(cfg.n_mels, cfg.width, 3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(cfg.width, cfg.width, 3, stride=2, padding=1)
        self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads) for _ in range(cfg.layers))

    def forward(self, mel: torch.Tensor, lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, F) mel, (B,) lengths -> (B, T, D) hidden, (B,) token lengths."""
        keep = (torch.arange(mel.shape[-1], device=mel.device)[None] < lens[:, None]).unsqueeze(1)   # (B, 1, F)
        x = F.gelu(self.conv1(mel * keep))
        lens = (lens - 1) // 2 + 1
        keep = (torch.arange(x.shape[-1], device=x.device)[None] < lens[:, None]).unsqueeze(1)
        x = F.gelu(self.conv2(x * keep))
        lens = (lens - 1) // 2 + 1
        keep = (torch.arange(x.shape[-1], device=x.device)[None] < lens[:, None]).unsqueeze(1)     # (B, 1, T)
        x = x.permute(0, 2, 1)                                               # (B, T, D)
        t = x.shape[1]
        if t > MAX_POSITIONS:
            raise ValueError(f"{t} tokens exceed the tokenizer's {MAX_POSITIONS} positions")
        cos, sin = _rope_tables(MAX_POSITIONS)
        cos = cos[:t, None].to(device=x.device, dtype=x.dtype)                # (T, 1, 64)
        sin = sin[:t, None].to(device=x.device, dtype=x.dtype)
        bias = ((1.0 - keep.to(x.dtype)) * -1.0e10).unsqueeze(1)             # (B, 1, 1, T)
        keep_t = keep.transpose(1, 2).to(x.dtype)                            # (B, T, 1)
        for block in self.blocks:
            x = block(x, bias, keep_t, cos, sin)
        return x, lens


class _Codebook(nn.Module):
    def __init__(self, width: int, dims: int):
        super().__init__()
        self.project_down = nn.Linear(width, dims)


class _Quantizer(nn.Module):
    def __init__(self, width: int, dims: int):
        super().__init__()
        self._codebook = _Codebook(width, dims)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T) int64 FSQ codes: digits round(0.999 tanh(Wx + b)) + 1 in base 3."""
        z = self._codebook.project_down(h).float().tanh() * FSQ_SCALE
        digits = z.round() + 1                                               # (B, T, 8) in {0, 1, 2}
        powers = torch.pow(3, torch.arange(digits.shape[-1], device=h.device, dtype=digits.dtype))
        return (digits * powers).sum(dim=-1).long()


class S3Tokenizer(nn.Module):
    """``tokenize(wav16, max_tokens)`` -> (1, T) speech tokens."""

    def __init__(self, cfg: S3TokenizerConfig = S3TokenizerConfig()):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.quantizer = _Quantizer(cfg.width, cfg.fsq_dims)
        self.register_buffer("_mel_filters", slaney_mel_filters(SAMPLE_RATE, N_FFT, cfg.n_mels), persistent=False)
        with torch.device("cpu"):
            self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor], source: str = "s3gen.safetensors") -> S3Tokenizer:
        """Build from the ``tokenizer.*`` sub-dict (prefix removed); stored buffers are checked, not loaded."""
        sd = dict(sd)
        model = cls(S3TokenizerConfig.from_state_dict(sd))
        for name in BUFFERS:
            stored = sd.pop(name, None)
            ours = getattr(model, name)
            if stored is not None and (stored.shape != ours.shape or not torch.allclose(stored.float(), ours,
                                                                                     atol=1e-6)):
                raise KeyMismatchError(f"{source}: tokenizer.{name} differs from the computed one "
                                       "(wrong model variant?)")
        load_strict(model, sd, source=source)
        return model.eval()

    def log_mel(self, wav16: torch.Tensor) -> torch.Tensor:
        """(L,) -> (N, L // 160)."""
        return log_mel(wav16.float().to(self.window.device), self._mel_filters, self.window)

    @torch.inference_mode()
    def quantize(self, mel: torch.Tensor, lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, F) padded mels and lengths -> (B, T) tokens, (B,) token lengths."""
        if int(lens.max()) > MAX_FRAMES:
            raise ValueError(f"mel of {int(lens.max())} frames exceeds {MAX_FRAMES} (30 s)")
        dtype = self.encoder.conv1.weight.dtype
        hidden, tlens = self.encoder(mel.to(dtype), lens)
        return self.quantizer(hidden), tlens

    @torch.inference_mode()
    def tokenize(self, wav16: torch.Tensor, max_tokens: int | None = None) -> torch.Tensor:
        """(L,) float 16 kHz -> (1, T) int64 tokens, T = ceil((L // 160) / 4), cut to ``max_tokens``."""
        mel = self.log_mel(wav16)
        if max_tokens is not None:
            mel = mel[:, : max_tokens * MEL_PER_TOKEN]
        lens = torch.tensor([mel.shape[1]], device=mel.device)
        tokens, tlens = self.quantize(mel[None], lens)
        return tokens[:, : int(tlens[0])]
