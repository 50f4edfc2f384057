"""T3 memory stability: many consecutive generations with one loaded model must not grow memory.

    python bench/bench_t3_memory.py                       # CPU, tiny config, 1000 x 300 tokens: RSS
    python bench/bench_t3_memory.py --device cuda --full  # full size, bf16, 200 chunks: max_memory_allocated

CPU: RSS after the last generation must be within 2% of RSS after the 10th. CUDA: the allocator's peak
(``torch.cuda.max_memory_allocated``) after the last chunk within 1% of the peak after the 10th. Prints
figures as it goes; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.generate import T3Params, generate_raw, release_memory  # noqa: E402
from model.params import SynthesisParams  # noqa: E402
from model.t3 import T3, T3Cond  # noqa: E402
from model.testing.t3_checkpoint import t3_config, t3_state_dict  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def build(preset: str, device: str, dtype: torch.dtype) -> T3:
    sd = t3_state_dict(preset, seed=0)
    with torch.device("meta"):
        m = T3(t3_config(preset))
    m.load_state_dict(sd, assign=True)
    return m.to(device=device, dtype=dtype).eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--full", action="store_true", help="full-size (520M) model instead of the tiny config")
    ap.add_argument("--n", type=int, default=None, help="generations (default 1000 on CPU, 200 on CUDA)")
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--batch", type=int, default=1, help="texts per generation")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cuda = args.device.startswith("cuda")
    n = args.n or (200 if cuda else 1000)
    dtype = torch.bfloat16 if cuda else torch.float32
    model = build("full" if args.full else "tiny", args.device, dtype)
    g = torch.Generator().manual_seed(0)
    cond = T3Cond(torch.randn(1, 256, generator=g), torch.randint(0, 6561, (1, 150), generator=g), 0.5)
    cond_emb = model.encode_cond(cond)
    lengths = [20, 45, 80, 120, 60]  # all seen within the first 10 generations
    params, dec = SynthesisParams(max_new_tokens=args.tokens), T3Params(stop_at_eos=False)

    def measure() -> int:
        return torch.cuda.max_memory_allocated() if cuda else rss_bytes()

    figures: dict[int, int] = {}
    t0 = time.time()
    for i in range(1, n + 1):
        texts = [torch.randint(3, 700, (lengths[(i + b) % len(lengths)],), generator=g) for b in range(args.batch)]
        generate_raw(model, texts, cond_emb, params, [i * 100 + b for b in range(args.batch)], dec)
        if i in (1, 10) or i % max(1, n // 10) == 0 or i == n:
            figures[i] = measure()
            print(f"{i:5d} generations  {figures[i] / 2**20:9.2f} MiB  {time.time() - t0:7.1f} s", flush=True)
    release_memory(args.device)
    ratio = figures[n] / figures[10]
    limit = 0.01 if cuda else 0.02
    result = {"bench": "t3_memory", "device": args.device, "full": args.full, "generations": n, "tokens": args.tokens,
              "batch": args.batch, "metric": "cuda_max_memory_allocated" if cuda else "rss",
              "after_10_mib": round(figures[10] / 2**20, 2), "after_last_mib": round(figures[n] / 2**20, 2),
              "ratio": round(ratio, 5), "limit": limit, "ok": abs(ratio - 1) <= limit,
              "seconds": round(time.time() - t0, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
