"""The QA stage in the pipeline (``pipeline.qa_stage``, ``pipeline.report``): a real book through embedded mode with
the espeak-ng engine, faults planted by ``engines.faults.FaultySpeech``, Whisper tiny.en listening; the report lists
exactly the planted chunks, repaired on their second take; the M4B is complete; retry re-runs exactly the chunks
that failed QA; verdicts survive in the cache; random weights turn repair off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline import steps
from pipeline.jobs import submit_job
from pipeline.qa_stage import ChunkQA, Verdict, retry_qa_failed, sidecar_path
from pipeline.report import REPORT_STEM, book_report
from pipeline.spec import JobOptions
from pipeline.states import JobState
from pipeline.stitch import probe
from pipeline.store import Store

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


class Engine:
    """A ``SpeechEngine`` over one ``Speech`` (espeak, possibly wrapped by the fault planter)."""

    def __init__(self, speech):
        self.speech_ = speech

    def speech(self, model=None, revision=None, purpose="synthesis"):
        return self.speech_


@pytest.fixture(scope="module")
def espeak():
    from engines.espeak import EspeakSpeech, espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return EspeakSpeech(workers=2)


def _excerpt(lines: list[str], start: int, paragraphs: int) -> list[str]:
    out, seen, i = [], 0, start
    while i < len(lines) and seen < paragraphs + 2:   # heading, subtitle, then paragraphs
        out.append(lines[i])
        if lines[i].strip() == "" and i > start and lines[i - 1].strip() != "":
            seen += 1
        i += 1
    return out


def corpus_book(folder: Path, chapters: tuple[str, ...], paragraphs: int) -> Path:
    """The Little Colonel's Hero: its Gutenberg header and the ``chapters`` named ("II." ...), cut to their first
    ``paragraphs`` paragraphs (a real book's front matter, titles and chapter structure, minutes of speech)."""
    src = SHARED / "corpus" / "little-colonels-hero.txt"
    if not src.is_file():
        pytest.skip(f"corpus book not found at {src}")
    lines = src.read_text("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("*** START OF"))
    names = tuple(f"CHAPTER {c}" for c in chapters)
    body = lines[: start + 1] + ["", ""]
    for h in [i for i, ln in enumerate(lines) if ln.strip() in names]:
        body += _excerpt(lines, h, paragraphs) + ["", ""]
    body += ["*** END OF THIS PROJECT GUTENBERG EBOOK THE LITTLE COLONEL'S HERO ***", ""]
    out = folder / f"hero-{'-'.join(chapters)}x{paragraphs}.txt"
    out.write_text("\n".join(body), "utf-8")
    return out


def speech_texts(book: Path) -> list[list[str]]:
    from text_prep import PrepareOptions, prepare

    return [[c.speech for c in ch.chunks] for ch in prepare(book, PrepareOptions()).chapters]


@pytest.fixture(scope="module")
def faulty_book(tmp_path_factory, espeak, whisper_tiny):
    """Two chapters through ``run_all`` with three faults planted on the first take of three chunks."""
    from engines.faults import Fault, FaultySpeech

    root = tmp_path_factory.mktemp("qa-book")
    # chapter I opens with a paragraph of dialect ("mothah", "remembah") that Whisper tiny.en skips in espeak's
    # voice now and then (a false alarm the re-take mends): chapters II and III are plain narration
    book = corpus_book(root, ("II.", "III."), paragraphs=5)
    texts = speech_texts(book)
    planted = {texts[0][3]: Fault.DROP_WORDS, texts[1][2]: Fault.MURMUR_TAIL, texts[1][-2]: Fault.RUNAWAY}
    store = Store(root / "data")
    job_id = submit_job(store, book, JobOptions(model="espeak", chunks_per_task=8,
                                                qa={"asr_model": whisper_tiny, "asr_threads": 2}))
    speech = FaultySpeech(espeak, planted)
    out = steps.run_all(store, job_id, Engine(speech), batch_size=8)
    return store, job_id, out, planted, speech


@pytest.mark.slow
def test_the_report_lists_exactly_the_planted_chunks_repaired_on_their_second_take(faulty_book):
    store, job_id, out, planted, speech = faulty_book
    assert sorted(p.text for p in speech.planted) == sorted(planted)
    report = json.loads((store.job_dir(job_id) / f"{REPORT_STEM}.json").read_text())
    flagged = [c for c in report["chunks"] if c["state"] != "passed"]
    plan = steps.load_plan(store, job_id)
    speech_of = {f"{ci}.{pi}": c.speech for ci, ch in enumerate(plan.chapters) for pi, c in enumerate(ch.chunks)}
    assert sorted(speech_of[c["id"]] for c in flagged) == sorted(planted)
    manifest = store.manifest(job_id)
    for c in flagged:
        assert c["scores"][-1] > c["scores"][0] and all(ch["passed"] for ch in c["checks"]), c
        e = manifest.chunk(c["chapter"], c["position"])
        takes = [a for a in Verdict.load(store, e.cache).attempts if a.kind == "take"]
        assert not takes[0].passed and takes[0].reasons
        if c["state"] == "repaired":   # a new seed: the second take passes
            assert len(takes) == 2 and takes[1].passed and takes[1].seed != e.seed, c
        else:                          # a tail cut at the last word: the same take passes
            assert c["state"] == "trimmed" and len(takes) == 1, c
    kinds = {planted[speech_of[c["id"]]]: c for c in flagged}

    def first_reasons(c: dict) -> tuple[str, ...]:
        return Verdict.load(store, manifest.chunk(c["chapter"], c["position"]).cache).attempts[0].reasons

    # babble past the text's end is a tail when Whisper hears no words in it (cut at the last word), extra words
    # when it does (a re-take): which one depends on Whisper's arithmetic on this CPU; both mend the chunk
    assert kinds["runaway"]["state"] in ("repaired", "trimmed")
    assert any(r.startswith("runaway: ") for r in first_reasons(kinds["runaway"]))
    assert any(r.startswith("asr: ") for r in first_reasons(kinds["drop_words"]))
    assert any(r.startswith("tail: ") for r in first_reasons(kinds["murmur_tail"]))
    assert not manifest.qa_failed() and all(c.qa_state for c in manifest.chunks)


@pytest.mark.slow
def test_the_m4b_is_complete_and_the_report_places_every_chunk(faulty_book):
    store, job_id, out, planted, _ = faulty_book
    assert out is not None and store.state(job_id).state == JobState.DONE
    manifest = store.manifest(job_id)
    info = probe(out)
    assert len(info["chapters"]) == len(manifest.chapters) == 2
    total = sum(ch.duration for ch in manifest.chapters)
    assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.2)
    report = book_report(store, job_id, measure=False)
    assert len(report.chunks) == len(manifest.chunks)
    second = [c for c in report.chunks if c.chapter == 1]
    first_len = manifest.chapters[0].duration
    assert second[0].start_book == pytest.approx(first_len + second[0].start_chapter)
    starts = [c.start_chapter for c in second]
    assert starts == sorted(starts) and starts[-1] < manifest.chapters[1].duration
    assert starts[0] == pytest.approx(store.spec(job_id).stitching.head_ms / 1000, abs=1e-3)   # after the head
    folder = store.job_dir(job_id)
    md = (folder / f"{REPORT_STEM}.md").read_text()
    assert "## Repaired chunks (3)" in md and "**0 failed**" in md and "ASR: on" in md
    assert "runaway: " in md and "tail: " in md   # why each first take was not kept
    assert sorted(p.name for p in folder.glob(f"{REPORT_STEM}-ch*.png")) == [f"{REPORT_STEM}-ch01.png",
                                                                           f"{REPORT_STEM}-ch02.png"]
    written = json.loads((folder / f"{REPORT_STEM}.json").read_text())
    m4b = written["book_file"]   # measured on the M4B itself, after AAC encoding
    assert m4b["name"] == out.name and m4b["within_ceiling"] and m4b["true_peak_db"] <= -3.0
    assert m4b["lufs"] == pytest.approx(-18.0, abs=1.5)
    acx = written["chapters"]
    assert all(ch["acx"] is not None and ch["acx"]["peak_db"] <= -2.5 for ch in acx)
    assert not [r for ch in acx for r in ch["acx"]["reasons"] if "room tone" in r]   # head and tail tone pass


@pytest.mark.slow
def test_a_cached_chunk_keeps_its_verdict(faulty_book):
    store, job_id, _, planted, _ = faulty_book
    manifest = store.manifest(job_id)
    repaired = next(c for c in manifest.chunks if c.qa_state == "repaired")
    verdict = Verdict.load(store, repaired.cache)
    assert verdict is not None and verdict.state == "repaired" and len(verdict.attempts) == 2
    qa = ChunkQA.for_job(store, job_id, store.spec(job_id), steps.load_plan(store, job_id), manifest)
    assert qa.cached([repaired])[repaired.id]["qa_state"] == "repaired"
    assert qa.pace.learned   # the book's own pace, rebuilt from the accepted chunks
    plain = next(c for c in manifest.chunks if c.qa_state == "passed")
    sidecar_path(store, plain.cache).unlink()   # audio made before QA: checked only, its verdict saved
    fields = qa.cached([plain])[plain.id]
    assert fields["qa_state"] == "passed" and fields["qa_attempts"] == 1
    assert Verdict.load(store, plain.cache).report.asr_ran


@pytest.mark.slow
def test_a_chunk_that_fails_qa_completes_the_job_and_retry_reruns_exactly_it(tmp_path, espeak):
    from engines.faults import Fault, FaultySpeech

    book = corpus_book(tmp_path, ("II.",), paragraphs=2)
    texts = speech_texts(book)
    bad = texts[0][2]
    store = Store(tmp_path / "data")
    job_id = submit_job(store, book, JobOptions(model="espeak", qa={"asr": False, "max_takes": 1, "split": False}))
    speech = FaultySpeech(espeak, {bad: Fault.SILENCE}, sticky=True)
    assert steps.run_all(store, job_id, Engine(speech), batch_size=8) is not None
    assert store.state(job_id).state == JobState.DONE
    (failed,) = store.manifest(job_id).qa_failed()
    assert failed.qa_reasons and any(r.startswith("loudness") for r in failed.qa_reasons)
    assert failed.qa_attempts == 2 and len(failed.qa_scores) == 2   # the take and one re-take
    calls = len(speech.planted)
    work = retry_qa_failed(store, job_id, 16)
    assert [u.positions for units in work.values() for u in units] == [(failed.position,)]
    steps.run_all(store, job_id, Engine(speech), batch_size=8)
    after = store.manifest(job_id).chunk(failed.chapter, failed.position)
    assert after.qa_round == 1 and after.qa_state == "failed" and store.state(job_id).state == JobState.DONE
    # the kept take is checked again from the cache, one new take (a new seed) is made: of that chunk only
    assert [p.text for p in speech.planted[calls:]] == [bad]
    assert speech.planted[-1].seed not in {p.seed for p in speech.planted[:calls]}


@pytest.mark.slow
def test_random_weights_turn_repair_off_once(tmp_path, espeak, caplog):
    """Noise for every chunk (what random weights make): checked and recorded, repaired never, said once."""

    class Noise:
        model_id, sample_rate = "noise@1", 22050

        def __init__(self):
            self.calls = 0

        def prepare_voice(self, clip):
            return espeak.prepare_voice(clip)

        def load_voice(self, path):
            return espeak.load_voice(path)

        def synthesize(self, texts, voice, params, seeds):
            self.calls += len(texts)
            return [np.random.default_rng(s).standard_normal(22050 * 2).astype(np.float32) * 0.1 for s in seeds]

    book = corpus_book(tmp_path, ("II.",), paragraphs=3)
    store = Store(tmp_path / "data")
    job_id = submit_job(store, book, JobOptions(model="noise", qa={"asr": False}))
    noise = Noise()
    with caplog.at_level("WARNING"):
        assert steps.run_all(store, job_id, Engine(noise), batch_size=8) is not None
    manifest = store.manifest(job_id)
    assert noise.calls == len(manifest.chunks) and len(manifest.qa_failed()) == len(manifest.chunks)
    assert sum("repair is off" in r.getMessage() for r in caplog.records) == 1


def test_a_verdict_round_trips_and_fills_the_manifest_fields():
    from qa.repair import Attempt, RepairOutcome
    from qa.types import Check, CheckResult, ClipReport

    report = ClipReport("Two words.", 1.5, 24000, (CheckResult(Check.DURATION, True, {"speech": 1.2}),
                                                   CheckResult(Check.LOUDNESS, False, {"rms_db": -60.0}, "too quiet")),
                        asr_ran=False, score=0.5)
    outcome = RepairOutcome(np.zeros(10, np.float32), "failed", report,
                            (Attempt("take", 7, 0.5, False, ("loudness: too quiet",)), Attempt("take", 9, 0.25, False)))
    v = Verdict.of(outcome, round=1, asr_model=None)
    assert Verdict.from_json(v.to_json()) == v
    f = v.manifest_fields()
    assert f["qa_state"] == "failed" and f["qa_reasons"] == ("loudness: too quiet",) and f["qa_attempts"] == 2
    assert f["qa_scores"] == (0.5, 0.25) and f["speech_seconds"] == 1.2


def test_a_chapter_summary_names_states_and_reasons_once():
    from pipeline.manifest import ChapterEntry, ChunkEntry, Manifest
    from pipeline.qa_stage import chapter_summary

    def chunk(pos, state, reasons=()):
        return ChunkEntry(f"0.{pos}", 0, pos, "k", f"c{pos}", pos, qa_state=state, qa_reasons=reasons)

    m = Manifest("j", "m", "v", 24000, (ChapterEntry(0, "One", 4),),
                 (chunk(0, "passed"), chunk(1, "repaired"), chunk(2, "failed", ("runaway: cap", "asr: x")),
                  chunk(3, "failed", ("asr: y",))))
    line, failed = chapter_summary(m, 0)
    assert failed and line == "chapter 1 (One): QA 1 passed, 1 repaired, 2 failed of 4 (asr 2, runaway 1)"
    clean = Manifest("j", "m", "v", 24000, (ChapterEntry(0, "One", 1),), (chunk(0, "passed"),))
    assert chapter_summary(clean, 0) is None
