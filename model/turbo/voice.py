"""A reference clip -> a Turbo ``Voice`` (the official ``ChatterboxTurboTTS.prepare_conditionals``, §5.1).

Differences from the original model's preparation (``model.voice.prepare``): the clip must be longer than
5 s; it is loudness-normalised to -27 LUFS first (BS.1770, ``model.turbo.loudness``; skipped when its
loudness is not finite); and the T3 prompt is the S3 tokens of the first 15 s at 16 kHz, at most 375.
Everything else is shared: 24 kHz and 16 kHz audio by the ``hq`` resampler, the S3Gen reference from the
first 10 s (prompt mel, CAMPPlus x-vector and prompt tokens through the ``kaldi`` resampler, mel frames made
exactly 2 x tokens), the VoiceEncoder embedding of the whole 16 kHz clip (up to 60 s). The result is an
ordinary ``Voice`` in the official ``conds.pt`` layout.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from model.errors import VoiceError
from model.s3gen.ref import S3GenRef
from model.turbo.loudness import TARGET_LUFS, normalize_loudness
from model.voice.mel24 import prompt_mel
from model.voice.prepare import VoiceModels, clip_tensor
from model.voice.resample import resample
from model.voice.voice import Voice
from model.voice.voice_encoder import trim_silence

log = logging.getLogger(__name__)

S3_SR, S3GEN_SR = 16000, 24000
MIN_SECONDS = 5.0           # the official Turbo path asserts a longer clip
T3_PROMPT_SECONDS = 15      # ENC_COND_LEN of Turbo
T3_PROMPT_TOKENS = 375
GEN_PROMPT_SECONDS = 10     # DEC_COND_LEN
SPEAKER_MAX_SECONDS = 60


@torch.inference_mode()
def prepare_turbo_voice(wav: np.ndarray | torch.Tensor, sample_rate: int, models: VoiceModels,
                        normalize: bool = True) -> Voice:
    """Mono float clip at ``sample_rate`` -> Voice for Turbo (see the module docstring)."""
    x = clip_tensor(wav, sample_rate, MIN_SECONDS, longer_than=True,
                    need=f"Turbo needs more than {MIN_SECONDS:.0f} s")
    dev = models.device
    ref24 = resample(x, int(sample_rate), S3GEN_SR, "hq")
    if normalize:
        scaled, gain = normalize_loudness(ref24.numpy(), S3GEN_SR)
        log.info("reference loudness normalised to %.0f LUFS (gain %.2f)", TARGET_LUFS, gain)
        ref24 = torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32))
    ref16 = resample(ref24, S3GEN_SR, S3_SR, "hq")
    if trim_silence(ref16).numel() < S3_SR:
        raise VoiceError("reference clip holds less than 1 s of sound above the silence threshold")

    gen24 = ref24[: GEN_PROMPT_SECONDS * S3GEN_SR]
    gen16 = resample(gen24[None], S3GEN_SR, S3_SR, "kaldi")[0]
    feat = prompt_mel(gen24.to(dev))                                          # (1, F, 80)
    xvec = models.campplus.xvector_of(gen16.to(dev))                          # (1, 192)
    gen_tokens = models.tokenizer.tokenize(gen16.to(dev))                     # (1, Tp)
    n = min(gen_tokens.shape[1], feat.shape[1] // 2)
    gen_tokens, feat = gen_tokens[:, :n].contiguous(), feat[:, : 2 * n].contiguous()
    ref = S3GenRef(prompt_token=gen_tokens, prompt_token_len=torch.tensor([n], device=dev),
                   prompt_feat=feat, prompt_feat_len=None, embedding=xvec)

    t3_tokens = models.tokenizer.tokenize(ref16[: T3_PROMPT_SECONDS * S3_SR].to(dev), max_tokens=T3_PROMPT_TOKENS)
    spk = models.ve.embed(ref16[: SPEAKER_MAX_SECONDS * S3_SR].to(dev))
    emo = torch.full((1, 1, 1), 0.5, device=dev)  # stored for the conds.pt layout; Turbo ignores it
    return Voice(speaker_emb=spk, cond_prompt_speech_tokens=t3_tokens, emotion_adv=emo, gen=ref)
