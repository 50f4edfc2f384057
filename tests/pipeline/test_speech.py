"""The Speech seam: any object with the ``pipeline.speech`` protocols drives the whole pipeline (here a tone
generator, no torch), and receives the job's ``SynthesisParams`` and per-chunk seeds."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from model.params import SynthesisParams
from pipeline import steps
from pipeline.jobs import submit_job
from pipeline.spec import JobOptions
from pipeline.speech import Purpose
from pipeline.stitch import probe
from pipeline.store import Store


@dataclasses.dataclass
class ToneVoice:
    key: str = "tone-voice-0001"

    def save(self, path) -> None:
        open(path, "wb").write(b"tone")


class ToneSpeech:
    """A backend that speaks every text as a short tone whose pitch follows its seed."""

    model_id = "tone@1"
    sample_rate = 24000

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], SynthesisParams, list[int]]] = []

    def prepare_voice(self, clip):
        return ToneVoice()

    def load_voice(self, path):
        return ToneVoice()

    def synthesize(self, texts, voice, params, seeds):
        self.calls.append((list(texts), params, list(seeds)))
        t = np.arange(int(0.3 * self.sample_rate)) / self.sample_rate
        return [(0.3 * np.sin(2 * np.pi * (200 + s % 400) * t)).astype(np.float32) for s in seeds]


class ToneEngine:
    def __init__(self) -> None:
        self.speech_ = ToneSpeech()
        self.purposes: list[str] = []

    def speech(self, model, revision, purpose=Purpose.SYNTHESIS):
        self.purposes.append(purpose)
        return self.speech_


def test_a_plugged_in_backend_makes_the_book(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text("CHAPTER I.\n\nHello there. A second sentence.\n\nCHAPTER II.\n\nThe end of it.\n")
    store = Store(tmp_path / "data")
    params = SynthesisParams(temperature=0.6)
    # a tone is no speech: QA fails it, and repair off keeps the calls to the chunks' own seeds
    job_id = submit_job(store, book, JobOptions(model="tone", sampling=params, chunks_per_task=2,
                                                qa={"repair": False, "asr": False}))
    engine = ToneEngine()
    out = steps.run_all(store, job_id, engine, batch_size=2)
    assert out is not None and len(probe(out)["chapters"]) == len(store.manifest(job_id).chapters)
    assert engine.purposes[0] == Purpose.VOICE and Purpose.SYNTHESIS in engine.purposes
    manifest = store.manifest(job_id)
    calls = engine.speech_.calls
    assert all(p == params and type(p) is SynthesisParams for _, p, _ in calls)
    assert sorted(s for _, _, seeds in calls for s in seeds) == sorted(c.seed for c in manifest.chunks)
    assert all(len(texts) <= 2 for texts, _, _ in calls)
    assert manifest.model_id == "tone@1" and store.state(job_id).state == "done"


def test_embedded_mode_fills_the_models_batch_rather_than_task_units(tmp_path):
    """batch_size=None: the chunks go to the model in even calls of its own batch (a GPU's, from its free memory),
    not in the 2-chunk task units the job was cut into for workers, and a call runs on across a chapter's end
    (a short last chapter joins the one before rather than running alone)."""
    book = tmp_path / "book.txt"
    sentences = " ".join(f"Sentence number {i} of the chapter is here." for i in range(40))
    book.write_text(f"CHAPTER I.\n\n{sentences}\n\nCHAPTER II.\n\nThe end of it.\n")
    store = Store(tmp_path / "data")
    job_id = submit_job(store, book, JobOptions(model="tone", chunks_per_task=2, qa={"repair": False, "asr": False},
                                                prepare={"max_chars": 60}))
    engine = ToneEngine()
    engine.speech_.batch_size = 7
    assert steps.run_all(store, job_id, engine, batch_size=None) is not None
    manifest = store.manifest(job_id)
    sizes = [len(texts) for texts, _, _ in engine.speech_.calls]
    assert len(manifest.chapter_chunks(0)) > 14 and len(manifest.chapters) == 2
    assert sum(sizes) == len(manifest.chunks) and max(sizes) == 7 and max(sizes) - min(sizes) <= 1
    assert len(sizes) == -(-len(manifest.chunks) // 7)
    last = engine.speech_.calls[-1][0]
    assert "Sentence number thirty-nine of the chapter is here." in last and last[-2:] == ["Chapter two.",
                                                                                          "The end of it."]
    assert store.state(job_id).state == "done" and all(c.state == "done" for c in manifest.chapters)
    refilling = ToneEngine()     # a model that refills its slots takes calls of several batches
    refilling.speech_.batch_size, refilling.speech_.call_size = 3, 7
    other = submit_job(store, book, JobOptions(model="tone", chunks_per_task=2, qa={"repair": False, "asr": False},
                                               prepare={"max_chars": 60}, seed=5))
    assert steps.run_all(store, other, refilling, batch_size=None) is not None
    assert [len(texts) for texts, _, _ in refilling.speech_.calls] == sizes
    # the same book again: every chunk is in the cache, so the model is never loaded for synthesis
    again = submit_job(store, book, JobOptions(model="tone", chunks_per_task=2, qa={"repair": False, "asr": False},
                                               prepare={"max_chars": 60}))
    cached = ToneEngine()
    assert steps.run_all(store, again, cached, batch_size=None) is not None
    assert Purpose.SYNTHESIS not in cached.purposes and not cached.speech_.calls


def test_embedded_mode_stitches_beside_synthesis_and_remakes_audio_found_bad_there(tmp_path, caplog):
    """Chapters are stitched on a thread of their own (the engine goes on with the next chapters meanwhile); a
    cached chunk whose bytes changed (same size, so only the stitch's full check sees it) is made again once,
    after the other chapters, and the book is still delivered."""
    book = tmp_path / "book.txt"
    book.write_text("CHAPTER I.\n\nHello there. A second sentence.\n\nCHAPTER II.\n\nThe end of it.\n")
    store = Store(tmp_path / "data")
    options = JobOptions(model="tone", qa={"repair": False, "asr": False}, prepare={"max_chars": 60})
    first = submit_job(store, book, options)
    engine = ToneEngine()
    engine.speech_.batch_size = 1      # a group per chapter
    with caplog.at_level(logging.INFO, logger="pipeline.steps"):
        assert steps.run_all(store, first, engine, batch_size=None) is not None
    stitched = [r for r in caplog.records if "stitched," in r.getMessage()]
    assert len(stitched) == 2 and all(r.threadName.startswith("stitch") for r in stitched)
    entry = store.manifest(first).chapter_chunks(0)[1]
    path = store.chunk_path(entry.cache)
    raw = bytearray(path.read_bytes())
    raw[-2:] = bytes([raw[-2] ^ 0xFF, raw[-1] ^ 0xFF])
    path.write_bytes(bytes(raw))
    again = submit_job(store, book, options)
    remaker = ToneEngine()
    out = steps.run_all(store, again, remaker, batch_size=None)
    assert out is not None and store.state(again).state == "done"
    speech = steps.load_plan(store, again).chapters[0].chunks[entry.position].speech
    assert [texts for texts, _, _ in remaker.speech_.calls] == [[speech]]     # that chunk alone, once
    assert store.chunk_ok(entry.cache) and len(probe(out)["chapters"]) == 2


def test_chapters_stitched_on_several_threads_make_the_whole_book(tmp_path, caplog):
    """Four chapters stitched three at a time (as on a larger host) while the engine goes on: every chapter done
    once, in its place in the M4B, the manifest whole (its updates are locked across threads)."""
    body = " ".join(f"Sentence {w} of this part is here." for w in ("one", "two", "three", "four", "five", "six"))
    chapters = "".join(f"CHAPTER {n}.\n\n{body}\n\n" for n in ("I", "II", "III", "IV"))
    book = tmp_path / "book.txt"
    book.write_text(chapters)
    store = Store(tmp_path / "data")
    job = submit_job(store, book, JobOptions(model="tone", qa={"repair": False, "asr": False}))
    engine = ToneEngine()
    engine.speech_.batch_size = 1      # a group per chapter
    with caplog.at_level(logging.INFO, logger="pipeline.steps"):
        out = steps.run_all(store, job, engine, batch_size=None, stitch_threads=3)
    assert out is not None and store.state(job).state == "done"
    manifest = store.manifest(job)
    assert [c.state for c in manifest.chapters] == ["done"] * 4 and all(c.state == "done" for c in manifest.chunks)
    stitched = [r for r in caplog.records if "stitched," in r.getMessage()]
    assert len(stitched) == 4 and all(r.threadName.startswith("stitch") for r in stitched)
    marks = probe(out)["chapters"]
    assert [m["tags"]["title"] for m in marks] == [c.title for c in manifest.chapters]
    assert [round(float(m["end_time"]) - float(m["start_time"]), 2) for m in marks] == \
        [round(c.duration, 2) for c in manifest.chapters]
