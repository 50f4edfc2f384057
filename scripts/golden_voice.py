"""Write the voice-preparation golden files from the official chatterbox-tts package.

Run beside the official package (a throwaway venv), from the repository root:

    /work/official-venv/bin/python scripts/golden_voice.py [--voices ../shared/voices] [--out tests/golden/voice]

It builds the official VoiceEncoder, S3 tokenizer and CAMPPlus at full size, fills every tensor with
``model/fill.py`` (loaded by path, keyed by the official state-dict names, seed 0), runs the official voice
path (``ChatterboxTTS.prepare_conditionals`` step by step: librosa load at 24 kHz, soxr resampling, VE with
silence trimming, T3 prompt tokens, ``S3Gen.embed_ref``) on every clip (``<clip>.e2e.*`` entries), and
each stage on its own (``<clip>.stage.*``) from an input we can rebuild bit for bit: the clip resampled to
24 kHz with torchaudio's default sinc (``model.voice.resample`` "kaldi" reproduces it exactly; its "hq" is
the official loader's soxr call itself, so the end-to-end entries match too). It writes ``golden.safetensors``,
``meta.json`` (versions, command, clip list) and one official ``conds.pt``. Our tests regenerate the same weights and
compare, without the official package.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
SEED = 0


def _load_fill():
    spec = importlib.util.spec_from_file_location("tomecast_fill", ROOT / "model" / "fill.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _stub_perth() -> None:
    perth = types.ModuleType("perth")

    class _NoWatermark:
        def apply_watermark(self, wav, sample_rate):
            return wav

    perth.PerthImplicitWatermarker = _NoWatermark
    sys.modules.setdefault("perth", perth)


def _fill(module: torch.nn.Module, prefix: str, fill) -> None:
    sd = module.state_dict()
    shapes = {prefix + k: v.shape for k, v in sd.items()}
    dtypes = {prefix + k: v.dtype for k, v in sd.items()}
    filled = fill.fill_state_dict(shapes, SEED, dtypes=dtypes)
    with torch.no_grad():
        for k, t in sd.items():
            if (prefix + k).endswith(fill.FIXED_SUFFIXES) or not t.dtype.is_floating_point:
                continue
            t.copy_(filled[prefix + k])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default=str(ROOT.parent / "shared" / "voices"))
    ap.add_argument("--out", default=str(ROOT / "tests" / "golden" / "voice"))
    args = ap.parse_args()
    _stub_perth()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    import librosa
    import torchaudio.compliance.kaldi as kaldi
    from chatterbox.models.s3gen import s3gen as s3gen_mod
    from chatterbox.models.s3gen.utils.mel import mel_spectrogram
    from chatterbox.models.s3gen.xvector import CAMPPlus
    from chatterbox.models.s3tokenizer import S3Tokenizer
    from chatterbox.models.t3.modules.cond_enc import T3Cond
    from chatterbox.models.voice_encoder import VoiceEncConfig, VoiceEncoder
    from chatterbox.models.voice_encoder.melspec import melspectrogram
    from chatterbox.tts import Conditionals
    from safetensors.torch import save_file

    fill = _load_fill()
    torch.manual_seed(SEED)
    ve = VoiceEncoder().eval()
    tok = S3Tokenizer("speech_tokenizer_v2_25hz").eval()
    spk = CAMPPlus(memory_efficient=False).eval()
    _fill(ve, "", fill)
    _fill(tok, "tokenizer.", fill)
    _fill(spk, "speaker_encoder.", fill)

    holder = next(c for c in vars(s3gen_mod).values() if isinstance(c, type) and hasattr(c, "embed_ref"))
    ns = types.SimpleNamespace(device=torch.device("cpu"), dtype=torch.float32, mel_extractor=mel_spectrogram,
                               speaker_encoder=spk, tokenizer=tok)

    out: dict[str, torch.Tensor] = {}
    clips = sorted(p for p in Path(args.voices).iterdir() if p.suffix == ".wav")
    first_conds = None
    for path in clips:
        name = path.stem
        ref24, _ = librosa.load(str(path), sr=24000)                     # soxr_hq
        ref16 = librosa.resample(ref24, orig_sr=24000, target_sr=16000)  # soxr_hq
        with torch.inference_mode():
            # T3 prompt tokens and the S3 log-mel of the 6 s prompt
            prompt16 = ref16[: 6 * 16000]
            t3_tokens, _ = tok.forward([prompt16], max_len=150)
            logmel = tok.log_mel_spectrogram(torch.from_numpy(prompt16))
            # VoiceEncoder: trimmed mel and the embedding
            trimmed = librosa.effects.trim(ref16, top_db=20)[0]
            ve_mel = melspectrogram(trimmed, VoiceEncConfig())
            ve_emb = torch.from_numpy(ve.embeds_from_wavs([ref16], sample_rate=16000)).mean(0, keepdim=True)
            # S3Gen reference (embed_ref on the first 10 s at 24 kHz) and its intermediates
            ref24_10 = ref24[: 10 * 24000]
            gen = holder.embed_ref(ns, ref24_10, 24000, device="cpu")
            wav16_ta = s3gen_mod.get_resampler(24000, 16000, "cpu")(torch.from_numpy(ref24_10)[None])
            fb = kaldi.fbank(wav16_ta, num_mel_bins=80)
            fb = fb - fb.mean(dim=0, keepdim=True)
        e2e = {
            "t3_prompt_tokens": t3_tokens.long(),
            "ve_embedding": ve_emb.float(),
            "gen_prompt_token": gen["prompt_token"].long(),
            "gen_prompt_feat": gen["prompt_feat"].float(),
            "gen_embedding": gen["embedding"].float(),
            "lengths": torch.tensor([len(ref24), len(ref16), len(trimmed)], dtype=torch.int64),
        }
        del logmel, ve_mel, fb
        # stage by stage, from the torchaudio-resampled 24 kHz clip (first 10 s)
        raw, sr = librosa.load(str(path), sr=None)
        with torch.inference_mode():
            x24 = s3gen_mod.get_resampler(sr, 24000, "cpu")(torch.from_numpy(raw)[None])[:, : 10 * 24000]
            x16 = s3gen_mod.get_resampler(24000, 16000, "cpu")(x24)
            mel24 = mel_spectrogram(x24)                                     # (1, 80, F)
            fb = kaldi.fbank(x16, num_mel_bins=80)
            fb = fb - fb.mean(dim=0, keepdim=True)
            xvec = spk.inference(x16)
            logmel = tok.log_mel_spectrogram(x16[0])                         # (128, F16)
            hidden, hlen = tok.encoder(logmel[None], torch.tensor([logmel.shape[1]]))
            fsq_h = tok.quantizer._codebook.project_down(hidden).tanh()      # (1, T, 8), before rounding
            tokens, _ = tok(x16)
            x16np = x16[0].numpy()
            ve_mel = melspectrogram(librosa.effects.trim(x16np, top_db=20)[0], VoiceEncConfig())
            ve_emb16 = torch.from_numpy(ve.embeds_from_wavs([x16np], sample_rate=16000))
        stage = {
            "mel24": mel24.transpose(1, 2).float(),
            "fbank_head": fb[:400].float(),
            "fbank_sum": fb.double().sum(0),
            "xvector": xvec.float(),
            "s3_logmel_head": logmel[:, :300].float(),
            "s3_logmel_sum": logmel.double().sum(1),
            "s3_fsq_h": fsq_h.float(),
            "s3_tokens": tokens.long(),
            "ve_mel": torch.from_numpy(np.ascontiguousarray(ve_mel.T)).float(),
            "ve_embedding": ve_emb16.float(),
        }
        out.update({f"{name}.e2e.{k}": v.contiguous() for k, v in e2e.items()})
        out.update({f"{name}.stage.{k}": v.contiguous() for k, v in stage.items()})
        if first_conds is None:
            t3 = T3Cond(speaker_emb=ve_emb, cond_prompt_speech_tokens=t3_tokens.long(),
                        emotion_adv=0.5 * torch.ones(1, 1, 1))
            first_conds = Conditionals(t3, gen)
            Path(args.out).mkdir(parents=True, exist_ok=True)
            first_conds.save(Path(args.out) / "conds_official.pt")
        print(name, {k.split(".", 1)[1]: tuple(v.shape) for k, v in out.items() if k.startswith(name)}, flush=True)

    Path(args.out).mkdir(parents=True, exist_ok=True)
    save_file(out, str(Path(args.out) / "golden.safetensors"))
    meta = {
        "command": "/work/official-venv/bin/python scripts/golden_voice.py",
        "seed": SEED,
        "clips": [p.name for p in clips],
        "versions": {p: md.version(p) for p in ("chatterbox-tts", "torch", "torchaudio", "librosa", "soxr",
                                                "s3tokenizer", "numpy")},
        "conds_official.pt": f"official Conditionals.save of {clips[0].name}, exaggeration 0.5",
    }
    (Path(args.out) / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
