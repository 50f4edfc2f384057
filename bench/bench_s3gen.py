"""S3Gen speed, memory and precision with random weights: tokens -> 24 kHz audio (flow + HiFT).

    python bench/bench_s3gen.py                           # CPU, full size: time + peak RSS for 500 tokens (20 s)
    python bench/bench_s3gen.py --calls 200 --preset tiny # memory flat across 200 calls (RSS per call)
    python bench/bench_s3gen.py --device cuda --runs fp32:1,16 bf16:1,64 bf16-compile:1,64,128,256 \\
        --profile bf16-compile:64 --jsonl bench/results/h200-s3gen.jsonl

A run is ``VARIANT:BATCHES``. Variants (``S3GenRuntime``): fp32 (the official numerics; TF32 matmuls on CUDA,
as ``model.device.configure_backends`` sets), bf16 (encoder + estimator under bf16 autocast, fp32 Euler
state and HiFT), bf16-graphs (+ the Euler loop from CUDA graphs for calls of up to 16 rows), bf16-fused (+ HiFT's
Snakes as compiled kernels; what ``S3GenRuntime.for_device("cuda")`` gives), bf16-graphs-voc (+ HiFT convolutions
in bf16), bf16-graphs-voc16 (HiFT convolutions in fp16), bf16-compile
(+ torch.compile on the estimator: ~140 s to compile on an H200), bf16-compile-voc (both). Every batch-1 result
is compared with fp32 on the same noise: mel relative L2 and waveform SNR. The voice prompt is 250 tokens /
500 mel frames (a 10 s reference, the official maximum) unless ``--prompt-tokens`` says otherwise;
``--meanflow`` measures Turbo's S3Gen (2 steps, no CFG, unless ``--steps`` says otherwise). One
JSON object per figure (also appended to ``--jsonl``); the last line is the JSON summary.
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

from model.device import configure_backends  # noqa: E402
from model.s3gen import S3Gen, S3GenRef, S3GenRuntime  # noqa: E402
from model.testing.s3gen_checkpoint import s3gen_state_dict  # noqa: E402

BF16 = torch.bfloat16
VARIANTS = {
    "fp32": S3GenRuntime(),
    "bf16": S3GenRuntime(compute_dtype=BF16),
    "bf16-graphs": S3GenRuntime(compute_dtype=BF16, cuda_graphs=True),
    "bf16-fused": S3GenRuntime(compute_dtype=BF16, cuda_graphs=True, fused_vocoder=True),
    "bf16-graphs-voc": S3GenRuntime(compute_dtype=BF16, vocoder_dtype=BF16, cuda_graphs=True),
    "bf16-graphs-voc16": S3GenRuntime(compute_dtype=BF16, vocoder_dtype=torch.float16, cuda_graphs=True),
    "bf16-compile": S3GenRuntime(compute_dtype=BF16, cuda_graphs=True, compile=True),
    "bf16-compile-voc": S3GenRuntime(compute_dtype=BF16, vocoder_dtype=BF16, cuda_graphs=True, compile=True),
}


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


def row_lengths(batch: int, tokens: int, spread: float) -> list[int]:
    """Row i's token count: ``tokens`` less up to ``spread`` of it, evenly (a book's token-sorted batch is ragged)."""
    return [tokens - round(spread * tokens * i / max(1, batch - 1)) for i in range(batch)]


def run(model: S3Gen, ref: S3GenRef, batch: int, tokens: int, steps: int, seed: int, spread: float = 0.0
        ) -> tuple[float, float, list[torch.Tensor], list[torch.Tensor]]:
    """One call of ``batch`` rows (tokens on the device, as T3 leaves them); (flow s, HiFT s, mels, wavs)."""
    g = torch.Generator().manual_seed(seed)
    toks = [torch.randint(0, 6561, (n,), generator=g).to(model.device) for n in row_lengths(batch, tokens, spread)]
    gens = [torch.Generator(device=model.device).manual_seed(seed + i) for i in range(batch)]
    sync(model.device)
    t0 = time.perf_counter()
    mels = model.tokens_to_mels(toks, ref, n_steps=steps, generators=gens)
    sync(model.device)
    t1 = time.perf_counter()
    wavs = model.vocode(mels, gens)
    sync(model.device)
    t2 = time.perf_counter()
    assert all(w.numel() == 960 * t.numel() for w, t in zip(wavs, toks, strict=True))
    return t1 - t0, t2 - t1, mels, wavs


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def snr_db(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(b.float().pow(2).sum() / (a.float() - b.float()).pow(2).sum().clamp_min(1e-30)))


class Out:
    """Prints each figure as a JSON line and appends it to the jsonl file."""

    def __init__(self, path: str | None, common: dict):
        self.path, self.common = path, common

    def __call__(self, **fig) -> dict:
        row = {**self.common, **fig}
        line = json.dumps(row)
        print(line, flush=True)
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")
        return row


def profile(model: S3Gen, ref: S3GenRef, batch: int, tokens: int, steps: int, out_dir: str | None,
            spread: float = 0.0) -> dict:
    """One call under torch.profiler: the top CUDA kernels, launch count, GPU busy time against wall time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as prof
    run(model, ref, batch, tokens, steps, seed=7, spread=spread)     # warm
    with prof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
        t0 = time.perf_counter()
        run(model, ref, batch, tokens, steps, seed=8, spread=spread)
        wall = time.perf_counter() - t0
    events = [e for e in p.key_averages() if e.device_type.name == "CUDA"]
    gpu_us = sum(e.self_device_time_total for e in events)
    launches = sum(e.count for e in events)
    top = sorted(events, key=lambda e: -e.self_device_time_total)[:15]
    table = p.key_averages().table(sort_by="self_cuda_time_total", row_limit=25, max_name_column_width=80)
    print(table, flush=True)
    if out_dir:
        Path(out_dir, f"profile_b{batch}.txt").write_text(table)
    return {"profile_batch": batch, "wall_s": round(wall, 3), "gpu_kernel_s": round(gpu_us / 1e6, 3),
            "kernel_launches": launches,
            "top_kernels": [{"name": e.key[:90], "s": round(e.self_device_time_total / 1e6, 4), "count": e.count}
                            for e in top]}


