"""Make the T3 golden files from the OFFICIAL chatterbox-tts package (run in its throwaway venv).

    /work/official-venv/bin/python scripts/golden_t3.py [--out tests/golden/t3] [--steps 240] [--part all]

Builds the official English T3 at full size (30 layers), fills every tensor with the shared rule of
``model/fill.py`` (loaded by file path, speech_head x20 for clear argmax margins), runs fixed inputs and
writes small fixtures: the inputs, the perceiver output, the conditioning prefix, the last-position
output of every layer and the last-position logits of the CFG prefill (both rows), and greedy token
sequences of the official decode loop (``torch.multinomial`` patched to argmax) with CFG 0.5 and without
CFG. ``--part tokenizer`` (fast) records the official punc_norm and tokenizer ids on our generated
tokenizer files; ``--part alignment`` (fast) records the multilingual alignment analyzer's decisions on synthetic
attention rows. The official English wrapper crashes at cfg_weight=0 (it builds one row, the loop appends two BOS
rows); the CFG-free golden therefore calls ``T3.inference`` the way the multilingual wrapper does: both
rows carry the text and cfg_weight=0, so the combined logits are exactly the conditional row's. Our
tests recompute everything without the official package.
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
N_TEXT = 30
PROMPT_LEN = 150


def load_fill():
    spec = importlib.util.spec_from_file_location("tomecast_fill", ROOT / "model" / "fill.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fixed_inputs() -> dict[str, torch.Tensor]:
    """The same inputs our tests read back from the golden file."""
    g = torch.Generator().manual_seed(1234)
    return {
        "speaker_emb": torch.randn(1, 256, generator=g),
        "prompt_tokens": torch.randint(0, 6561, (1, PROMPT_LEN), generator=g),
        "text_ids": torch.randint(3, 255, (N_TEXT,), generator=g),
        "exaggeration": torch.tensor([0.5]),
    }


ALIGN_TEXT_LENS = (12, 30, 6, 8, 20, 16)  # S <= 5 crashes the official analyzer once complete
ALIGN_STEPS = 80
ALIGN_COND = 4


def alignment_scenarios() -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic alignment rows (texts, steps, Smax) and fed-back tokens (texts, steps): monotonic
    progress with jitter, backward jumps, long tails after the end, and immediate token repeats."""
    g = torch.Generator().manual_seed(99)
    smax = max(ALIGN_TEXT_LENS)
    rows = torch.zeros(len(ALIGN_TEXT_LENS), ALIGN_STEPS, smax)
    tokens = torch.randint(0, 6561, (len(ALIGN_TEXT_LENS), ALIGN_STEPS), generator=g)
    for t, s in enumerate(ALIGN_TEXT_LENS):
        speed = 0.3 + 0.5 * torch.rand(1, generator=g).item()
        p = 0.0
        cols = torch.arange(s).float()
        for k in range(ALIGN_STEPS):
            r = torch.rand(1, generator=g).item()
            if r < 0.05:
                p = max(0.0, p - 6 * torch.rand(1, generator=g).item())  # jump back
            elif r < 0.08:
                p = p + 8  # jump ahead (a discontinuity)
            else:
                p = p + speed
            centre = min(p, s - 1 - (t % 2))  # odd texts stall before the end, even ones reach it
            width = 0.5 + torch.rand(1, generator=g).item()
            row = torch.softmax(-((cols - centre) ** 2) / width, dim=0)
            rows[t, k, :s] = 0.8 * row + 0.2 * torch.rand(s, generator=g) / s
            if torch.rand(1, generator=g).item() < 0.04 and k > 0:
                tokens[t, k] = tokens[t, k - 1]  # an immediate repeat
    return rows, tokens


