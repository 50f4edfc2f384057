"""S3Gen: speech tokens (25 Hz) + one voice reference -> 24 kHz waveforms, batched over ragged rows.

``synthesize`` pads a list of token sequences into one batch, runs flow (encoder + CFM) and HiFT once,
and cuts each row to its true length: 960 samples per token. Each row's randomness comes from its
own generator, in the official draw order (CFM noise, then the source phases and noise), so a row
gives the same waveform alone or in any batch, and equals the official output for the same seed.

``runtime`` (``S3GenRuntime``, set at load or by ``use``) chooses the compute precision, the compiled
estimator and CUDA graphs; the default is float32 eager, the official numerics.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from model.errors import ModelError
from model.s3gen.config import MEL_BINS, SAMPLE_RATE, TOKEN_MEL_RATIO, S3GenConfig
from model.s3gen.flow import Flow
from model.s3gen.hift import HiFT
from model.s3gen.ref import S3GenRef
from model.s3gen.runtime import S3GenRuntime

log = logging.getLogger(__name__)

TRIM_SAMPLES = SAMPLE_RATE // 50        # 20 ms of silence, then a 20 ms raised-cosine fade-in


def trim_fade(device: torch.device) -> torch.Tensor:
    """``(960,)``: 480 zeros, then (cos(linspace(π, 0, 480)) + 1) / 2."""
    n = TRIM_SAMPLES
    w = torch.zeros(2 * n, device=device)
    w[n:] = (torch.cos(torch.linspace(torch.pi, 0, n, device=device)) + 1) / 2
    return w


class S3Gen(nn.Module):
    """Flow (``flow.*``) and vocoder (``mel2wav.*``) under their official key names.

    ``flow.encoder_rows`` and ``vocoder_rows`` bound how many rows the encoder and HiFT take per pass
    (their activations grow with T² and with 480·T); the CFM runs the whole batch at once.
    """

    def __init__(self, cfg: S3GenConfig):
        super().__init__()
        self.cfg = cfg
        self.flow = Flow(cfg)
        self.mel2wav = HiFT(cfg.hift, MEL_BINS)
        self.vocoder_rows = 16       # rows per HiFT pass (~0.5 GB of activations per 20 s row)
        self.runtime = S3GenRuntime()

    def use(self, runtime: S3GenRuntime) -> S3Gen:
        """Run with ``runtime`` from now on (precision, compile, CUDA graphs); ModelError if the device can't."""
        runtime.validate(self.device)
        self.runtime = runtime
        self.flow.use(runtime)
        self.mel2wav.use_fused(runtime.fused_vocoder)
        return self

    def release(self) -> None:
        """Drop captured CUDA graphs and their memory pool (they are captured again when next needed)."""
        self.flow.graphs.clear()

    @classmethod
    def from_state_dict(cls, sd: Mapping[str, torch.Tensor], device: torch.device | str = "cpu",
                        runtime: S3GenRuntime | torch.dtype | None = None, source: str = "s3gen") -> S3Gen:
        """Build from an S3Gen state dict, strictly for ``flow.*``/``mel2wav.*`` (``runtime`` as in ``load_s3gen``).

        ``tokenizer.*`` and ``speaker_encoder.*`` keys, if present, are left to ``model.voice``
        (``load.split_s3gen_state_dict`` hands them over); any other key is an error.
        """
        from model.s3gen.load import load_s3gen_modules, split_s3gen_state_dict
        return load_s3gen_modules(split_s3gen_state_dict(sd)["s3gen"], torch.device(device), runtime, source)

    @property
    def device(self) -> torch.device:
        return self.flow.input_embedding.weight.device

    @property
    def meanflow(self) -> bool:
        return self.cfg.estimator.meanflow

    def _check(self, tokens: Sequence[torch.Tensor], ref: S3GenRef) -> None:
        if not tokens:
            raise ModelError("S3Gen.synthesize got an empty list of token sequences")
        for i, t in enumerate(tokens):
            if t.dim() != 1 or t.numel() == 0:
                raise ModelError(f"token sequence {i} must be a non-empty 1-D tensor, got shape {tuple(t.shape)}")
            if t.dtype.is_floating_point:
                raise ModelError(f"token sequence {i} has dtype {t.dtype}, expected integer ids")
        lo, hi = torch.aminmax(torch.cat([t.reshape(-1).to(tokens[0].device) for t in tokens]))
        lo, hi = int(lo), int(hi)          # the call's one host sync: every row checked at once
        if lo < 0 or hi >= self.cfg.vocab:
            bad = next(i for i, t in enumerate(tokens) if int(t.min()) < 0 or int(t.max()) >= self.cfg.vocab)
            raise ModelError(f"token sequence {bad} has id {hi if hi >= self.cfg.vocab else lo} "
                             f"outside the speech vocabulary 0..{self.cfg.vocab - 1}")
        if ref.embedding.numel() != self.cfg.spk_dim:
            raise ModelError(f"voice x-vector has {ref.embedding.numel()} values, S3Gen expects {self.cfg.spk_dim}")
        if ref.prompt_feat.dim() != 3 or ref.prompt_feat.shape[-1] != MEL_BINS:
            raise ModelError(f"voice prompt mel has shape {tuple(ref.prompt_feat.shape)}, expected (1, F, {MEL_BINS})")
        if ref.prompt_token.dim() != 2 or ref.n_prompt_frames > TOKEN_MEL_RATIO * ref.n_prompt_tokens + 1:
            raise ModelError(f"voice prompt has {ref.n_prompt_frames} mel frames for {ref.n_prompt_tokens} tokens "
                             f"(expected {TOKEN_MEL_RATIO} frames per token)")

    def draw_noise(self, lengths: Sequence[int], ref: S3GenRef,
                   generators: Sequence[torch.Generator | None]) -> torch.Tensor:
        """The padded CFM start noise ``(B, 80, 2L)``: row i drawn from its generator at its own length."""
        n_prompt = ref.prompt_token.shape[1]
        width = TOKEN_MEL_RATIO * (n_prompt + max(lengths))
        z = torch.zeros(len(lengths), MEL_BINS, width, device=self.device)
        for i, (n, g) in enumerate(zip(lengths, generators, strict=True)):
            dev = g.device if g is not None else self.device
            frames = TOKEN_MEL_RATIO * (n_prompt + n)
            if self.meanflow:   # official order: the generated part first, then the whole
                tail = torch.randn((1, MEL_BINS, TOKEN_MEL_RATIO * n), generator=g, device=dev)
                row = torch.randn((1, MEL_BINS, frames), generator=g, device=dev)
                row[..., frames - tail.shape[-1]:] = tail
            else:
                row = torch.randn((1, MEL_BINS, frames), generator=g, device=dev)
            z[i, :, :frames] = row[0].to(self.device)
        return z

    @torch.inference_mode()
    def tokens_to_mels(self, tokens: Sequence[torch.Tensor], ref: S3GenRef, *, n_steps: int | None = None,
                       cfg_rate: float = 0.7, generators: Sequence[torch.Generator | None] | None = None,
                       noise: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Mels ``(80, 2·N_i)`` float32; ``noise`` (padded ``(B, 80, 2L)``) overrides the generators."""
        self._check(tokens, ref)
        n_steps = n_steps or (2 if self.meanflow else 10)
        generators = list(generators) if generators is not None else [None] * len(tokens)
        if len(generators) != len(tokens):
            raise ModelError(f"{len(generators)} generators for {len(tokens)} token sequences")
        lengths = [int(t.numel()) for t in tokens]
        padded = torch.zeros(len(tokens), max(lengths), dtype=torch.long, device=self.device)
        for i, t in enumerate(tokens):
            padded[i, :lengths[i]] = t.to(self.device)
        if noise is None:
            noise = self.draw_noise(lengths, ref, generators)
        return self.flow(padded, lengths, ref, noise.to(self.device), n_steps, cfg_rate)

    @torch.inference_mode()
    def vocode(self, mels: Sequence[torch.Tensor], generators: Sequence[torch.Generator | None] | None = None,
               fade: bool = True) -> list[torch.Tensor]:
        """Mels ``(80, T_i)`` -> waveforms ``(480·T_i,)`` float32 at 24 kHz, with the official trim/fade."""
        generators = list(generators) if generators is not None else [None] * len(mels)
        n = self.vocoder_rows
        dt = self.runtime.vocoder_dtype
        wavs = [w for i in range(0, len(mels), n)      # groups of rows bound HiFT's (B, C, 480T/4) activations
                for w in self.mel2wav(list(mels[i:i + n]), generators[i:i + n], dt)]
        if fade:
            w = trim_fade(self.device)
            wavs = [torch.cat([x[:w.numel()] * w[:x.numel()], x[w.numel():]]) for x in wavs]
        return wavs

    @torch.inference_mode()
    def synthesize(self, tokens: Sequence[torch.Tensor], ref: S3GenRef, *, n_steps: int | None = None,
                   cfg_rate: float = 0.7, generators: Sequence[torch.Generator | None] | None = None,
                   noise: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Token sequences (one voice) -> 24 kHz float32 waveforms ``(960·N_i,)``, one per sequence."""
        generators = list(generators) if generators is not None else [None] * len(tokens)
        mels = self.tokens_to_mels(tokens, ref, n_steps=n_steps, cfg_rate=cfg_rate, generators=generators,
                                   noise=noise)
        return self.vocode(mels, generators)
