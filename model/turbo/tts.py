"""``TurboTTS``: the Turbo facade with the public surface of ``model.tts.TTS``.

    tts = TurboTTS.load("ResembleAI/chatterbox-turbo", device="auto")   # or a local folder in that layout
    voice = tts.prepare_voice(wav, sample_rate)                         # or tts.builtin_voice() / tts.load_voice(p)
    wavs = tts.synthesize(texts, voice, TurboParams(), seeds)           # float32 mono 24 kHz, one per text

Per call: the voice prefix [speaker | <= 375 prompt tokens] is encoded once; T3 decodes every text in
``batch_size`` slots (``model.turbo.generate``, no CFG; continuous batching: a finished text's slot takes the
next one, longest cap first); each text stops at its runaway cap, is cleaned and given three silence tokens;
the meanflow S3Gen (2 steps) renders the texts in token-sorted groups of at most ``batch_size`` and
``S3GEN_ROWS``; the Perth watermark is applied when available. A text's audio depends only on its text,
voice, parameters and seed. Texts reach the tokenizer as given: paralinguistic tags (``[laugh]`` ...) become their
tokens; strip them beforehand with ``model.turbo.tags.apply_tags(text, keep=False)`` when they are not wanted.
``params`` may be a ``TurboParams`` or the engine-wide ``SynthesisParams`` (mapped by
``TurboParams.from_synthesis``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from model.device import configure_backends, require_cuda_for_compile, resolve_device, resolve_dtype
from model.errors import ModelError
from model.facade import PARTS, S3GEN_SEED_SALT, SAMPLE_RATE, FacadeVoices, Take, s3gen_groups
from model.s3gen.load import load_s3gen
from model.turbo.checkpoint import TURBO_REPO, resolve_turbo_checkpoint
from model.turbo.generate import TurboDecodeParams, clean_tokens, generate_raw
from model.turbo.params import TurboParams
from model.turbo.t3 import TurboT3, load_turbo_t3
from model.turbo.tokenizer import TurboTokenizer
from model.turbo.voice import prepare_turbo_voice
from model.voice.prepare import VoiceModels
from model.voice.voice import Voice
from model.watermark import Watermarker
from model.weights import read_state_dict

__all__ = ["TurboTTS", "TurboParams", "Take", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

class TurboTTS(FacadeVoices):
    """One loaded Chatterbox-Turbo: T3, meanflow S3Gen, voice networks, tokenizer, built-in voice (or some of
    them: ``parts``)."""

    sample_rate = SAMPLE_RATE
    variant = "turbo"

    def __init__(self, *, t3: TurboT3 | None, s3gen, voice_models: VoiceModels | None,
                 tokenizer: TurboTokenizer | None, builtin: Voice | None, model_id: str, device: torch.device,
                 dtype: torch.dtype, watermarker: Watermarker | None, default_batch_size: int = 8) -> None:
        self.t3, self.s3gen, self.voice_models, self.tokenizer = t3, s3gen, voice_models, tokenizer
        self._builtin = builtin
        self.model_id, self.device, self.dtype = model_id, device, dtype
        self.watermarker = watermarker
        self.default_batch_size = default_batch_size

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p, ok in (("voice", self.voice_models is not None),
                                     ("synthesis", self.t3 is not None and self.s3gen is not None)) if ok)

    @property
    def tags(self) -> tuple[str, ...]:
        """The paralinguistic tags this checkpoint's tokenizer defines (empty without the synthesis part)."""
        return self.tokenizer.tags if self.tokenizer is not None else ()

    @classmethod
    def load(cls, source: str | Path = TURBO_REPO, *, revision: str | None = None, device: str = "auto",
             dtype: str | None = None, watermark: bool = True, batch_size: int = 8,
             parts: tuple[str, ...] = PARTS, compile: bool = False) -> TurboTTS:
        """Load a local Turbo folder or the Turbo repo (cached); every part strictly (see ``model.tts.TTS.load``).
        ``compile`` compiles S3Gen's estimator only: a compiled Turbo decode step measured no faster than its
        CUDA graph."""
        from model.voice.prepare import read_voice_keys

        parts = tuple(dict.fromkeys(parts))
        if not parts or any(p not in PARTS for p in parts):
            raise ModelError(f"parts must be a non-empty subset of {PARTS}, got {parts!r}")
        ck = resolve_turbo_checkpoint(source, revision)
        ck.require(*(["t3", "s3gen"] if "synthesis" in parts else []), *(["ve", "s3gen"] if "voice" in parts else []))
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        require_cuda_for_compile(compile, dev)
        configure_backends(dev)
        t3 = s3gen = tokenizer = voice_models = None
        if "synthesis" in parts:
            t3 = load_turbo_t3(ck.file("t3"), dev, dt)
            tokenizer = TurboTokenizer(ck.path)
            if tokenizer.vocab_size > t3.cfg.text_vocab:
                raise ModelError(f"{ck.path}: tokenizer of {tokenizer.vocab_size} ids for a T3 text table of "
                                 f"{t3.cfg.text_vocab}")
            # as for the original model: bf16 estimator/encoder with fp32 Euler state and HiFT on CUDA (meanflow
            # 2-step mel within 0.05% of fp32); float32 elsewhere and wherever the user asked for float32
            from model.s3gen import S3GenRuntime

            rt = S3GenRuntime.for_device(dev, compile=compile, model_dtype=dt)
            s3gen, voice_parts = load_s3gen(ck.file("s3gen"), dev, rt)
            if not s3gen.meanflow:
                raise ModelError(f"{ck.file('s3gen')}: not a meanflow S3Gen (no time_embed_mixer)")
            voice_sds = (voice_parts["tokenizer"], voice_parts["speaker_encoder"]) if "voice" in parts else None
            del voice_parts
        else:
            voice_sds = read_voice_keys(ck.file("s3gen"))
        if voice_sds is not None:
            voice_models = VoiceModels.from_state_dicts(read_state_dict(ck.file("ve")), *voice_sds, dev,
                                                        source=str(ck.file("s3gen")))
            del voice_sds
        builtin = Voice.load(ck.file("conds"), device=dev) if "conds" in ck.files else None
        wm = Watermarker.create() if watermark else None
        log.info("model %s loaded on %s (%s; %s)%s", ck.model_id, dev, dt, " and ".join(parts),
                 ", watermarking" if wm else "")
        return cls(t3=t3, s3gen=s3gen, voice_models=voice_models, tokenizer=tokenizer, builtin=builtin,
                   model_id=ck.model_id, device=dev, dtype=dt, watermarker=wm, default_batch_size=batch_size)

    # ----------------------------------------------------------------------------------------- voices
    def prepare_voice(self, wav: np.ndarray | torch.Tensor, sample_rate: int) -> Voice:
        """A reusable Turbo voice from a mono float clip longer than 5 s (VoiceError for unusable clips)."""
        if self.voice_models is None:
            raise ModelError(f"model {self.model_id} was loaded without its voice networks (parts={self.parts}); "
                             "it cannot prepare voices from clips")
        return prepare_turbo_voice(wav, sample_rate, self.voice_models)

    # ------------------------------------------------------------------------------------- synthesis
    def synthesize_takes(self, texts: list[str], voice: Voice, params=None, seeds: list[int] | None = None, *,
                         batch_size: int | None = None) -> list[Take]:
        """One ``Take`` per text (audio, tokens sampled, cap, whether the cap was hit), in text order."""
        if self.t3 is None or self.s3gen is None:
            raise ModelError(f"model {self.model_id} was loaded for preparing voices only (parts={self.parts}); "
                             "load it with the synthesis part to synthesize")
        p = TurboParams.from_synthesis(params) if params is not None else TurboParams()
        p.validate()
        seeds = [0] * len(texts) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != len(texts):
            raise ModelError(f"{len(seeds)} seeds for {len(texts)} texts")
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ModelError(f"text {i} is empty")
        batch_size = batch_size or self.default_batch_size
        if batch_size < 1:
            raise ModelError(f"batch size must be >= 1, got {batch_size}")
        n_prompt = voice.cond_prompt_speech_tokens.numel()
        if n_prompt > self.t3.cfg.prompt_len:
            raise ModelError(f"voice has a {n_prompt}-token speech prompt; Turbo takes at most "
                             f"{self.t3.cfg.prompt_len}")
        voice = voice.to(self.device)
        ids = [torch.tensor(self.tokenizer.encode(t), dtype=torch.long) for t in texts]
        with torch.inference_mode():
            cond = self.t3.encode_cond(voice.speaker_emb, voice.cond_prompt_speech_tokens)  # (1, 1 + P, D)
            # T3 over every text at once: batch_size slots, a finished text's slot takes the next one
            tokens, sampled, caps = self._speech_tokens(ids, texts, cond, p, seeds, slots=batch_size)
            waves: list[np.ndarray | None] = [None] * len(texts)
            # S3Gen in batches of similar token counts: less padding; results do not depend on the grouping
            for group in s3gen_groups([t.numel() for t in tokens], min(batch_size, self.s3gen_rows)):
                gens = [torch.Generator(device=self.s3gen.device).manual_seed((seeds[i] ^ S3GEN_SEED_SALT)
                                                                              & (2**63 - 1)) for i in group]
                made = self.s3gen.synthesize([tokens[i] for i in group], voice.gen, n_steps=p.n_flow_steps,
                                             generators=gens)
                for i, w in zip(group, made, strict=True):    # to the host per group: GPU memory stays flat
                    x = w.float().cpu().numpy()
                    waves[i] = self.watermarker.apply(x, SAMPLE_RATE) if self.watermarker else x
        return [Take(w, n, cap, n >= cap) for w, n, cap in zip(waves, sampled, caps, strict=True)]

    def _speech_tokens(self, ids: list[torch.Tensor], texts: list[str], cond: torch.Tensor, p: TurboParams,
                       seeds: list[int], slots: int) -> tuple[list[torch.Tensor], list[int], list[int]]:
        """T3 with each text's runaway cap, in ``slots`` slots. Returns the S3Gen-ready tokens, the tokens
        sampled before the stop token, and the caps."""
        caps = [p.token_cap(t) for t in texts]
        decode = TurboDecodeParams(temperature=p.temperature, top_k=p.top_k, top_p=p.top_p,
                                   repetition_penalty=p.repetition_penalty, max_new_tokens=max(caps))
        raw = generate_raw(self.t3, ids, cond, decode, seeds, caps=caps, slots=slots)
        stop = self.t3.cfg.stop_speech
        out, sampled = [], []
        for i, cap in enumerate(caps):
            row = raw.tokens[i, :cap]
            stops = (row == stop).nonzero()
            sampled.append(int(stops[0, 0]) if stops.numel() else cap)
            if not stops.numel():
                words = " ".join(texts[i].split()[:6])
                log.warning("speech of %r... reached its cap of %d tokens (%.1f s) without stopping: likely a "
                            "runaway (seed %d)", words, cap, cap / 25, seeds[i])
            out.append(clean_tokens(row, self.t3.cfg))
        return out, sampled, caps

    def release(self) -> None:
        """Free per-job memory (allocator caches); the weights stay loaded."""
        import gc

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()
