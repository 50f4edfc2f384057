"""S3Gen speed and memory with random weights: tokens -> 24 kHz audio (flow + HiFT).

    python bench/bench_s3gen.py                           # CPU, full size: time + peak RSS for 500 tokens (20 s)
    python bench/bench_s3gen.py --calls 200 --preset tiny # memory flat across 200 calls (RSS per call)
    python bench/bench_s3gen.py --device cuda             # audio s/s at batch 1 and the largest batch that fits

The voice prompt is 250 tokens / 500 mel frames (a 10 s reference, the official maximum) unless
``--prompt-tokens`` says otherwise. Prints figures as it goes; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.s3gen import S3Gen, S3GenRef  # noqa: E402
from model.testing.s3gen_checkpoint import s3gen_state_dict  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_ref(n_prompt: int) -> S3GenRef:
    g = torch.Generator().manual_seed(0)
    return S3GenRef(torch.randint(0, 6561, (1, n_prompt), generator=g), torch.tensor([n_prompt]),
                    torch.randn(1, 2 * n_prompt, 80, generator=g) - 5, None, torch.randn(1, 192, generator=g))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(model: S3Gen, ref: S3GenRef, batch: int, tokens: int, steps: int, seed: int) -> tuple[float, float]:
    """One synthesize call of ``batch`` rows; returns (flow seconds, HiFT seconds)."""
    g = torch.Generator().manual_seed(seed)
    toks = [torch.randint(0, 6561, (tokens,), generator=g) for _ in range(batch)]
    gens = [torch.Generator(device=model.device).manual_seed(seed + i) for i in range(batch)]
    sync(model.device)
    t0 = time.perf_counter()
    mels = model.tokens_to_mels(toks, ref, n_steps=steps, generators=gens)
    sync(model.device)
    t1 = time.perf_counter()
    wavs = model.vocode(mels, gens)
    sync(model.device)
    t2 = time.perf_counter()
    assert all(w.numel() == 960 * tokens for w in wavs)
    return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--dtype", default="float32", help="flow dtype: float32 (as model.tts loads it) or bfloat16")
    ap.add_argument("--tokens", type=int, default=500, help="speech tokens per row (25 per second of audio)")
    ap.add_argument("--prompt-tokens", type=int, default=250)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--calls", type=int, default=3, help="consecutive calls (memory must stay flat)")
    ap.add_argument("--max-batch", type=int, default=512, help="CUDA: stop doubling the batch here")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[args.dtype]
    t = time.perf_counter()
    model = S3Gen.from_state_dict(s3gen_state_dict(args.preset, seed=0, voice=False), device, dtype)
    ref = make_ref(args.prompt_tokens).to(device)
    print(f"loaded {args.preset} S3Gen on {device} ({dtype}) in {time.perf_counter() - t:.1f}s; "
          f"RSS {rss_mib():.0f} MiB", flush=True)
    audio_s = args.tokens / 25
    result: dict = {"bench": "s3gen", "device": str(device), "preset": args.preset, "dtype": str(dtype),
                    "tokens": args.tokens, "prompt_tokens": args.prompt_tokens, "steps": args.steps,
                    "audio_seconds_per_row": audio_s, "threads": torch.get_num_threads()}
    rss = []
    times = []
    for i in range(args.calls):
        f, h = run(model, ref, 1, args.tokens, args.steps, seed=i)
        rss.append(rss_mib())
        times.append((f, h))
        print(f"call {i + 1}/{args.calls}: flow {f:.2f}s hift {h:.2f}s ({audio_s / (f + h):.2f}x real time) "
              f"RSS {rss[-1]:.0f} MiB", flush=True)
    best = min(times, key=sum)
    result.update({"batch1_flow_s": round(best[0], 4), "batch1_hift_s": round(best[1], 4),
                   "batch1_total_s": round(sum(best), 4), "batch1_audio_s_per_s": round(audio_s / sum(best), 2),
                   "peak_rss_mib": round(peak_rss_mib(), 1), "rss_first_mib": round(rss[0], 1),
                   "rss_last_mib": round(rss[-1], 1)})
    if len(rss) >= 10:
        result["rss_growth_after_10_calls_mib"] = round(rss[-1] - rss[9], 1)
    if cuda:
        result["batch1_peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
        batches = {}
        b = 2
        while b <= args.max_batch:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
            try:
                run(model, ref, b, args.tokens, args.steps, seed=100)          # warm-up for this shape
                f, h = run(model, ref, b, args.tokens, args.steps, seed=101)
            except torch.OutOfMemoryError:
                print(f"batch {b}: out of memory", flush=True)
                break
            peak = torch.cuda.max_memory_allocated(device) / 2**20
            batches[b] = {"audio_s_per_s": round(b * audio_s / (f + h), 1), "flow_s": round(f, 3),
                          "hift_s": round(h, 3), "peak_gpu_mib": round(peak, 1)}
            print(f"batch {b}: {batches[b]}", flush=True)
            b *= 2
        result["batches"] = batches
        if batches:
            top = max(batches)
            result.update({"largest_batch": top, "largest_batch_audio_s_per_s": batches[top]["audio_s_per_s"],
                           "largest_batch_peak_gpu_mib": batches[top]["peak_gpu_mib"]})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
