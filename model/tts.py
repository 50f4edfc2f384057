"""The end-to-end facade: load a checkpoint once, prepare or load a voice, synthesize batches of texts.

    tts = TTS.load("ResembleAI/chatterbox", device="auto")          # or a local checkpoint folder
    voice = tts.prepare_voice(wav, sample_rate)                      # or tts.builtin_voice() / Voice.load(path)
    wavs = tts.synthesize(texts, voice, SynthesisParams(), seeds)    # float32 mono 24 kHz, one per text
    takes = tts.synthesize_takes(texts, voice, params, seeds)        # the same, with token counts (Take)

``TTS.load(..., parts=("voice",))`` loads only what preparing voices needs (VoiceEncoder, S3 tokenizer,
CAMPPlus and the built-in voice: no T3, no flow, no vocoder), e.g. on CPU workers; such an instance refuses
to synthesize. ``parts=("synthesis",)`` is the converse (T3, S3Gen, text tokenizer, built-in voice);
``adopt_voice_networks(voice_only_tts)`` then gives it the voice networks another instance already loaded.

T3 decodes every text of a call with ``batch_size`` slots (continuous batching: a finished text's slot takes
the next one, longest first); S3Gen then runs padded, masked batches of at most ``batch_size`` (and
``S3GEN_ROWS``) texts of similar token counts. Every text's audio depends only on its own text, voice,
parameters and seed, never on its batch. The model knows texts and waveforms, nothing of files of books or jobs.

Runaway guard: T3 sometimes never samples its stop token and babbles until ``max_new_tokens`` (40 s at
1000), worst on short texts such as chapter titles. Each text's speech tokens are therefore capped by its
length, ``min(max_new_tokens, ceil(50 + tokens_per_char * characters))``; each text stops at its own cap
(``Take.hit_cap``), so the result never depends on the batch. A text that reaches its cap is logged as a
likely runaway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import DEFAULT_REPO, resolve_checkpoint
from model.device import configure_backends, require_cuda_for_compile, resolve_device, resolve_dtype
from model.errors import ModelError
from model.facade import PARTS, S3GEN_SEED_SALT, SAMPLE_RATE, FacadeVoices, Take, s3gen_groups
from model.generate import T3Params, clean_tokens, generate_raw, release_memory
from model.params import SynthesisParams
from model.s3gen import S3GenRuntime, load_s3gen
from model.t3 import T3Cond, load_t3
from model.tokenizer import TextTokenizer
from model.voice.prepare import VoiceModels, prepare_voice, read_voice_keys
from model.voice.voice import Voice
from model.watermark import Watermarker
from model.weights import read_state_dict

__all__ = ["TTS", "Take", "SynthesisParams", "Voice", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class _Tokens:
    codes: torch.Tensor  # cleaned speech codes for S3Gen
    sampled: int
    cap: int
    hit_cap: bool


class TTS(FacadeVoices):
    """One loaded Chatterbox: T3, S3Gen, the voice networks, the tokenizer and the built-in voice (or some of
    them: ``parts``)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, *, t3, s3gen, voice_models: VoiceModels | None, tokenizer: TextTokenizer | None,
                 builtin: Voice | None, model_id: str, device: torch.device, dtype: torch.dtype,
                 watermarker: Watermarker | None, default_batch_size: int = 8) -> None:
        self.t3, self.s3gen, self.voice_models, self.tokenizer = t3, s3gen, voice_models, tokenizer
        self._builtin = builtin
        self.model_id, self.device, self.dtype = model_id, device, dtype
        self.watermarker = watermarker
        self.default_batch_size = default_batch_size
        self.decode = T3Params()  # decoder switches (CUDA graph, stop checks); sampling comes from SynthesisParams

    @property
    def parts(self) -> tuple[str, ...]:
        """What this instance can do: "voice" (prepare voices) and/or "synthesis"."""
        return tuple(p for p, ok in (("voice", self.voice_models is not None),
                                     ("synthesis", self.t3 is not None and self.s3gen is not None)) if ok)

    @classmethod
    def load(cls, source: str | Path = DEFAULT_REPO, *, revision: str | None = None, device: str = "auto",
             dtype: str | None = None, watermark: bool = True, batch_size: int = 8,
             parts: tuple[str, ...] = PARTS, compile: bool = False) -> TTS:
        """Load from a local checkpoint folder or a Hugging Face repo id (pinned revision, cached).

        ``parts``: "voice" (VoiceEncoder, S3 tokenizer, CAMPPlus: only the ``tokenizer.*``/``speaker_encoder.*``
        tensors of the S3Gen file are read) and/or "synthesis" (T3, S3Gen, text tokenizer). Every part is
        loaded strictly; the built-in voice comes with either. ``compile`` (CUDA only) runs the decode step
        (``T3Params.compile``) and S3Gen's estimator (``S3GenRuntime.compile``) through torch.compile: minutes of
        compiling per process and shape; measured on an H200, T3 at one text 232 -> 330 tok/s and S3Gen at batch
        128 +29%. A Turbo source (``ResembleAI/chatterbox-turbo`` or a
        folder in its layout) loads ``model.turbo.tts.TurboTTS``, the same facade over the Turbo networks."""
        from model.turbo.checkpoint import is_turbo_source

        if is_turbo_source(source):
            from model.turbo.tts import TurboTTS

            return TurboTTS.load(source, revision=revision, device=device, dtype=dtype, watermark=watermark,
                                 batch_size=batch_size, parts=parts, compile=compile)
        parts = tuple(dict.fromkeys(parts))
        if not parts or any(p not in PARTS for p in parts):
            raise ModelError(f"parts must be a non-empty subset of {PARTS}, got {parts!r}")
        ck = resolve_checkpoint(source, revision)
        ck.require(*(["t3", "s3gen", "tokenizer"] if "synthesis" in parts else []),
                   *(["ve", "s3gen"] if "voice" in parts else []))
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        require_cuda_for_compile(compile, dev)
        configure_backends(dev)
        t3 = s3gen = tokenizer = voice_models = None
        if "synthesis" in parts:
            t3 = load_t3(ck.file("t3"), dev, dt)
            tokenizer = TextTokenizer(ck.file("tokenizer"))
            # S3Gen on CUDA: bf16 encoder/estimator with fp32 Euler state and HiFT, CUDA graphs (0.08% mel,
            # 45 dB waveform SNR from fp32); float32 elsewhere, and wherever the user asked for float32.
            rt = S3GenRuntime.for_device(dev, compile=compile, model_dtype=dt)
            s3gen, voice_parts = load_s3gen(ck.file("s3gen"), dev, rt)
            voice_sds = (voice_parts["tokenizer"], voice_parts["speaker_encoder"]) if "voice" in parts else None
            del voice_parts
        else:  # voice only: the tokenizer.* and speaker_encoder.* tensors, not flow and vocoder
            voice_sds = read_voice_keys(ck.file("s3gen"))
        if voice_sds is not None:
            voice_models = VoiceModels.from_state_dicts(read_state_dict(ck.file("ve")), *voice_sds, dev,
                                                        source=str(ck.file("s3gen")))
            del voice_sds
        builtin = Voice.load(ck.file("conds"), device=dev) if "conds" in ck.files else None
        # Also made for voice-only loads: the model identity (``+perth``) must not depend on the parts.
        wm = Watermarker.create() if watermark else None
        log.info("model %s loaded on %s (%s; %s)%s", ck.model_id, dev, dt, " and ".join(parts),
                 ", watermarking" if wm else "")
        tts = cls(t3=t3, s3gen=s3gen, voice_models=voice_models, tokenizer=tokenizer, builtin=builtin,
                  model_id=ck.model_id, device=dev, dtype=dt, watermarker=wm, default_batch_size=batch_size)
        tts.decode = T3Params(compile=compile)
        return tts

    # ----------------------------------------------------------------------------------------- voices
    def prepare_voice(self, wav: np.ndarray | torch.Tensor, sample_rate: int) -> Voice:
        """A reusable voice from a mono float clip at any sample rate (VoiceError for unusable clips)."""
        if self.voice_models is None:
            raise ModelError(f"model {self.model_id} was loaded without its voice networks (parts={self.parts}); "
                             "it cannot prepare voices from clips")
        return prepare_voice(wav, sample_rate, self.voice_models)

    # ------------------------------------------------------------------------------------- synthesis
    def synthesize_takes(self, texts: list[str], voice: Voice, params: SynthesisParams | None = None,
                         seeds: list[int] | None = None, *, batch_size: int | None = None) -> list[Take]:
        """One ``Take`` per text (audio, tokens sampled, cap, whether the cap was hit), in the order of ``texts``."""
        params = params or SynthesisParams()
        if self.t3 is None or self.s3gen is None:
            raise ModelError(f"model {self.model_id} was loaded for preparing voices only (parts={self.parts}); "
                             "load it with the synthesis part to synthesize")
        params.validate()
        seeds = [0] * len(texts) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != len(texts):
            raise ModelError(f"{len(seeds)} seeds for {len(texts)} texts")
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ModelError(f"text {i} is empty")
        batch_size = batch_size or self.default_batch_size
        if batch_size < 1:
            raise ModelError(f"batch size must be >= 1, got {batch_size}")
        voice = voice.to(self.device)
        ids = [torch.tensor(self.tokenizer.encode(t), dtype=torch.long) for t in texts]
        with torch.inference_mode():
            cond = T3Cond(speaker_emb=voice.speaker_emb, prompt_tokens=voice.cond_prompt_speech_tokens,
                          exaggeration=params.exaggeration)
            # T3 over every text at once: batch_size slots, a finished text's slot takes the next one
            tokens = self._speech_tokens(ids, texts, cond, params, seeds, slots=batch_size)
            # S3Gen in batches of similar token counts: less padding; results do not depend on the grouping
            waves: list[np.ndarray | None] = [None] * len(texts)
            for group in s3gen_groups([t.codes.numel() for t in tokens], min(batch_size, self.s3gen_rows)):
                for i, w in zip(group, self._waves([tokens[i] for i in group], voice, params,
                                                   [seeds[i] for i in group]), strict=True):
                    waves[i] = w
        return [Take(audio=w, tokens=t.sampled, token_cap=t.cap, hit_cap=t.hit_cap)
                for w, t in zip(waves, tokens, strict=True)]

    def _waves(self, tokens: list[_Tokens], voice: Voice, params: SynthesisParams, seeds: list[int]
               ) -> list[np.ndarray]:
        waves: list[np.ndarray | None] = [None] * len(tokens)
        live = [i for i, t in enumerate(tokens) if t.codes.numel() > 0]
        for i in range(len(tokens)):
            if i not in live:
                log.warning("T3 produced no speech tokens for a text (seed %d); it gets 0.2 s of silence", seeds[i])
                waves[i] = np.zeros(int(0.2 * SAMPLE_RATE), dtype=np.float32)
        if live:
            gens = [torch.Generator(device=self.s3gen.device).manual_seed((seeds[i] ^ S3GEN_SEED_SALT) & (2**63 - 1))
                    for i in live]
            wavs = self.s3gen.synthesize([tokens[i].codes for i in live], voice.gen, n_steps=params.n_flow_steps,
                                         cfg_rate=params.flow_cfg_rate, generators=gens)
            for i, w in zip(live, wavs, strict=True):
                x = w.float().cpu().numpy()
                waves[i] = self.watermarker.apply(x, SAMPLE_RATE) if self.watermarker else x
        return waves  # type: ignore[return-value]

    def _speech_tokens(self, ids: list[torch.Tensor], texts: list[str], cond: T3Cond, params: SynthesisParams,
                       seeds: list[int], slots: int | None = None) -> list[_Tokens]:
        """T3 with each text's runaway cap; a text's tokens are its first ``cap`` sampled ones whatever else
        shares its batch."""
        caps = [params.token_cap(t) for t in texts]
        raw = generate_raw(self.t3, ids, cond, params, seeds, self.decode, caps=caps, slots=slots)
        stop = self.t3.cfg.stop_speech
        out = []
        for i, cap in enumerate(caps):
            row = raw.row(i)
            hit_cap = not bool((row == stop).any())
            if hit_cap:
                words = " ".join(texts[i].split()[:6])
                log.warning("speech of %r... reached its cap of %d tokens (%.1f s) without stopping: likely a "
                            "runaway (seed %d)", words, cap, cap / 25, seeds[i])
            sampled = row.numel() if hit_cap else row.numel() - 1
            out.append(_Tokens(clean_tokens(row, self.t3.cfg), sampled, cap, hit_cap))
        return out

    def release(self) -> None:
        """Free per-job memory (allocator caches); the weights stay loaded."""
        release_memory(self.device)