def alignment_part(out: dict[str, torch.Tensor]) -> None:
    from chatterbox.models.t3.inference.alignment_stream_analyzer import AlignmentStreamAnalyzer

    rows, tokens = alignment_scenarios()
    eos, vocab = 9, 10
    codes = torch.zeros(rows.shape[0], ALIGN_STEPS, dtype=torch.long)
    fake = types.SimpleNamespace(layers=[types.SimpleNamespace(self_attn=torch.nn.Identity()) for _ in range(14)])
    for t, s in enumerate(ALIGN_TEXT_LENS):
        i, j = ALIGN_COND, ALIGN_COND + s
        an = AlignmentStreamAnalyzer(fake, None, text_tokens_slice=(i, j), eos_idx=eos)
        for k in range(ALIGN_STEPS):
            if k == 0:
                att = torch.zeros(j + 2, j + 2)
                att[j:, i:j] = rows[t, 0, :s]  # both start-of-speech rows see the first alignment row
            else:
                att = torch.zeros(1, j + 2 + k)
                att[0, i:j] = rows[t, k, :s]
            an.last_aligned_attns = [att, att, att]
            last = 6561 if k == 0 else int(tokens[t, k - 1])
            res = an.step(torch.zeros(1, vocab), next_token=last)
            codes[t, k] = 2 if res[0, eos] > 0 else (1 if res[0, eos] < 0 else 0)
    out["align_rows"], out["align_tokens"], out["align_codes"] = rows, tokens, codes
    out["align_text_lens"] = torch.tensor(ALIGN_TEXT_LENS)


TOKENIZER_SAMPLES = {
    "en": ["hello world", "Mr. Smith said: “It’s 42 — maybe…”; then left.", "  Spaces   and\ttabs ", "",
           "A list , of items - with dashes; and colons: done", "UPPER case AND lower?", "Numbers 1990 and 3.14!"],
    "fr": ["Bonjour à tous, ça va?", "L'été dernier… c'était génial!"],
    "de": ["Größe und Übermut: schön."],
    "es": ["¿Dónde está el niño?"],
    "ko": ["안녕하세요 세계"],
    "el": ["Καλημέρα κόσμε"],
    "pt": ["Não sei; talvez."],
}


