"""End-to-end synthesis speed through the facade (T3 + S3Gen + voice), random weights at a chosen size.

    python bench/bench_tts.py --device cuda                       # full size, batches 1, 8, 32
    python bench/bench_tts.py --device cpu --preset tiny --tokens 20 --batches 1,2   # smoke test

Random weights never sample the stop token, so every text runs exactly ``--tokens`` tokens
(``max_new_tokens``): 25 tokens are one second of audio. Reports audio seconds per wall second per batch
size, the peak device memory, and whether memory stayed flat over repeated calls. Last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.testing import write_random_checkpoint  # noqa: E402
from model.tts import TTS, SynthesisParams  # noqa: E402

TEXT = ("It was a bright cold day in April, and the clocks were striking thirteen; the narrator paused, "
        "then went on reading the chapter aloud.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--checkpoint", default=None, help="existing checkpoint folder (default: write a random one)")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--tokens", type=int, default=250, help="speech tokens per text (25 = 1 s of audio)")
    ap.add_argument("--repeats", type=int, default=2, help="timed calls per batch size (after one warm-up)")
    ap.add_argument("--cfg-weight", type=float, default=0.5)
    args = ap.parse_args()

    folder = Path(args.checkpoint) if args.checkpoint else Path(tempfile.mkdtemp(prefix="tomecast-bench-"))
    if not args.checkpoint:
        t = time.perf_counter()
        write_random_checkpoint(folder, args.preset)
        print(f"random {args.preset} checkpoint written in {time.perf_counter() - t:.1f}s", flush=True)
    t = time.perf_counter()
    tts = TTS.load(folder, device=args.device, dtype=args.dtype, watermark=False)
    print(f"loaded in {time.perf_counter() - t:.1f}s on {tts.device} ({tts.dtype})", flush=True)
    voice = tts.builtin_voice()
    params = SynthesisParams(max_new_tokens=args.tokens, cfg_weight=args.cfg_weight, tokens_per_char=0)  # no cap
    cuda = tts.device.type == "cuda"
    results = []
    for b in [int(x) for x in args.batches.split(",")]:
        texts = [TEXT] * b
        tts.synthesize(texts, voice, params, seeds=list(range(b)), batch_size=b)  # warm-up
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        times, peaks = [], []
        for r in range(args.repeats):
            t = time.perf_counter()
            wavs = tts.synthesize(texts, voice, params, seeds=[r * b + i for i in range(b)], batch_size=b)
            if cuda:
                torch.cuda.synchronize()
                peaks.append(torch.cuda.max_memory_allocated() / 2**20)
            times.append(time.perf_counter() - t)
            tts.release()
        audio = sum(w.size for w in wavs) / tts.sample_rate
        best = min(times)
        row = {"batch": b, "seconds": round(best, 3), "audio_s": round(audio, 2),
               "audio_s_per_s": round(audio / best, 2), "t3_tokens_per_s": round(b * args.tokens / best, 1),
               "peak_mib": [round(p, 1) for p in peaks]}
        print(row, flush=True)
        results.append(row)
    print(json.dumps({"bench": "tts", "device": str(tts.device), "dtype": str(tts.dtype), "preset": args.preset,
                      "tokens": args.tokens, "cfg_weight": args.cfg_weight, "results": results}))


if __name__ == "__main__":
    main()
