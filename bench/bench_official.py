"""The official chatterbox-tts package's speed on a checkpoint folder in the official layout (run by
``bench/bench_versus.py`` in its own interpreter, with the official package on ``PYTHONPATH``).

    PYTHONPATH=/tmp/site python bench/bench_official.py --variant original --checkpoint DIR --device cuda

Figures, one JSON line each (the last line is JSON too), as the package runs unchanged (fp32, batch 1, its own
loops): T3 speech tokens per second for one text (CFG 0.5 for the original; none for Turbo), S3Gen audio
seconds per wall second at batch 1 (10 CFG steps for the original, 2 meanflow steps for Turbo), and one
utterance end to end (T3 then S3Gen). Random weights never sample the stop token on purpose, so it is set to
an id that never occurs and every run makes exactly the requested number of tokens. The package's top-level
import needs the Perth watermarker: where ``perth`` is not installed a pass-through stand-in is used (the
watermark is not part of what is timed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types


def _perth_standin() -> None:
    try:
        import perth  # noqa: F401
    except ImportError:
        class PerthImplicitWatermarker:   # the package calls only this, after synthesis
            def apply_watermark(self, wav, sample_rate):
                return wav

        sys.modules["perth"] = types.SimpleNamespace(PerthImplicitWatermarker=PerthImplicitWatermarker)


def best_of(fn, repeats: int, sync) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn``, the device synchronized around each (shared with
    ``bench/bench_versus.py``; top level because this script runs in its own interpreter)."""
    best = float("inf")
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=["original", "turbo"], required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=200, help="T3 tokens per timed run")
    ap.add_argument("--s3gen-tokens", type=int, default=500, help="speech tokens per S3Gen run (25 per second)")
    ap.add_argument("--e2e-tokens", type=int, default=250)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--figures", default="t3,s3gen,e2e", help="which figures to time (comma-separated)")
    args = ap.parse_args()
    figures = set(args.figures.split(","))
    _perth_standin()
    import torch

    dev = args.device
    cuda = dev.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def timed(fn) -> float:
        return best_of(fn, args.repeats, sync)

    text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods."
    turbo = args.variant == "turbo"
    if turbo:
        from chatterbox.tts_turbo import ChatterboxTurboTTS, punc_norm

        tts = ChatterboxTurboTTS.from_local(args.checkpoint, dev)
        ids = tts.tokenizer(punc_norm(text), return_tensors="pt").input_ids.to(dev)
        n_flow = 2

        def t3(n: int):
            return tts.t3.inference_turbo(t3_cond=tts.conds.t3, text_tokens=ids, max_gen_len=n)
    else:
        import torch.nn.functional as F
        from chatterbox.tts import ChatterboxTTS, punc_norm

        tts = ChatterboxTTS.from_local(args.checkpoint, dev)
        ids = tts.tokenizer.text_to_tokens(punc_norm(text)).to(dev)
        ids = torch.cat([ids, ids], dim=0)   # CFG: two rows, as ``ChatterboxTTS.generate`` makes them
        ids = F.pad(F.pad(ids, (1, 0), value=tts.t3.hp.start_text_token), (0, 1), value=tts.t3.hp.stop_text_token)
        n_flow = 10

        def t3(n: int):
            return tts.t3.inference(t3_cond=tts.conds.t3, text_tokens=ids, max_new_tokens=n, cfg_weight=0.5)
    tts.t3.hp.stop_speech_token = -1   # never sampled: every run makes exactly n tokens

    def s3gen(toks: torch.Tensor):
        return tts.s3gen.inference(speech_tokens=toks, ref_dict=tts.conds.gen, n_cfm_timesteps=n_flow)

    def noise(n: int) -> torch.Tensor:
        return torch.randint(0, 6561, (1, n), device=dev)

    common = {"bench": "official", "variant": args.variant, "device": torch.cuda.get_device_name() if cuda else "cpu",
              "torch": torch.__version__, "dtype": "float32"}

    def emit(**fig) -> None:
        print(json.dumps({**common, **fig}), flush=True)

    with torch.inference_mode():
        t3(20)          # warm-up (cuBLAS, allocator, the attention kernels' first plans)
        if "t3" in figures:
            secs = timed(lambda: t3(args.steps))
            emit(figure="t3_tokens_per_s", batch=1, steps=args.steps, seconds=round(secs, 3),
                 value=round(args.steps / secs, 1))
        if figures & {"s3gen", "e2e"}:
            s3gen(noise(50))
        if "s3gen" in figures:
            secs = timed(lambda: s3gen(noise(args.s3gen_tokens)))
            emit(figure="s3gen_audio_s_per_s", batch=1, tokens=args.s3gen_tokens, flow_steps=n_flow,
                 seconds=round(secs, 3), value=round(args.s3gen_tokens / 25 / secs, 1))
        if "e2e" in figures:
            secs = timed(lambda: s3gen(t3(args.e2e_tokens).reshape(1, -1)[:, : args.e2e_tokens].clamp(max=6560)))
            emit(figure="end_to_end_audio_s_per_s", batch=1, tokens=args.e2e_tokens, seconds=round(secs, 3),
                 value=round(args.e2e_tokens / 25 / secs, 2))


if __name__ == "__main__":
    main()