def tokenizer_part(out: dict) -> None:
    """Official punc_norm + EnTokenizer / MTLTokenizer ids on our generated tokenizer files."""
    import os
    import tempfile

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from chatterbox.models.tokenizers.tokenizer import EnTokenizer, MTLTokenizer
    from chatterbox.mtl_tts import punc_norm as mtl_punc_norm
    from chatterbox.tts import punc_norm

    from model.testing.t3_checkpoint import write_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        en = EnTokenizer(str(write_tokenizer(Path(tmp) / "tokenizer.json", 704)))
        mtl = MTLTokenizer(str(write_tokenizer(Path(tmp) / "grapheme_mtl_merged_expanded_v1.json", 2454)))
        out["english"] = [{"text": t, "norm": punc_norm(t), "ids": en.text_to_tokens(punc_norm(t))[0].tolist()}
                          for t in TOKENIZER_SAMPLES["en"]]
        out["multilingual"] = [{"text": t, "language": lang, "norm": mtl_punc_norm(t),
                                "ids": mtl.text_to_tokens(mtl_punc_norm(t), language_id=lang)[0].tolist()}
                               for lang, texts in TOKENIZER_SAMPLES.items() for t in texts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "golden" / "t3"))
    ap.add_argument("--steps", type=int, default=240)
    ap.add_argument("--part", choices=["all", "model", "alignment", "tokenizer"], default="model")
    args = ap.parse_args()
    torch.set_num_threads(2)
    sys.modules.setdefault("perth", types.ModuleType("perth"))
    if args.part in ("all", "tokenizer"):
        tok: dict = {}
        tokenizer_part(tok)
        tok["version"] = importlib.metadata.version("chatterbox-tts")
        tok["command"] = "/work/official-venv/bin/python scripts/golden_t3.py " + " ".join(sys.argv[1:])
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "tokenizer_golden.json").write_text(json.dumps(tok, indent=1, ensure_ascii=False) + "\n")
        print("tokenizer golden written", flush=True)
        if args.part == "tokenizer":
            return
    if args.part in ("all", "alignment"):
        from safetensors.torch import save_file

        aligned: dict[str, torch.Tensor] = {}
        alignment_part(aligned)
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(aligned, str(folder / "alignment_golden.safetensors"))
        (folder / "alignment_metadata.json").write_text(json.dumps({
            "package": "chatterbox-tts", "version": importlib.metadata.version("chatterbox-tts"),
            "command": "/work/official-venv/bin/python scripts/golden_t3.py " + " ".join(sys.argv[1:]),
            "what": "AlignmentStreamAnalyzer.step on alignment_scenarios(); codes 0 none, 1 stop suppressed, "
                    "2 stop forced",
        }, indent=2) + "\n")
        print("alignment golden written", flush=True)
        if args.part == "alignment":
            return
    from chatterbox.models.t3.modules.cond_enc import T3Cond
    from chatterbox.models.t3.t3 import T3

    fill = load_fill()
    t0 = time.time()
    torch.manual_seed(SEED)
    model = T3().eval()
    fill.fill_module_(model, seed=SEED, scale={"speech_head.weight": HEAD_SCALE})
    print(f"built and filled in {time.time() - t0:.0f} s", flush=True)

    inp = fixed_inputs()

    def cond() -> T3Cond:
        return T3Cond(speaker_emb=inp["speaker_emb"].clone(), cond_prompt_speech_tokens=inp["prompt_tokens"].clone(),
                      emotion_adv=inp["exaggeration"].view(1, 1, 1).clone())

    text = torch.cat([torch.tensor([255]), inp["text_ids"], torch.tensor([0])])[None].repeat(2, 1)  # (2, N+2)
    out: dict[str, torch.Tensor] = dict(inp)
    with torch.inference_mode():
        c = cond()
        prompt_emb = model.speech_emb(c.cond_prompt_speech_tokens) + model.speech_pos_emb(c.cond_prompt_speech_tokens)
        out["perceiver"] = model.cond_enc.perceiver(prompt_emb)[0]
        out["cond_emb"] = model.prepare_conditioning(cond())[0]
        embeds, _ = model.prepare_input_embeds(t3_cond=cond(), text_tokens=text,
                                               speech_tokens=torch.full((2, 1), 6561), cfg_weight=0.5)
        bos = model.speech_emb(torch.tensor([[6561]])) + model.speech_pos_emb.get_fixed_embedding(0)
        embeds = torch.cat([embeds, bos.expand(2, -1, -1)], dim=1)  # the doubled start-of-speech token
        layer_out: list[torch.Tensor] = []

        def hook(_m, _i, o):
            layer_out.append((o[0] if isinstance(o, tuple) else o)[:, -1].clone())

        handles = [layer.register_forward_hook(hook) for layer in model.tfmr.layers]
        h = model.tfmr(inputs_embeds=embeds).last_hidden_state
        for hd in handles:
            hd.remove()
        out["layer_last"] = torch.stack(layer_out)  # (layers, 2, D) before the final norm
        out["final_last"] = h[:, -1]
        out["prefill_logits"] = model.speech_head(h[:, -1])  # (2, V)
        out["prefill_len"] = torch.tensor([embeds.shape[1]])
        print(f"prefill done ({embeds.shape[1]} positions)", flush=True)

    real_multinomial = torch.multinomial
    torch.multinomial = lambda probs, num_samples=1, **kw: probs.argmax(dim=-1, keepdim=True)
    try:
        for name, w in (("greedy_cfg", 0.5), ("greedy_nocfg", 0.0)):
            t0 = time.time()
            toks = model.inference(t3_cond=cond(), text_tokens=text, max_new_tokens=args.steps, temperature=0.8,
                                   top_p=1.0, min_p=0.05, repetition_penalty=1.2, cfg_weight=w)
            out[name] = toks[0].long()
            print(f"{name}: {toks.shape[1]} tokens in {time.time() - t0:.0f} s; first {toks[0, :12].tolist()}",
                  flush=True)
            if toks.shape[1] < 200:
                print(f"WARNING: {name} stopped after {toks.shape[1]} tokens (< 200)", flush=True)
    finally:
        torch.multinomial = real_multinomial

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in out.items()}, str(folder / "t3_golden.safetensors"))
    meta = {
        "package": "chatterbox-tts", "version": importlib.metadata.version("chatterbox-tts"),
        "transformers": importlib.metadata.version("transformers"), "torch": torch.__version__,
        "command": "/work/official-venv/bin/python scripts/golden_t3.py " + " ".join(sys.argv[1:]),
        "model": "T3() English, full size (30 layers), eval, fp32 CPU",
        "weights": f"model/fill.py fill_module_(seed={SEED}, scale={{'speech_head.weight': {HEAD_SCALE}}})",
        "inputs": "fixed_inputs() in this script (torch.Generator seed 1234)",
        "decode": "T3.inference, multinomial patched to argmax; temperature 0.8, top_p 1.0, min_p 0.05, "
                  "repetition_penalty 1.2; text rows duplicated; cfg_weight 0.5 and 0.0",
        "steps": args.steps,
    }
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {folder}", flush=True)


if __name__ == "__main__":
    main()