def cuda_runs(model: S3Gen, ref: S3GenRef, args, out: Out) -> dict:
    summary: dict = {}
    ref_mel = ref_wav = None
    for spec in args.runs:
        name, _, bs = spec.partition(":")
        batches = [int(b) for b in bs.split(",")] if bs else [1]
        try:
            ref_mel, ref_wav = variant_runs(model, ref, args, out, summary, name, batches, ref_mel, ref_wav)
        except Exception as exc:                      # one broken variant must not lose the others' figures
            out(variant=name, figure="error", error=f"{type(exc).__name__}: {str(exc)[:400]}")
    if args.profile:
        name, _, b = args.profile.partition(":")
        model.use(VARIANTS[name])
        out(variant=name, figure="profile", **profile(model, ref, int(b or 1), args.tokens, args.steps, args.out_dir,
                                                           args.spread))
    return summary


def variant_runs(model: S3Gen, ref: S3GenRef, args, out: Out, summary: dict, name: str, batches: list[int],
                 ref_mel: torch.Tensor | None, ref_wav: torch.Tensor | None) -> tuple:
    """One variant: first call (compile / capture), then each batch size; returns the fp32 reference."""
    audio_s = args.tokens / 25
    model.use(VARIANTS[name])
    t = time.perf_counter()
    # compile / capture / cuBLAS warm-up, at batch 1 only if batch 1 is measured (compile specializes on it)
    run(model, ref, 1 if 1 in batches else min(batches), args.tokens, args.steps, seed=0)
    first = time.perf_counter() - t
    out(variant=name, figure="first_call_s", value=round(first, 2))
    for b in batches:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(model.device)
        try:
            if b == 1:
                tries = [run(model, ref, 1, args.tokens, args.steps, seed=0) for _ in range(3)]
                f, h, mels, wavs = min(tries, key=lambda r: r[0] + r[1])
            else:
                run(model, ref, b, 50, args.steps, seed=100)          # short warm-up at this batch size
                f, h, mels, wavs = run(model, ref, b, args.tokens, args.steps, seed=101, spread=args.spread)
        except torch.OutOfMemoryError:
            out(variant=name, batch=b, figure="out_of_memory")
            break
        peak = torch.cuda.max_memory_allocated(model.device) / 2**20
        made = sum(row_lengths(b, args.tokens, args.spread)) / 25 if b > 1 else audio_s
        fig = {"variant": name, "batch": b, "spread": args.spread if b > 1 else 0.0,
               "audio_s_per_s": round(made / (f + h), 1),
               "flow_s": round(f, 4), "hift_s": round(h, 4), "peak_gpu_mib": round(peak, 1)}
        if b == 1:
            if name == "fp32":
                ref_mel, ref_wav = mels[0], wavs[0]
            elif ref_mel is not None:
                fig.update(mel_rel_l2_vs_fp32=round(rel_l2(mels[0], ref_mel), 5),
                           wav_snr_db_vs_fp32=round(snr_db(wavs[0], ref_wav), 1))
        summary[f"{name}:{b}"] = out(**fig)["audio_s_per_s"]
        del mels, wavs
    return ref_mel, ref_wav


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", default="full", choices=["full", "tiny"])
    ap.add_argument("--dtype", default="float32", help="CPU: compute dtype, float32 or bfloat16")
    ap.add_argument("--tokens", type=int, default=500, help="speech tokens per row (25 per second of audio)")
    ap.add_argument("--prompt-tokens", type=int, default=250)
    ap.add_argument("--steps", type=int, default=None, help="flow steps (default: 10, or 2 with --meanflow)")
    ap.add_argument("--meanflow", action="store_true", help="Turbo's meanflow S3Gen")
    ap.add_argument("--spread", type=float, default=0.0,
                    help="batched rows: token counts spread evenly from --tokens down by this fraction (ragged)")
    ap.add_argument("--calls", type=int, default=3, help="CPU: consecutive calls (memory must stay flat)")
    ap.add_argument("--runs", nargs="*", default=["fp32:1,16", "bf16:1,64", "bf16-graphs:1",
                                                   "bf16-compile:1,64,128,256"],
                    help=f"CUDA: VARIANT:BATCHES, variants {', '.join(VARIANTS)}")
    ap.add_argument("--profile", default=None, help="CUDA: VARIANT:BATCH to profile once")
    ap.add_argument("--jsonl", default=None, help="append every figure to this file")
    ap.add_argument("--out-dir", default=None, help="CUDA: where the profile table goes")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    ap.add_argument("--vocoder-rows", type=int, default=None, help="rows per HiFT pass (default: the model's)")
    args = ap.parse_args()
    args.steps = args.steps or (2 if args.meanflow else 10)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    configure_backends(device)
    t = time.perf_counter()
    model = S3Gen.from_state_dict(s3gen_state_dict(args.preset, seed=0, voice=False,
                                                            meanflow=args.meanflow), device, S3GenRuntime())
    if args.vocoder_rows:
        model.vocoder_rows = args.vocoder_rows
    ref = make_ref(args.prompt_tokens).to(device)
    print(f"loaded {args.preset} S3Gen on {device} in {time.perf_counter() - t:.1f}s; RSS {rss_mib():.0f} MiB",
          flush=True)
    audio_s = args.tokens / 25
    common = {"bench": "s3gen", "device": torch.cuda.get_device_name(device) if cuda else "cpu",
              "torch": torch.__version__, "preset": args.preset, "tokens": args.tokens,
              "prompt_tokens": args.prompt_tokens, "steps": args.steps, "meanflow": args.meanflow,
              "vocoder_rows": model.vocoder_rows}
    out = Out(args.jsonl, common)
    if cuda:
        summary = cuda_runs(model, ref, args, out)
        print(json.dumps({**common, "figure": "summary_audio_s_per_s", **summary}))
        return
    dtype = {"float32": torch.float32, "bfloat16": BF16}[args.dtype]
    model.use(S3GenRuntime(compute_dtype=dtype))
    rss, times = [], []
    for i in range(args.calls):
        f, h, _, _ = run(model, ref, 1, args.tokens, args.steps, seed=i)
        rss.append(rss_mib())
        times.append((f, h))
        print(f"call {i + 1}/{args.calls}: flow {f:.2f}s hift {h:.2f}s ({audio_s / (f + h):.2f}x real time) "
              f"RSS {rss[-1]:.0f} MiB", flush=True)
    best = min(times, key=sum)
    result = {**common, "dtype": args.dtype, "threads": torch.get_num_threads(), "batch1_flow_s": round(best[0], 4),
              "batch1_hift_s": round(best[1], 4), "batch1_total_s": round(sum(best), 4),
              "batch1_audio_s_per_s": round(audio_s / sum(best), 2), "peak_rss_mib": round(peak_rss_mib(), 1),
              "rss_first_mib": round(rss[0], 1), "rss_last_mib": round(rss[-1], 1)}
    if len(rss) >= 10:
        result["rss_growth_after_10_calls_mib"] = round(rss[-1] - rss[9], 1)
    out(**{k: v for k, v in result.items() if k not in common})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
