"""tomecast beside the official chatterbox-tts package, in one run, on the same random checkpoint folder.

    python bench/bench_versus.py --device cuda --official-path /tmp/site            # both models
    python bench/bench_versus.py --device cpu --variants original --batches 1 --steps 20 --s3gen-batches 1 \\
        --official-path /work/official-venv/lib/python3.11/site-packages            # CPU, this machine

For each variant (``original``: ResembleAI/chatterbox, ``turbo``: ResembleAI/chatterbox-turbo) a random
full-size checkpoint is written in the official file layout (``model.testing``); ``bench/bench_official.py``
times the official package on it in its own interpreter (``--official-path`` goes first on its
``PYTHONPATH``), then this process loads the same folder through ``TTS.load`` and times tomecast the same way:

- T3 speech tokens per second at each of ``--batches`` texts (the official package decodes one text at a
  time), every run exactly ``--steps`` tokens (stop token ignored), prefill included;
- S3Gen audio seconds per wall second for ``--s3gen-tokens`` tokens (20 s) at each of ``--s3gen-batches``
  (10 steps with CFG for the original, 2 meanflow steps for Turbo) with the built-in voice;
- one utterance end to end (``--e2e-tokens`` tokens through T3, then S3Gen).

Both sides use their defaults on the device (the package: fp32; tomecast: bf16 + CUDA graphs on CUDA, fp32 on
CPU). Each figure is one JSON line with ``value`` and, where the official package has the same figure,
``official`` and ``ratio``; also appended to ``--out``. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_official import best_of  # noqa: E402  (torch-free at import)


def official_figures(args, variant: str, folder: Path) -> dict[tuple[str, int], float]:
    """{(figure, batch): value} from ``bench_official.py``; {} when it is not asked for or fails (said)."""
    if not args.official_path:
        return {}
    env = {**os.environ, "PYTHONPATH": args.official_path}
    cmd = [sys.executable, str(ROOT / "bench" / "bench_official.py"), "--variant", variant, "--checkpoint",
           str(folder), "--device", args.device, "--steps", str(args.steps), "--s3gen-tokens",
           str(args.s3gen_tokens), "--e2e-tokens", str(args.e2e_tokens), "--repeats", str(args.repeats),
           "--figures", args.figures]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd="/tmp")
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            print(line, flush=True)
            out[(row["figure"], row["batch"])] = row["value"]
    if r.returncode:
        print(json.dumps({"bench": "official", "variant": variant, "error": r.stderr.strip().splitlines()[-3:]}),
              flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--variants", default="original,turbo")
    ap.add_argument("--official-path", default=None, help="folder holding the official package and its needs")
    ap.add_argument("--batches", default="1,64,256")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--s3gen-tokens", type=int, default=500)
    ap.add_argument("--s3gen-batches", default="1,64")
    ap.add_argument("--e2e-tokens", type=int, default=250)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--figures", default="t3,s3gen,e2e", help="which figures to time (comma-separated)")
    ap.add_argument("--preset", default="full", choices=["full", "tiny"], help="tiny: a smoke test of the script")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows: list[dict] = []
    for variant in args.variants.split(","):
        folder = Path(tempfile.mkdtemp(prefix=f"tomecast-versus-{variant}-"))
        from model.testing import write_random_checkpoint
        from model.testing.turbo_checkpoint import write_turbo_checkpoint

        (write_turbo_checkpoint if variant == "turbo" else write_random_checkpoint)(folder, args.preset)
        ours(args, variant, folder, official_figures(args, variant, folder), rows)
    print(json.dumps({"bench": "versus", "figures": len(rows),
                      "ratios": {f"{r['variant']}:{r['figure']}:{r['batch']}": r["ratio"] for r in rows
                                 if "ratio" in r}}))


def ours(args, variant: str, folder: Path, official: dict, rows: list[dict]) -> None:
    """tomecast's figures on ``folder``, each beside the official one where there is one."""
    import torch

    from model.generate import T3Params, generate_raw
    from model.params import SynthesisParams
    from model.t3 import T3Cond
    from model.tts import TTS
    from model.turbo.generate import TurboDecodeParams
    from model.turbo.generate import generate_raw as turbo_generate_raw

    cuda = args.device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def timed(fn, repeats: int) -> float:
        return best_of(fn, repeats, sync)

    turbo = variant == "turbo"
    tts = TTS.load(folder, device=args.device, watermark=False)
    voice = tts.builtin_voice().to(tts.device)
    text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods."
    ids = torch.tensor(tts.tokenizer.encode(text), dtype=torch.long)
    n_flow = 2 if turbo else 10
    common = {"bench": "versus", "variant": variant, "device": torch.cuda.get_device_name() if cuda else "cpu",
              "torch": torch.__version__, "t3_dtype": str(tts.t3.dtype).replace("torch.", "")}

    def emit(figure: str, batch: int, value: float, **more) -> None:
        row = {**common, "figure": figure, "batch": batch, "value": value, **more}
        if (figure, batch) in official:
            row.update(official=official[(figure, batch)], ratio=round(value / official[(figure, batch)], 2))
        print(json.dumps(row), flush=True)
        rows.append(row)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")

    if turbo:
        with torch.inference_mode():
            cond = tts.t3.encode_cond(voice.speaker_emb, voice.cond_prompt_speech_tokens)

        def t3(n: int, b: int):
            dp = TurboDecodeParams(max_new_tokens=n, stop_at_eos=False)
            return turbo_generate_raw(tts.t3, [ids] * b, cond, dp, list(range(b))).tokens
    else:
        cond = T3Cond(speaker_emb=voice.speaker_emb, prompt_tokens=voice.cond_prompt_speech_tokens, exaggeration=0.5)

        def t3(n: int, b: int):
            return generate_raw(tts.t3, [ids] * b, cond, SynthesisParams(max_new_tokens=n), list(range(b)),
                                T3Params(stop_at_eos=False)).tokens

    def s3gen(toks: list) -> list:
        gens = [torch.Generator(device=tts.device).manual_seed(i) for i in range(len(toks))]
        return tts.s3gen.synthesize(toks, voice.gen, n_steps=n_flow, generators=gens)

    def e2e():
        toks = t3(args.e2e_tokens, 1)[0, : args.e2e_tokens].clamp(max=6560).to(tts.device)
        return s3gen([toks])

    figures = set(args.figures.split(","))
    with torch.inference_mode():
        for b in (int(x) for x in args.batches.split(",") if "t3" in figures):
            t3(20, b)   # warm-up: graph capture, allocator
            secs = timed(lambda b=b: t3(args.steps, b), 1 if b > 1 else args.repeats)
            emit("t3_tokens_per_s", b, round(b * args.steps / secs, 1), steps=args.steps,
                 ms_per_step=round(1000 * secs / args.steps, 3))
        g = torch.Generator().manual_seed(0)
        for b in (int(x) for x in args.s3gen_batches.split(",") if "s3gen" in figures):
            toks = [torch.randint(0, 6561, (args.s3gen_tokens,), generator=g).to(tts.device) for _ in range(b)]
            s3gen([t[:50] for t in toks])   # warm-up at this batch size
            secs = timed(lambda toks=toks: s3gen(toks), 1 if b > 1 else args.repeats)
            emit("s3gen_audio_s_per_s", b, round(b * args.s3gen_tokens / 25 / secs, 1), flow_steps=n_flow,
                 seconds=round(secs, 3))
        if "e2e" in figures:
            e2e()
            secs = timed(e2e, args.repeats)
            emit("end_to_end_audio_s_per_s", 1, round(args.e2e_tokens / 25 / secs, 2), tokens=args.e2e_tokens,
                 seconds=round(secs, 3))
    tts.release()


if __name__ == "__main__":
    main()
