"""Speech tokens -> 80-bin mel (``flow``): embedding, speaker projection, encoder, prompt-mel conditioning, CFM.

Legend: B rows, Tp prompt tokens, N_i generated tokens of row i, L = max_i(Tp + N_i), F prompt mel
frames (normally 2·Tp), M mel bins (80), D encoder width (512).

Each row is ``[prompt tokens | row tokens | padding]`` (one shared voice). The encoder gives 2L
frames; ``cond`` holds the prompt mel in its first F frames; the CFM mel is cut after the prompt:
row i keeps frames ``F : 2(Tp + N_i)``.

Precision and speed follow ``runtime`` (``S3GenRuntime``): the encoder runs under autocast to the compute
dtype, mu/cond/spks enter the CFM as float32, and small calls replay the Euler loop from CUDA graphs.

What the shared voice prompt allows to compute once per call (exactly): its token ids, the speaker projection
``spks`` (one (1, M) row expanded) and the conditioning mel ``cond``. Everything the encoder's and the
estimator's attention touches cannot be shared: both attend over prompt and new frames together, in both
directions, so the prompt frames' activations depend on each row's tokens (and change at every Euler step).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from model.s3gen.cfm import FlowMatching
from model.s3gen.config import MEL_BINS, TOKEN_MEL_RATIO, S3GenConfig
from model.s3gen.encoder import UpsampleEncoder
from model.s3gen.graphs import SolveGraphs
from model.s3gen.ref import S3GenRef
from model.s3gen.runtime import S3GenRuntime, autocast


class Flow(nn.Module):
    def __init__(self, cfg: S3GenConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.encoder.d_model
        self.input_embedding = nn.Embedding(cfg.vocab, d)
        self.spk_embed_affine_layer = nn.Linear(cfg.spk_dim, MEL_BINS)
        self.encoder = UpsampleEncoder(cfg.encoder)
        self.encoder_proj = nn.Linear(d, MEL_BINS)
        self.decoder = FlowMatching(cfg.estimator, MEL_BINS)
        self.encoder_rows = 16
        self.use(S3GenRuntime())

    @property
    def dtype(self) -> torch.dtype:
        """The weights' dtype (float32; the compute precision is ``runtime.compute_dtype``)."""
        return self.input_embedding.weight.dtype

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor, ref: S3GenRef
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Row tokens ``(B, Nmax)`` (padded) -> mu ``(B, M, 2L)`` and the frame mask ``(B, 1, 2L)`` float."""
        B = tokens.shape[0]
        prompt = ref.prompt_token.to(tokens.device).long().expand(B, -1)
        full = torch.cat([prompt, tokens], dim=1)                                   # (B, L)
        lens = lengths + prompt.shape[1]
        tmask = torch.arange(full.shape[1], device=full.device)[None, :] < lens[:, None]
        mus, masks = [], []
        for i in range(0, B, self.encoder_rows):     # rows are independent; groups bound the (T, 2T) scores
            sl = slice(i, i + self.encoder_rows)
            x = self.input_embedding(full[sl]) * tmask[sl, :, None].to(self.dtype)   # (b, L, D)
            h, hmask = self.encoder(x, lens[sl])                                     # (b, 2L, D)
            mus.append(self.encoder_proj(h).transpose(1, 2))                         # (b, M, 2L)
            masks.append(hmask[:, None, :])
        mu = torch.cat(mus)
        return mu, torch.cat(masks).to(mu.dtype)

    def speaker(self, ref: S3GenRef, B: int, device: torch.device) -> torch.Tensor:
        emb = ref.embedding.to(device=device, dtype=self.dtype).reshape(1, -1)
        return self.spk_embed_affine_layer(F.normalize(emb, dim=1)).expand(B, -1)   # (B, M)

    def use(self, runtime: S3GenRuntime) -> None:
        """Adopt ``runtime`` (precision, compiled estimator, CUDA graphs); drops captured graphs.

        Under a bf16/fp16 compute dtype the matmul weights of the encoder and the estimator are held in that
        dtype: autocast would cast them (identically) on every call, a kernel per weight and per bias, about
        half of an estimator evaluation's kernels. The float32 originals are kept and come back with a
        float32 runtime.
        """
        self.runtime = runtime
        self.graphs = SolveGraphs(runtime.frame_bucket, runtime.max_graphs)
        self._matmul_weights(runtime.compute_dtype)
        est = self.decoder.estimator
        # a function, not a module attribute: the compiled wrapper must not join the state dict
        self.decoder.compiled = torch.compile(est.forward, dynamic=True) if runtime.compile else None

    def _matmul_weights(self, dtype: torch.dtype) -> None:
        """Linear and Conv1d weights/biases that run only under autocast: held in ``dtype`` (fp32 kept aside)."""
        masters = self.__dict__.setdefault("_fp32_weights", {})     # plain dict: not in the state dict
        parts = {"encoder": self.encoder, "encoder_proj": self.encoder_proj, "decoder": self.decoder}
        with torch.inference_mode(False), torch.no_grad():
            for prefix, part in parts.items():
                for name, m in part.named_modules(prefix=prefix):
                    if not isinstance(m, (nn.Linear, nn.Conv1d)):
                        continue
                    for attr in ("weight", "bias"):
                        p = getattr(m, attr)
                        if p is None or p.is_meta:
                            continue
                        key = f"{name}.{attr}"
                        if dtype == torch.float32:
                            if key in masters:
                                p.data = masters.pop(key)
                        else:
                            master = masters.setdefault(key, p.data)
                            p.data = master.to(dtype)

    def forward(self, tokens: torch.Tensor, lengths: list[int], ref: S3GenRef, noise: torch.Tensor,
                n_steps: int, cfg_rate: float) -> list[torch.Tensor]:
        """Padded tokens, host row lengths and the padded noise ``(B, M, 2L)`` -> float32 mels ``(M, 2·N_i)``."""
        B = tokens.shape[0]
        rt = self.runtime
        lens = torch.tensor(lengths).to(tokens.device, non_blocking=True)
        with autocast(tokens.device, rt.compute_dtype):
            mu, mask = self.encode(tokens, lens, ref)
        mu, mask = mu.float(), mask.float()
        spks = self.speaker(ref, B, mu.device).float()
        n_prompt = ref.prompt_feat.shape[1]
        cond = torch.zeros_like(mu)
        cond[:, :, :n_prompt] = ref.prompt_feat.to(device=mu.device, dtype=mu.dtype).transpose(1, 2)
        padded = min(lengths) != max(lengths)
        if rt.cuda_graphs and B <= rt.graph_rows:
            padded = padded or self.graphs.bucketed(mu.shape[-1]) != mu.shape[-1]
            solve = partial(self.decoder.solve, n_steps=n_steps, cfg_rate=cfg_rate, compute_dtype=rt.compute_dtype,
                            padded=padded)
            mel = self.graphs.run(solve, (n_steps, cfg_rate, rt.compute_dtype, padded), noise, mask, mu, spks, cond)
        else:
            mel = self.decoder.solve(noise, mask, mu, spks, cond, n_steps, cfg_rate, compute_dtype=rt.compute_dtype,
                                     padded=padded)
        Tp = ref.prompt_token.shape[1]
        return [mel[i, :, n_prompt:TOKEN_MEL_RATIO * (Tp + n)] for i, n in enumerate(lengths)]
