"""Prepare a generated 1-million-word manuscript and report time and peak memory (CPU only).

    .venv/bin/python bench/bench_text_prep.py [--words 1000000] [--format txt|md|html]

The manuscript is seeded: chapters of ~5,000 words, paragraphs of 2-8 sentences, with dialogue, numbers,
abbreviations and an occasional very long sentence; now and then a stanza of verse, a scene break, an editorial
bracket or a pause mark; "THE END" and a publisher's catalogue close it.
Goal on a 2-core machine: < 20 s and < 1 GB RSS.
Last line: JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from text_prep import PrepareOptions, prepare  # noqa: E402

WORDS = ("the a and of to in he she it was had said that with his her for on at as but not by they we you "
         "house garden river morning evening letter window street carriage doctor friend stranger question "
         "answer quietly suddenly never always little great old young walked looked turned spoke opened "
         "remembered believed wondered across through before after between under above towards").split()
EXTRAS = ["Mr. Holmes", "Mrs. Hudson", "Dr. Watson", "St. Simon", "i.e. the", "e.g. a", "in 1891", "at 10:30",
          "£5", "$3.50", "45%", "the 21st", "J. R. R. Tolkien"]


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(EXTRAS))
    if n > 8 and rng.random() < 0.4:
        words[n // 2] += ","
    s = " ".join(words)
    s = s[0].upper() + s[1:]
    end = rng.choice(".....!?")
    if rng.random() < 0.2:
        return f"\u201c{s}{end}\u201d said {rng.choice(['Holmes', 'Watson', 'she'])}."
    return s + end


def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def manuscript(n_words: int, fmt: str, seed: int = 0) -> str:
    rng = random.Random(seed)
    parts, count, chapter = [], 0, 0
    while count < n_words:
        chapter += 1
        heading = {"txt": f"CHAPTER {chapter}.", "md": f"## Chapter {chapter}", "html": f"<h2>Chapter {chapter}</h2>"}
        parts.append(heading[fmt])
        target = count + 5000
        while count < min(target, n_words):
            sents = []
            for _ in range(rng.randint(2, 8)):
                n = rng.randint(4, 90 if rng.random() < 0.02 else 22)
                sents.append(sentence(rng, n))
                count += n
            par = " ".join(sents)
            parts.append(f"<p>{par}</p>" if fmt == "html" else par)
            extra = rng.random()
            if extra < 0.02:  # a stanza: lines kept apart with short pauses
                lines = [sentence(rng, rng.randint(4, 7)).rstrip(".!?") + "," for _ in range(4)]
                parts.append("<p>" + "<br/>".join(lines) + "</p>" if fmt == "html" else "\n".join(lines))
            elif extra < 0.03:
                parts.append("<hr/>" if fmt == "html" else "* * *")
            elif extra < 0.035:
                parts.append("<p>[Illustration: A view of the river]</p>" if fmt == "html"
                             else "[Illustration: A view of the river]")
            elif extra < 0.037:
                parts.append("<p>[pause 2s]</p>" if fmt == "html" else "[pause 2s]")
    ending = ["THE END.", "Books by the same author", "The River. Cloth, $1.50.", "The Garden. Cloth, $1.25."]
    parts += [f"<p>{e}</p>" for e in ending] if fmt == "html" else ending
    body = "\n\n".join(parts)
    if fmt == "html":
        return f"<html><head><title>Bench</title></head><body>{body}</body></html>"
    return body + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("txt", "md", "html"), default="txt")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench.{args.format}"
        t0 = time.perf_counter()
        path.write_text(manuscript(args.words, args.format), encoding="utf-8")
        gen_s = time.perf_counter() - t0
        cpu0 = _cpu_s()
        t0 = time.perf_counter()
        book = prepare(path, PrepareOptions())
        prep_s = time.perf_counter() - t0
        prep_cpu_s = _cpu_s() - cpu0
        t0 = time.perf_counter()
        plan = book.to_json()
        json_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    chunks = sum(len(c.chunks) for c in book.chapters)
    words = sum(c.words for c in book.chapters)
    print(f"manuscript: {args.words} words requested, {words} prepared, {size_mb:.1f} MB ({gen_s:.1f} s to generate)")
    print(f"prepare: {prep_s:.2f} s, {len(book.chapters)} chapters, {chunks} chunks; to_json {json_s:.2f} s "
          f"({len(plan) / 1e6:.1f} MB)")
    print(f"prepare CPU time (all processes): {prep_cpu_s:.2f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"peak RSS: {rss_mb:.0f} MB, largest worker process {child_rss_mb:.0f} MB  (goal: < 20 s, < 1024 MB)")
    print(json.dumps({"bench": "text_prep", "format": args.format, "words": words, "mb": round(size_mb, 2),
                      "prepare_s": round(prep_s, 2), "prepare_cpu_s": round(prep_cpu_s, 2),
                      "to_json_s": round(json_s, 2), "chapters": len(book.chapters), "chunks": chunks,
                      "pauses": dict(sorted(Counter(str(c.pause) for c in book.chunks).items())),
                      "timed_pauses": sum(1 for c in book.chunks if c.pause_ms), "skipped": list(book.skipped),
                      "peak_rss_mb": round(rss_mb), "worker_rss_mb": round(child_rss_mb),
                      "load_avg": round(os.getloadavg()[0], 1), "ok": prep_s < 20 and rss_mb < 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
