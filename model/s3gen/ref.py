"""The S3Gen reference: everything S3Gen needs to know about a voice (the official ``ref_dict`` fields).

Produced by the voice preparation (``model.voice``) or read from ``conds.pt["gen"]``; consumed by
``S3Gen.synthesize``. Shapes (Tp prompt tokens, F prompt mel frames, normally F = 2·Tp):

* ``prompt_token``     (1, Tp) int64 S3 speech tokens of the reference clip
* ``prompt_token_len`` (1,) int64, = Tp
* ``prompt_feat``      (1, F, 80) float 24 kHz log-mel of the reference clip (50 frames/s)
* ``prompt_feat_len``  (1,) int64 or None (the official code stores None)
* ``embedding``        (1, 192) float CAMPPlus x-vector
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class S3GenRef:
    """One voice's conditioning for S3Gen (frozen: S3Gen never mutates it)."""

    prompt_token: torch.Tensor
    prompt_token_len: torch.Tensor
    prompt_feat: torch.Tensor
    prompt_feat_len: torch.Tensor | None
    embedding: torch.Tensor

    @classmethod
    def from_dict(cls, d: dict) -> S3GenRef:
        """From an official ``ref_dict`` (e.g. ``conds.pt["gen"]``); missing lengths are derived."""
        tok = torch.as_tensor(d["prompt_token"]).long()
        tok = tok if tok.dim() == 2 else tok.reshape(1, -1)
        feat = torch.as_tensor(d["prompt_feat"]).float()
        feat = feat if feat.dim() == 3 else feat.unsqueeze(0)
        tlen = d.get("prompt_token_len")
        tlen = torch.tensor([tok.shape[1]]) if tlen is None else torch.as_tensor(tlen).long().reshape(1)
        flen = d.get("prompt_feat_len")
        flen = None if flen is None else torch.as_tensor(flen).long().reshape(1)
        emb = torch.as_tensor(d["embedding"]).float().reshape(1, -1)
        return cls(tok, tlen, feat, flen, emb)

    def to_dict(self) -> dict:
        """The official ``ref_dict`` layout (for ``conds.pt["gen"]``)."""
        return {"prompt_token": self.prompt_token, "prompt_token_len": self.prompt_token_len,
                "prompt_feat": self.prompt_feat, "prompt_feat_len": self.prompt_feat_len,
                "embedding": self.embedding}

    def to(self, device: torch.device | str) -> S3GenRef:
        """A copy on ``device`` (dtypes kept)."""
        def mv(t):
            return None if t is None else t.to(device)
        return S3GenRef(mv(self.prompt_token), mv(self.prompt_token_len), mv(self.prompt_feat),
                        mv(self.prompt_feat_len), mv(self.embedding))

    @property
    def n_prompt_tokens(self) -> int:
        return int(self.prompt_token.shape[1])

    @property
    def n_prompt_frames(self) -> int:
        return int(self.prompt_feat.shape[1])
