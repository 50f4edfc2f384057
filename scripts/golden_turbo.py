"""Make the Turbo golden files from the OFFICIAL chatterbox-tts 0.1.7 package (run in its throwaway venv).

    PYTHONPATH=/tmp/pyln /work/official-venv/bin/python scripts/golden_turbo.py [--out tests/golden/turbo]
        [--part all|tokenizer|t3|s3gen|voice] [--steps 200] [--voices ../shared/voices]

(``pyloudnorm`` is imported by the official ``tts_turbo`` module; it is a pure-Python wheel that the venv
lacks: ``pip install --no-deps --target /tmp/pyln pyloudnorm`` and put that folder on PYTHONPATH.)

Every official module is built at full size and filled with the shared rule of ``model/fill.py`` (loaded by
file path, seed 0; Turbo speech_head x20 for clear argmax margins), then fixed inputs are run and small
fixtures written (our tests regenerate the same weights and compare, without the official package):

* tokenizer: official Turbo ``punc_norm`` and ``AutoTokenizer`` ids on our generated GPT-2 files (three
  layouts of the added tags) -> ``tokenizer_golden.json``;
* t3: the Turbo T3 (GPT-2 medium, 24 layers): conditioning prefix, every layer's last-position output,
  prefill logits, the greedy tokens of ``T3.inference_turbo`` (``torch.multinomial`` patched to argmax)
  and the processor chain's output on fixed scores for several parameter sets -> ``t3_golden.safetensors``;
* s3gen: ``S3Gen(meanflow=True)``: ``inference`` (2 steps) on greedy tokens + the three silence tokens,
  its mel (flow) and waveform from one torch seed -> ``s3gen_golden.safetensors``;
* voice: ``ChatterboxTurboTTS.prepare_conditionals`` on each LJ clip (librosa load, -27 LUFS loudness
  normalisation, 15 s / 375-token prompt, VE, ``embed_ref``) and the loudness of an input we rebuild bit for
  bit -> ``voice_golden.safetensors``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
HEAD_SCALE = 20.0
PROMPT_LEN = 375
N_TEXT = 24
N_S3_TOKENS = 24  # greedy tokens fed to S3Gen (plus 3 silence tokens)
PROCESSOR_SETS = (  # temperature, top_k, top_p, repetition_penalty
    (0.8, 1000, 0.95, 1.2), (0.7, 50, 0.8, 1.5), (1.0, 0, 1.0, 1.0), (1.3, 5, 0.5, 2.0))
TOKENIZER_TEXTS = [
    "Hello there [laugh], the printing of books [clear throat] was done.",
    "oh... well: fine — “quoted” and ‘single’ [sigh]", "  many   spaces\tand a tab ", "",
    "Mr. Smith said: it's 42 - maybe; then left", "[whispering] the end [chuckle]", "UPPER [LAUGH] lower?",
    "Émile's café, naïve façade!", "no tag here [chapter 1] ok", "<|endoftext|> inside",
]
TOKENIZER_LAYOUTS = {"decoder": {}, "special": {"special_tags": True}, "legacy": {"config_decoder": False}}


def load_fill():
    spec = importlib.util.spec_from_file_location("tomecast_fill", ROOT / "model" / "fill.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stub_perth() -> None:
    perth = types.ModuleType("perth")

    class _NoWatermark:
        def apply_watermark(self, wav, sample_rate):
            return wav

    perth.PerthImplicitWatermarker = _NoWatermark
    sys.modules.setdefault("perth", perth)


def fill_prefixed(module: torch.nn.Module, prefix: str, fill, scale: dict | None = None) -> None:
    """Fill every floating tensor by its full official name; fixed buffers and counters are kept."""
    sd = module.state_dict()
    shapes = {prefix + k: v.shape for k, v in sd.items()}
    dtypes = {prefix + k: v.dtype for k, v in sd.items()}
    filled = fill.fill_state_dict(shapes, SEED, scale=scale, dtypes=dtypes)
    with torch.no_grad():
        for k, t in sd.items():
            if (prefix + k).endswith(fill.FIXED_SUFFIXES) or not t.dtype.is_floating_point:
                continue
            t.copy_(filled[prefix + k])


def t3_inputs() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(4321)
    return {
        "speaker_emb": torch.randn(1, 256, generator=g),
        "prompt_tokens": torch.randint(0, 6561, (1, PROMPT_LEN), generator=g),
        "text_ids": torch.randint(0, 50276, (N_TEXT,), generator=g),
        "proc_scores": torch.randn(4, 6563, generator=g) * 3.0,
        "proc_history": torch.randint(0, 6563, (4, 40), generator=g),
    }


def build_turbo_t3():
    from chatterbox.models.t3 import T3
    from chatterbox.models.t3.modules.t3_config import T3Config

    hp = T3Config(text_tokens_dict_size=50276)  # the overrides of ChatterboxTurboTTS.from_local
    hp.llama_config_name = "GPT2_medium"
    hp.speech_tokens_dict_size = 6563
    hp.input_pos_emb = None
    hp.speech_cond_prompt_len = 375
    hp.use_perceiver_resampler = False
    hp.emotion_adv = False
    torch.manual_seed(SEED)
    return T3(hp).eval()


def tokenizer_part(out_dir: Path) -> None:
    import os
    import tempfile

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from chatterbox.tts_turbo import punc_norm
    from transformers import AutoTokenizer

    from model.testing.turbo_checkpoint import write_turbo_tokenizer

    result: dict = {"version": importlib.metadata.version("chatterbox-tts"),
                    "transformers": importlib.metadata.version("transformers"), "layouts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in TOKENIZER_LAYOUTS.items():
            folder = write_turbo_tokenizer(Path(tmp) / name, **kwargs)
            tok = AutoTokenizer.from_pretrained(str(folder))
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            rows = []
            for text in TOKENIZER_TEXTS:
                norm = punc_norm(text)
                ids = tok(norm, return_tensors="pt", padding=True, truncation=True).input_ids[0].tolist()
                rows.append({"text": text, "norm": norm, "ids": ids})
            result["layouts"][name] = {"kwargs": kwargs, "len": len(tok), "samples": rows}
    (out_dir / "tokenizer_golden.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print("tokenizer golden written", flush=True)


def t3_part(out: dict, steps: int) -> None:
    from chatterbox.models.t3.modules.cond_enc import T3Cond
    from transformers.generation.logits_process import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    fill = load_fill()
    t0 = time.time()
    model = build_turbo_t3()
    fill_prefixed(model, "", fill, scale={"speech_head.weight": HEAD_SCALE})
    print(f"Turbo T3 built and filled in {time.time() - t0:.0f} s", flush=True)
    x = t3_inputs()
    out.update({f"in.{k}": v for k, v in x.items()})

    def cond() -> T3Cond:
        return T3Cond(speaker_emb=x["speaker_emb"].clone(), cond_prompt_speech_tokens=x["prompt_tokens"].clone(),
                      emotion_adv=torch.full((1, 1, 1), 0.5))

    text = x["text_ids"][None]
    with torch.inference_mode():
        out["cond_emb_head"] = model.prepare_conditioning(cond())[0, :8].clone()
        embeds, _ = model.prepare_input_embeds(t3_cond=cond(), text_tokens=text,
                                               speech_tokens=torch.full((1, 1), 6561), cfg_weight=0.0)
        layer_out: list[torch.Tensor] = []
        hooks = [blk.register_forward_hook(lambda _m, _i, o: layer_out.append(
            (o[0] if isinstance(o, tuple) else o)[:, -1].clone())) for blk in model.tfmr.h]
        h = model.tfmr(inputs_embeds=embeds).last_hidden_state
        for hk in hooks:
            hk.remove()
        out["layer_last"] = torch.stack(layer_out)[:, 0]  # (24, D), before ln_f
        out["prefill_logits"] = model.speech_head(h[:, -1])[0]
        out["prefill_len"] = torch.tensor([embeds.shape[1]])
        # the processors on fixed scores and histories
        for i, (tau, k, p, rho) in enumerate(PROCESSOR_SETS):
            chain = LogitsProcessorList()
            if tau > 0 and tau != 1.0:
                chain.append(TemperatureLogitsWarper(tau))
            if k > 0:
                chain.append(TopKLogitsWarper(k))
            if p < 1.0:
                chain.append(TopPLogitsWarper(p))
            if rho != 1.0:
                chain.append(RepetitionPenaltyLogitsProcessor(rho))
            out[f"proc_out.{i}"] = chain(x["proc_history"], x["proc_scores"].clone())
    real_multinomial = torch.multinomial
    torch.multinomial = lambda probs, num_samples=1, **kw: probs.argmax(dim=-1, keepdim=True)
    try:
        t0 = time.time()
        toks = model.inference_turbo(cond(), text, max_gen_len=steps)
    finally:
        torch.multinomial = real_multinomial
    out["greedy"] = toks[0].long()
    print(f"greedy: {toks.shape[1]} tokens in {time.time() - t0:.0f} s; first {toks[0, :12].tolist()}", flush=True)


def s3gen_part(out: dict, tokens: torch.Tensor) -> None:
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.s3gen.const import S3GEN_SIL

    fill = load_fill()
    torch.manual_seed(SEED)
    model = S3Gen(meanflow=True).eval()
    fill_prefixed(model.flow, "flow.", fill)
    fill_prefixed(model.mel2wav, "mel2wav.", fill)
    g = torch.Generator().manual_seed(5678)
    ref = {"prompt_token": torch.randint(0, 6561, (1, 20), generator=g), "prompt_token_len": torch.tensor([20]),
           "prompt_feat": torch.randn(1, 40, 80, generator=g) * 2.0 - 5.0, "prompt_feat_len": None,
           "embedding": torch.randn(1, 192, generator=g)}
    out.update({f"in.ref.{k}": v.clone() for k, v in ref.items() if v is not None})
    speech = tokens[tokens < 6561][:N_S3_TOKENS]
    speech = torch.cat([speech, torch.tensor([S3GEN_SIL] * 3)])
    out["in.speech_tokens"] = speech.clone()
    with torch.inference_mode():
        torch.manual_seed(11)
        mel = model.flow_inference(speech, ref_dict=dict(ref), n_cfm_timesteps=2, finalize=True)
        out["flow_mel"] = mel
        torch.manual_seed(33)
        wav, _ = model.inference(speech_tokens=speech, ref_dict=dict(ref), n_cfm_timesteps=2)
        out["wav"] = wav
    print(f"s3gen: mel {tuple(mel.shape)}, wav {tuple(wav.shape)}", flush=True)


def voice_part(out: dict, voices: Path) -> None:
    import librosa
    import pyloudnorm
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.s3gen import s3gen as s3gen_mod
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts_turbo import ChatterboxTurboTTS

    fill = load_fill()
    torch.manual_seed(SEED)
    ve = VoiceEncoder().eval()
    fill_prefixed(ve, "", fill)
    s3gen = S3Gen(meanflow=True).eval()
    fill_prefixed(s3gen.tokenizer, "tokenizer.", fill)
    fill_prefixed(s3gen.speaker_encoder, "speaker_encoder.", fill)
    tts = ChatterboxTurboTTS.__new__(ChatterboxTurboTTS)
    tts.t3 = types.SimpleNamespace(hp=types.SimpleNamespace(speech_cond_prompt_len=PROMPT_LEN))
    tts.s3gen, tts.ve, tts.device, tts.conds = s3gen, ve, "cpu", None
    # Under NumPy 2 the official gain (a float64 scalar) promotes the float32 clip to float64, and the S3
    # tokenizer then fails on float64 audio; NumPy 1.x kept float32. Reproduce the float32 behaviour.
    official_norm = tts.norm_loudness
    tts.norm_loudness = lambda wav, sr, target_lufs=-27: official_norm(wav, sr, target_lufs).astype("float32")
    for path in sorted(p for p in voices.iterdir() if p.suffix == ".wav"):
        name = path.stem
        with torch.inference_mode():
            tts.prepare_conditionals(str(path))
        c = tts.conds
        out[f"{name}.speaker_emb"] = c.t3.speaker_emb.float()
        out[f"{name}.t3_prompt_tokens"] = c.t3.cond_prompt_speech_tokens.long()
        for k in ("prompt_token", "prompt_feat", "embedding"):
            out[f"{name}.gen.{k}"] = c.gen[k].clone()
        ref24, _ = librosa.load(str(path), sr=24000)
        meter = pyloudnorm.Meter(24000)
        out[f"{name}.lufs_librosa"] = torch.tensor([meter.integrated_loudness(ref24)], dtype=torch.float64)
        # an input we rebuild bit for bit: torchaudio's default sinc to 24 kHz
        wav, sr = librosa.load(str(path), sr=None)
        x24 = s3gen_mod.get_resampler(sr, 24000, "cpu")(torch.from_numpy(wav)[None])[0].numpy()
        out[f"{name}.lufs_kaldi24"] = torch.tensor([meter.integrated_loudness(x24)], dtype=torch.float64)
        print(f"voice {name}: {c.t3.cond_prompt_speech_tokens.shape[1]} prompt tokens, "
              f"{float(out[f'{name}.lufs_librosa'][0]):.3f} LUFS", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "golden" / "turbo"))
    ap.add_argument("--part", choices=["all", "tokenizer", "t3", "s3gen", "voice"], default="all")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--voices", default=str(ROOT.parent / "shared" / "voices"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    stub_perth()
    from safetensors.torch import load_file, save_file

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = "PYTHONPATH=/tmp/pyln /work/official-venv/bin/python scripts/golden_turbo.py " + " ".join(sys.argv[1:])
    meta_path = out_dir / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta.update({"package": "chatterbox-tts", "version": importlib.metadata.version("chatterbox-tts"),
                 "transformers": importlib.metadata.version("transformers"), "torch": torch.__version__,
                 "fill": f"model/fill.py seed {SEED}; Turbo speech_head x{HEAD_SCALE}",
                 "processor_sets": PROCESSOR_SETS, "steps": args.steps})
    meta.setdefault("commands", {})
    if args.part in ("all", "tokenizer"):
        tokenizer_part(out_dir)
        meta["commands"]["tokenizer"] = command
    if args.part in ("all", "t3"):
        out: dict[str, torch.Tensor] = {}
        t3_part(out, args.steps)
        save_file({k: v.contiguous() for k, v in out.items()}, str(out_dir / "t3_golden.safetensors"))
        meta["commands"]["t3"] = command
    if args.part in ("all", "s3gen"):
        tokens = load_file(str(out_dir / "t3_golden.safetensors"))["greedy"]
        out = {}
        s3gen_part(out, tokens)
        save_file({k: v.contiguous() for k, v in out.items()}, str(out_dir / "s3gen_golden.safetensors"))
        meta["commands"]["s3gen"] = command
    if args.part in ("all", "voice"):
        out = {}
        voice_part(out, Path(args.voices))
        save_file({k: v.contiguous() for k, v in out.items()}, str(out_dir / "voice_golden.safetensors"))
        meta["commands"]["voice"] = command
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out_dir}", flush=True)


if __name__ == "__main__":
    main()
