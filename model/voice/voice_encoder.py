"""VoiceEncoder: the 256-d speaker embedding T3 is conditioned on (§5.2).

Pipeline for one 16 kHz utterance: trim leading/trailing silence (frames more than 20 dB under the loudest
2048-sample frame), 40-band linear power mel (n_fft 400, hop 160, centred reflect-padded STFT, Slaney bank),
160-frame partials every 77 frames, a 3-layer LSTM over each partial, Linear + ReLU + L2 norm on the last
hidden state, mean of the partials, L2 norm again.

Dimensions: F mel frames, M = 40 mel bands, P partials of W = 160 frames, H LSTM width, E embedding.
Key names follow ``ve.safetensors`` (``lstm.*``, ``proj.*``, ``similarity_weight/bias`` — kept, unused).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model.voice.melfilters import slaney_mel_filters
from model.weights import load_strict

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
PARTIAL = 160
STEP = round((SAMPLE_RATE / 1.3) / HOP)   # 77 frames: the official "rate" of 1.3 partials per second
MIN_COVERAGE = 0.8
TRIM_TOP_DB = 20.0
TRIM_FRAME = 2048
TRIM_HOP = 512


@dataclass(frozen=True)
class VoiceEncoderConfig:
    n_mels: int = N_MELS
    hidden: int = 256
    layers: int = 3
    embedding: int = 256

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor]) -> VoiceEncoderConfig:
        """Infer widths and depth from ``ve.safetensors`` shapes."""
        layers = sum(1 for k in sd if k.startswith("lstm.weight_ih_l"))
        return cls(n_mels=sd["lstm.weight_ih_l0"].shape[1], hidden=sd["lstm.weight_hh_l0"].shape[1],
                   layers=layers, embedding=sd["proj.weight"].shape[0])


def trim_silence(wav: torch.Tensor, top_db: float = TRIM_TOP_DB) -> torch.Tensor:
    """Cut leading/trailing frames whose RMS is ``top_db`` below the loudest frame (librosa ``trim``)."""
    x = wav.detach().to("cpu", torch.float64)        # float64 on the CPU: MPS has no float64
    padded = F.pad(x, (TRIM_FRAME // 2, TRIM_FRAME // 2))
    n = 1 + (padded.numel() - TRIM_FRAME) // TRIM_HOP
    frames = padded.as_strided((n, TRIM_FRAME), (TRIM_HOP, 1))
    power = (frames * frames).mean(dim=1)                                   # RMS^2 per frame
    db = 10 * torch.log10(power.clamp(min=1e-10)) - 10 * torch.log10(power.max().clamp(min=1e-10))
    loud = torch.nonzero(db > -top_db).flatten()
    if loud.numel() == 0:
        return wav[:0]
    start = int(loud[0]) * TRIM_HOP
    end = min(wav.numel(), (int(loud[-1]) + 1) * TRIM_HOP)
    return wav[start:end]


def ve_melspectrogram(wav: torch.Tensor) -> torch.Tensor:
    """(L,) 16 kHz -> (1 + L // 160, 40) linear power mel (frames first, as the LSTM reads it)."""
    window = torch.hann_window(N_FFT, dtype=wav.dtype, device=wav.device)
    spec = torch.stft(wav, N_FFT, HOP, N_FFT, window=window, center=True, pad_mode="reflect",
                      return_complex=True)                                  # (201, F)
    power = spec.abs() ** 2
    bank = slaney_mel_filters(SAMPLE_RATE, N_FFT, N_MELS, 0.0, 8000.0).to(device=wav.device, dtype=wav.dtype)
    return (bank @ power).T                                                 # (F, 40)


def partial_slices(n_frames: int) -> tuple[int, int]:
    """(number of partials, frames the mel is padded/cut to) for an utterance of ``n_frames``."""
    n, rem = divmod(max(n_frames - PARTIAL + STEP, 0), STEP)
    if n == 0 or (rem + PARTIAL - STEP) / PARTIAL >= MIN_COVERAGE:
        n += 1
    return n, PARTIAL + STEP * (n - 1)


class VoiceEncoder(nn.Module):
    """3-layer LSTM speaker encoder; ``embed(wav16)`` gives the (1, E) utterance embedding."""

    def __init__(self, cfg: VoiceEncoderConfig = VoiceEncoderConfig()):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.n_mels, cfg.hidden, num_layers=cfg.layers, batch_first=True)
        self.proj = nn.Linear(cfg.hidden, cfg.embedding)
        self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
        self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor], source: str = "ve.safetensors") -> VoiceEncoder:
        model = cls(VoiceEncoderConfig.from_state_dict(sd))
        load_strict(model, sd, source=source)
        return model.eval()

    def forward(self, partials: torch.Tensor) -> torch.Tensor:
        """(P, W, M) mel partials -> (P, E) L2-normalised partial embeddings."""
        _, (hidden, _) = self.lstm(partials)
        raw = F.relu(self.proj(hidden[-1]))
        return raw / torch.linalg.norm(raw, dim=1, keepdim=True)

    @torch.inference_mode()
    def embed_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """(F, M) mel of one utterance -> (1, E) utterance embedding."""
        n, target = partial_slices(mel.shape[0])
        if target > mel.shape[0]:
            mel = F.pad(mel, (0, 0, 0, target - mel.shape[0]))
        mel = mel[:target].contiguous()
        partials = mel.as_strided((n, PARTIAL, mel.shape[1]), (STEP * mel.stride(0), mel.stride(0), 1))
        emb = self(partials.to(self.proj.weight.dtype)).float().mean(dim=0, keepdim=True)   # (1, E)
        return emb / torch.linalg.norm(emb, dim=1, keepdim=True)

    @torch.inference_mode()
    def embed(self, wav16: torch.Tensor) -> torch.Tensor:
        """(L,) float32 16 kHz waveform -> (1, E) speaker embedding (silence trimmed first)."""
        if wav16.numel() == 0 or float(wav16.abs().max()) == 0.0:
            raise ValueError("the clip is silent: every sample is zero")
        wav = trim_silence(wav16.float())
        mel = ve_melspectrogram(wav.to(self.proj.weight.device))
        return self.embed_mel(mel)


def n_partials(n_samples: int) -> int:
    """Partials the embedding averages for a trimmed 16 kHz clip of ``n_samples``."""
    return partial_slices(1 + n_samples // HOP)[0] if n_samples > 0 else 0


__all__ = ["VoiceEncoder", "VoiceEncoderConfig", "trim_silence", "ve_melspectrogram", "partial_slices",
           "n_partials"]
