"""Any reference clip -> a reusable ``Voice`` (the official ``prepare_conditionals`` + ``embed_ref``, §5.1).

Steps, for a mono float clip at any rate:

1. Resample to 24 kHz (``hq`` sinc, soxr-like) and from there to 16 kHz (``hq``) over the whole clip.
2. S3Gen reference from the first 10 s at 24 kHz: 80-band prompt mel; the same 10 s resampled to 16 kHz with
   the ``kaldi`` sinc (as the official path does) feeds the CAMPPlus x-vector and the prompt tokens. Prompt
   mel frames are made exactly 2 x tokens (the official code keeps an odd frame, which shifts the output).
3. T3 conditioning: S3 tokens of the first 6 s at 16 kHz (at most 150), the VoiceEncoder embedding of the
   16 kHz clip (all of it, as the official code does, up to 60 s), and the exaggeration.

Clips that are silent or shorter than 3 s are rejected with a one-line ``VoiceError``; what is left unused
of a long clip is noted in the log.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.errors import VoiceError
from model.s3gen.ref import S3GenRef
from model.voice.campplus import CAMPPlus
from model.voice.mel24 import prompt_mel
from model.voice.resample import resample
from model.voice.s3_tokenizer import S3Tokenizer
from model.voice.voice import Voice
from model.voice.voice_encoder import VoiceEncoder, trim_silence
from model.weights import read_state_dict

log = logging.getLogger(__name__)

S3_SR = 16000
S3GEN_SR = 24000
MIN_SECONDS = 3.0
T3_PROMPT_SECONDS = 6        # ENC_COND_LEN
GEN_PROMPT_SECONDS = 10      # DEC_COND_LEN
T3_PROMPT_TOKENS = 150
SPEAKER_MAX_SECONDS = 60    # beyond this the embedding gains nothing and the LSTM batch grows
SILENCE_PEAK = 1e-3          # below -60 dBFS peak the clip carries nothing usable


@dataclass
class VoiceModels:
    """The three networks a voice needs: VoiceEncoder, S3 tokenizer, CAMPPlus (on one device).

    Keep them in float32 (they are small; token parity with the official tokenizer was proven in fp32).
    """

    ve: VoiceEncoder
    tokenizer: S3Tokenizer
    campplus: CAMPPlus

    @classmethod
    def from_state_dicts(cls, ve_sd: dict, tokenizer_sd: dict, speaker_sd: dict, device: str | torch.device = "cpu",
                         source: str = "s3gen.safetensors") -> VoiceModels:
        """``tokenizer_sd``/``speaker_sd``: the ``tokenizer.*``/``speaker_encoder.*`` keys without prefix."""
        return cls(VoiceEncoder.from_state_dict(ve_sd, source="ve.safetensors").to(device),
                   S3Tokenizer.from_state_dict(tokenizer_sd, source=source).to(device),
                   CAMPPlus.from_state_dict(speaker_sd, source=source).to(device))

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device = "cpu") -> VoiceModels:
        """Read ``ve.safetensors`` and the voice keys of ``s3gen.safetensors`` (or ``ve.pt``/``s3gen.pt``)."""
        folder = Path(folder)
        ve_path = folder / "ve.safetensors" if (folder / "ve.safetensors").is_file() else folder / "ve.pt"
        s3_path = folder / "s3gen.safetensors" if (folder / "s3gen.safetensors").is_file() else folder / "s3gen.pt"
        ve_sd = read_state_dict(ve_path)
        tok, spk = read_voice_keys(s3_path)
        return cls.from_state_dicts(ve_sd, tok, spk, device, source=str(s3_path))

    @property
    def device(self) -> torch.device:
        return self.ve.proj.weight.device


def read_voice_keys(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The ``tokenizer.*`` and ``speaker_encoder.*`` sub-dicts of an S3Gen checkpoint (prefixes removed).

    For safetensors only those tensors are read, not the whole file.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        from model.errors import CheckpointError
        from model.weights import safetensors_header

        if not path.is_file():
            raise CheckpointError(f"checkpoint file not found: {path}")
        header = safetensors_header(path)
        wanted = [k for k in header if k.startswith(("tokenizer.", "speaker_encoder."))]
        try:
            with safe_open(str(path), framework="pt", device="cpu") as f:
                sd = {k: f.get_tensor(k) for k in wanted}
        except Exception as exc:  # noqa: BLE001 - the library raises several types for bad files
            raise CheckpointError(f"{path}: cannot read safetensors ({exc})") from None
    else:
        sd = read_state_dict(path)
    tok = {k[len("tokenizer."):]: v for k, v in sd.items() if k.startswith("tokenizer.")}
    spk = {k[len("speaker_encoder."):]: v for k, v in sd.items() if k.startswith("speaker_encoder.")}
    return tok, spk


def clip_tensor(wav: np.ndarray | torch.Tensor, sample_rate: int, min_seconds: float = MIN_SECONDS, *,
                longer_than: bool = False, need: str | None = None) -> torch.Tensor:
    """A reference clip checked (rate, mono, float, finite, long enough, not silent) as a float32 CPU tensor.

    ``longer_than`` makes ``min_seconds`` an exclusive bound; ``need`` words the too-short error."""
    if not isinstance(sample_rate, (int, np.integer)) or int(sample_rate) < 1000:
        raise VoiceError(f"sample rate {sample_rate!r} is not a usable audio rate")
    x = torch.as_tensor(np.asarray(wav) if not isinstance(wav, torch.Tensor) else wav)
    if x.dim() == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.dim() != 1:
        raise VoiceError(f"reference clip must be mono (1-D), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise VoiceError(f"reference clip must be float audio in [-1, 1], got dtype {x.dtype}")
    x = x.to(torch.float32).cpu()
    if not bool(torch.isfinite(x).all()):
        raise VoiceError("reference clip contains NaN or infinite samples")
    seconds = x.numel() / int(sample_rate)
    if seconds <= min_seconds if longer_than else seconds < min_seconds:
        need = need or f"at least {min_seconds:.0f} s are needed"
        raise VoiceError(f"reference clip is {seconds:.2f} s long; {need} (10 s or more of clean speech is best)")
    peak = float(x.abs().max())
    if peak < SILENCE_PEAK:
        raise VoiceError(f"reference clip is silent (peak {20 * math.log10(max(peak, 1e-12)):.0f} dBFS)")
    return x


@torch.inference_mode()
def prepare_voice(wav: np.ndarray | torch.Tensor, sample_rate: int, models: VoiceModels,
                  exaggeration: float = 0.5) -> Voice:
    """Mono float clip at ``sample_rate`` -> Voice (see the module docstring for the steps)."""
    x = clip_tensor(wav, sample_rate)
    dev = models.device
    seconds = x.numel() / int(sample_rate)
    ref24 = resample(x, int(sample_rate), S3GEN_SR, "hq")
    ref16 = resample(ref24, S3GEN_SR, S3_SR, "hq")
    if trim_silence(ref16).numel() < S3_SR:
        raise VoiceError("reference clip holds less than 1 s of sound above the silence threshold")

    # S3Gen reference: the first 10 s
    gen24 = ref24[: GEN_PROMPT_SECONDS * S3GEN_SR]
    if seconds > GEN_PROMPT_SECONDS:
        log.info("reference clip is %.1f s: S3Gen uses its first %d s, the speaker embedding all of it",
                 seconds, GEN_PROMPT_SECONDS)
    gen16 = resample(gen24[None], S3GEN_SR, S3_SR, "kaldi")[0]
    feat = prompt_mel(gen24.to(dev))                                          # (1, F, 80)
    xvec = models.campplus.xvector_of(gen16.to(dev))                          # (1, 192)
    gen_tokens = models.tokenizer.tokenize(gen16.to(dev))                     # (1, Tp)
    n = min(gen_tokens.shape[1], feat.shape[1] // 2)
    if feat.shape[1] != 2 * n or gen_tokens.shape[1] != n:
        log.info("prompt mel of %d frames and %d tokens reconciled to %d tokens / %d frames",
                 feat.shape[1], gen_tokens.shape[1], n, 2 * n)
    gen_tokens, feat = gen_tokens[:, :n].contiguous(), feat[:, : 2 * n].contiguous()
    ref = S3GenRef(prompt_token=gen_tokens, prompt_token_len=torch.tensor([n], device=dev),
                   prompt_feat=feat, prompt_feat_len=None, embedding=xvec)

    # T3 conditioning: prompt tokens of the first 6 s, speaker embedding of the whole clip
    if seconds > T3_PROMPT_SECONDS:
        log.info("T3 speech prompt uses the first %d s of the clip", T3_PROMPT_SECONDS)
    t3_tokens = models.tokenizer.tokenize(ref16[: T3_PROMPT_SECONDS * S3_SR].to(dev), max_tokens=T3_PROMPT_TOKENS)
    if seconds > SPEAKER_MAX_SECONDS:
        log.info("speaker embedding uses the first %d s of the clip", SPEAKER_MAX_SECONDS)
    spk = models.ve.embed(ref16[: SPEAKER_MAX_SECONDS * S3_SR].to(dev))
    emo = torch.full((1, 1, 1), float(exaggeration), device=dev)
    return Voice(speaker_emb=spk, cond_prompt_speech_tokens=t3_tokens, emotion_adv=emo, gen=ref)
