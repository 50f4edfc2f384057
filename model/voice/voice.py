"""``Voice``: everything a reference clip contributes to synthesis, saved in the official ``conds.pt`` layout.

T3 fields (§5.7): ``speaker_emb`` (1, 256) VoiceEncoder embedding, ``cond_prompt_speech_tokens`` (1, <=150)
S3 tokens of the first 6 s, ``emotion_adv`` (1, 1, 1) exaggeration. S3Gen fields: ``gen``, an ``S3GenRef``.

On disk: ``torch.save({"t3": {speaker_emb, clap_emb=None, cond_prompt_speech_tokens,
cond_prompt_speech_emb=None, emotion_adv}, "gen": {prompt_token, prompt_token_len, prompt_feat,
prompt_feat_len, embedding}})`` — loadable with ``weights_only=True``, so the official ``conds.pt`` loads as a
Voice and a saved Voice loads in the official ``Conditionals.load``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from model.errors import VoiceError
from model.s3gen.ref import S3GenRef

log = logging.getLogger(__name__)

T3_KEYS = ("speaker_emb", "clap_emb", "cond_prompt_speech_tokens", "cond_prompt_speech_emb", "emotion_adv")
GEN_KEYS = ("prompt_token", "prompt_token_len", "prompt_feat", "prompt_feat_len", "embedding")


@dataclass(frozen=True)
class Voice:
    speaker_emb: torch.Tensor                 # (1, 256) float
    cond_prompt_speech_tokens: torch.Tensor   # (1, P) int64, P <= 150
    emotion_adv: torch.Tensor                 # (1, 1, 1) float
    gen: S3GenRef

    @property
    def exaggeration(self) -> float:
        return float(self.emotion_adv.reshape(-1)[0])

    def with_exaggeration(self, value: float) -> Voice:
        """The same voice with another exaggeration (only ``emotion_adv`` changes)."""
        return replace(self, emotion_adv=torch.full((1, 1, 1), float(value), dtype=self.emotion_adv.dtype,
                                                    device=self.emotion_adv.device))

    @property
    def key(self) -> str:
        """Content hash (hex, 16 chars) over every tensor's dtype, shape and bytes; stable across devices."""
        h = hashlib.sha256()
        tensors = [self.speaker_emb, self.cond_prompt_speech_tokens, self.emotion_adv,
                   *(self.gen.to_dict()[k] for k in GEN_KEYS)]
        for t in tensors:
            if t is None:
                h.update(b"none")
                continue
            t = t.detach().to("cpu").contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:16]

    def to(self, device: torch.device | str) -> Voice:
        return Voice(self.speaker_emb.to(device), self.cond_prompt_speech_tokens.to(device),
                     self.emotion_adv.to(device), self.gen.to(device))

    def to_conds(self) -> dict:
        """The official ``conds.pt`` dict (CPU tensors)."""
        cpu = self.to("cpu")
        return {"t3": {"speaker_emb": cpu.speaker_emb, "clap_emb": None,
                       "cond_prompt_speech_tokens": cpu.cond_prompt_speech_tokens,
                       "cond_prompt_speech_emb": None, "emotion_adv": cpu.emotion_adv},
                "gen": cpu.gen.to_dict()}

    def save(self, path: str | Path) -> None:
        torch.save(self.to_conds(), Path(path))

    @classmethod
    def from_conds(cls, d: object, source: str = "voice") -> Voice:
        """Validate an official ``{"t3": ..., "gen": ...}`` dict and build a Voice (VoiceError if unusable)."""
        if not isinstance(d, dict) or not isinstance(d.get("t3"), dict) or not isinstance(d.get("gen"), dict):
            raise VoiceError(f"{source}: not a voice file (expected a dict with 't3' and 'gen' entries)")
        t3, gen = d["t3"], d["gen"]
        for k in ("speaker_emb", "cond_prompt_speech_tokens"):
            if not isinstance(t3.get(k), torch.Tensor):
                raise VoiceError(f"{source}: voice file lacks t3.{k}")
        for k in ("prompt_token", "prompt_feat", "embedding"):
            if not isinstance(gen.get(k), torch.Tensor):
                raise VoiceError(f"{source}: voice file lacks gen.{k}")
        if t3.get("clap_emb") is not None:
            raise VoiceError(f"{source}: t3.clap_emb must be None")
        spk = t3["speaker_emb"].float().reshape(1, -1)
        toks = t3["cond_prompt_speech_tokens"].long()
        toks = toks.reshape(1, -1)
        emo = t3.get("emotion_adv")
        emo = torch.full((1, 1, 1), 0.5) if emo is None else torch.as_tensor(emo, dtype=torch.float32).reshape(1, 1, 1)
        ref = S3GenRef.from_dict(gen)
        if ref.prompt_feat.dim() != 3 or ref.prompt_feat.shape[-1] != 80:
            raise VoiceError(f"{source}: gen.prompt_feat has shape {tuple(ref.prompt_feat.shape)}, expected (1, F, 80)")
        if toks.numel() and (int(toks.min()) < 0 or int(toks.max()) > 6560):
            raise VoiceError(f"{source}: t3 prompt tokens outside 0..6560")
        if ref.prompt_token.numel() and (int(ref.prompt_token.min()) < 0 or int(ref.prompt_token.max()) > 6560):
            raise VoiceError(f"{source}: gen prompt tokens outside 0..6560")
        return cls(spk, toks, emo, _even_prompt(ref, source))

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str = "cpu") -> Voice:
        """Read a voice file (ours or an official ``conds.pt``); any problem is a one-line VoiceError."""
        path = Path(path)
        if not path.is_file():
            raise VoiceError(f"voice file not found: {path}")
        try:
            d = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - zip, pickle and unpickler errors alike
            raise VoiceError(f"{path}: not a voice file ({type(exc).__name__})") from None
        return cls.from_conds(d, source=str(path)).to(device)


def _even_prompt(ref: S3GenRef, source: str) -> S3GenRef:
    """Make prompt mel frames exactly 2 x prompt tokens (an odd official prompt shifts S3Gen's output)."""
    n = min(ref.n_prompt_tokens, ref.n_prompt_frames // 2)
    if ref.n_prompt_tokens == n and ref.n_prompt_frames == 2 * n:
        return ref
    log.info("%s: prompt of %d tokens / %d mel frames trimmed to %d / %d", source, ref.n_prompt_tokens,
             ref.n_prompt_frames, n, 2 * n)
    flen = None if ref.prompt_feat_len is None else torch.full_like(ref.prompt_feat_len, 2 * n)
    return S3GenRef(ref.prompt_token[:, :n].contiguous(), torch.full_like(ref.prompt_token_len, n),
                    ref.prompt_feat[:, : 2 * n].contiguous(), flen, ref.embedding)
