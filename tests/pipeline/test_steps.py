"""Embedded mode end to end (`tomecast convert`) with a tiny random checkpoint, real text_prep and real ffmpeg:
chapters and titles, exact chapter lengths, manifest accounting, cache reuse and one-sentence edits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline import steps
from pipeline.files import read_wav
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.stitch import prepare_piece, probe, read_pcm
from pipeline.store import Store
from tests.conftest import environ
from worker.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keep_torch_threads")]


def convert(env: dict[str, str], book: Path, voice: Path, out: Path) -> str:
    """Run `tomecast convert` in this process; return the id of the job it made."""
    data = Path(env["TOMECAST_DATA"])
    before = set(Store(data).job_ids())
    with environ(env):
        rc = main(["convert", str(book), "--voice", str(voice), "-o", str(out), "--quiet"])
    assert rc == 0
    (job_id,) = set(Store(data).job_ids()) - before
    return job_id


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, tiny_checkpoint, tiny_env, excerpt_book, voice_clip):
    root = tmp_path_factory.mktemp("embedded")
    env = tiny_env(root / "data", tiny_checkpoint)
    job_id = convert(env, excerpt_book, voice_clip, root / "out")
    return root / "data", job_id, root / "out", env


def decoded_seconds(path: Path) -> float:
    """Length of the audio an encoded file decodes to (encoder delay and padding removed by ffmpeg)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "24000", "-"],
                       capture_output=True, check=True)
    return len(r.stdout) / 2 / 24000


def _plan(store: Store, job_id: str) -> dict:
    return json.loads((store.job_dir(job_id) / "plan.json").read_text())


def test_m4b_has_the_three_chapters_with_their_titles(first_run):
    data, job_id, out, _ = first_run
    store = Store(data)
    plan = _plan(store, job_id)
    (m4b,) = out.glob("*.m4b")
    info = probe(m4b)
    titles = [c["tags"]["title"] for c in info["chapters"]]
    assert titles == [ch["title"] for ch in plan["chapters"]] and len(titles) == 3
    assert "TWELFTH BIRTHDAY" in titles[0].upper() and "WONDER-BALL" in titles[1].upper()
    assert info["format"]["tags"]["title"] == plan["title"] == "The Little Colonel's Hero"
    assert info["format"]["tags"]["artist"] == plan["author"]
    chapter_files = sorted((out / m4b.stem).iterdir())
    assert [p.suffix for p in chapter_files] == [".mp3"] * 3


def test_each_chapter_lasts_its_chunks_plus_pauses_and_room_tone(first_run):
    data, job_id, out, _ = first_run
    store = Store(data)
    plan, manifest = _plan(store, job_id), store.manifest(job_id)
    st = store.spec(job_id).stitching
    (m4b,) = out.glob("*.m4b")
    markers = probe(m4b)["chapters"]
    for ch, marker, entry in zip(plan["chapters"], markers, manifest.chapters, strict=True):
        chunks = [c for c in manifest.chunks if c.chapter == ch["index"]]
        pieces = sum(len(prepare_piece(*read_pcm(store.chunk_path(c.cache)), st)) for c in chunks) / 24000
        # the head replaces the first chunk's leading edge, the tail its last trailing edge and the last pause
        pauses = sum(c.get("pause_ms") or st.pauses_ms[c["pause"]] for c in ch["chunks"][:-1]) / 1000 \
            + (st.head_ms + st.tail_ms - 2 * st.edge_ms) / 1000
        marked = float(marker["end_time"]) - float(marker["start_time"])
        assert abs(marked - (pieces + pauses)) < 0.05, (ch["title"], marked, pieces, pauses)
        assert abs(decoded_seconds(store.job_dir(job_id) / entry.file) - (pieces + pauses)) < 0.05


def test_manifest_accounts_for_every_chunk_exactly_once(first_run):
    data, job_id, _, _ = first_run
    store = Store(data)
    plan, manifest = _plan(store, job_id), store.manifest(job_id)
    planned = [(ci, pos, c["key"]) for ci, ch in enumerate(plan["chapters"]) for pos, c in enumerate(ch["chunks"])]
    listed = [(c.chapter, c.position, c.key) for c in manifest.chunks]
    assert listed == planned and len({c.id for c in manifest.chunks}) == len(planned)
    assert all(c.state == "done" and c.attempts == 1 and c.synthesized for c in manifest.chunks)
    assert all(c.duration > 0 and store.chunk_path(c.cache).is_file() for c in manifest.chunks)
    assert store.state(job_id).state == "done"


def test_resubmission_does_no_synthesis_and_no_stitching(first_run, excerpt_book, voice_clip,
                                                         tmp_path):
    data, first_id, _, env = first_run
    store = Store(data)
    job_id = convert(env, excerpt_book, voice_clip, tmp_path / "again")
    manifest = store.manifest(job_id)
    assert not any(c.synthesized or c.attempts for c in manifest.chunks)
    assert not any(ch.stitched for ch in manifest.chapters)
    assert [c.cache for c in manifest.chunks] == [c.cache for c in store.manifest(first_id).chunks]
    (m4b,) = (tmp_path / "again").glob("*.m4b")
    assert len(probe(m4b)["chapters"]) == 3


def test_one_sentence_edit_makes_one_chunk_and_one_chapter(first_run, excerpt_book, voice_clip,
                                                           tmp_path):
    data, first_id, _, env = first_run
    store = Store(data)
    text = excerpt_book.read_text("utf-8")
    assert text.count("steamer trunk") == 1
    edited = tmp_path / excerpt_book.name
    edited.write_text(text.replace("steamer trunk", "travelling trunk"), "utf-8")
    job_id = convert(env, edited, voice_clip, tmp_path / "edited")
    manifest = store.manifest(job_id)
    made = [c for c in manifest.chunks if c.synthesized]
    assert len(made) == 1 and made[0].chapter == 1
    assert [ch.index for ch in manifest.chapters if ch.stitched] == [1]
    assert len(manifest.chunks) == len(store.manifest(first_id).chunks)


def test_retry_remakes_only_the_failed_chunk_identically(first_run, excerpt_book, voice_clip, tmp_path):
    from pipeline import steps
    from pipeline.jobs import retry_job
    from worker.engine import current_engine
    from worker.settings import Settings

    data, first_id, _, env = first_run
    store = Store(data)
    job_id = convert(env, excerpt_book, voice_clip, tmp_path / "out")
    victim = store.manifest(job_id).chunks[-2]
    original, _ = read_wav(store.chunk_path(victim.cache))
    store.chunk_path(victim.cache).unlink()

    def fail(m):
        m = m.with_chunks({victim.id: {"state": ChunkState.FAILED, "error": "RuntimeError: lost"}})
        return m.with_chapter(victim.chapter, state=ChapterState.FAILED)

    store.update_manifest(job_id, fail)
    store.update_state(job_id, state=JobState.FAILED)
    _, work = retry_job(store, job_id)
    assert {ch: [u.positions for u in units] for ch, units in work.items()} == \
        {victim.chapter: [(victim.position,)]}
    settings = Settings.from_env(env)
    assert steps.run_all(store, job_id, current_engine(settings), settings.batch_size) is not None
    manifest = store.manifest(job_id)
    assert [c.id for c in manifest.chunks if c.synthesized] == [victim.id]
    # made alone now, in a batch before: the same audio up to float rounding (same seed)
    again, _ = read_wav(store.chunk_path(victim.cache))
    assert again.shape == original.shape and np.abs(again - original).max() < 2e-3
    assert store.state(job_id).state == "done"


def test_unusable_voice_clip_is_a_one_line_error(first_run, excerpt_book, tmp_path, capsys):
    data, _, _, env = first_run
    clip = tmp_path / "narrator.wav"
    clip.write_text("this is not audio")
    jobs = Store(data).job_ids()
    with environ(env):
        rc = main(["convert", str(excerpt_book), "--voice", str(clip), "-o", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("tomecast: error:") and str(clip) in err
    assert Store(data).job_ids() == jobs


def test_prepare_loads_only_the_voice_networks(tiny_checkpoint, tiny_env, data_dir, voice_clip, tmp_path):
    """A CPU worker's prepare never loads T3/S3Gen, and records the model id the full model reports."""
    from pipeline import steps
    from pipeline.jobs import submit_job
    from worker.engine import Engine
    from worker.settings import Settings

    book = tmp_path / "book.txt"
    book.write_text("CHAPTER I.\n\nHello there. This is a short book.\n")
    settings = Settings.from_env(tiny_env(data_dir, tiny_checkpoint))
    store = Store(data_dir)
    job_id = submit_job(store, book, settings.job_options(), voice=voice_clip)
    engine = Engine(settings)
    work = steps.prepare_job(store, job_id, engine)
    assert work and not engine.loaded
    voice_speech = engine.speech(settings.model, settings.revision, purpose="voice")
    assert voice_speech.tts.t3 is None and voice_speech.tts.s3gen is None
    manifest = store.manifest(job_id)
    assert store.voice_path(manifest.voice_key).is_file()
    assert manifest.model_id == engine.speech(settings.model, settings.revision).model_id


def test_even_calls_keep_order_and_leave_no_small_tail():
    items = list(range(1100))
    calls = steps.even_calls(items, 1024)
    assert [len(c) for c in calls] == [550, 550] and [x for c in calls for x in c] == items
    assert [len(c) for c in steps.even_calls(list(range(20)), 8)] == [6, 7, 7]
    assert [len(c) for c in steps.even_calls(list(range(16)), 8)] == [8, 8]
    assert steps.even_calls([], 8) == []


def test_chapter_groups_gather_whole_chapters_that_fit_a_call():
    # 300 + 250 fit in 1,024, 500 does not join them; a 1,200-chunk chapter stands alone; the 3-chunk last
    # chapter joins the group before rather than running alone
    assert steps.chapter_groups({0: 300, 1: 250, 2: 500, 3: 10, 4: 1200, 5: 3}, 1024) == [[0, 1], [2, 3], [4, 5]]
    assert steps.chapter_groups({0: 5, 1: 5, 2: 5}, 8) == [[0], [1], [2]]
    assert steps.chapter_groups({0: 3}, 8) == [[0]] and steps.chapter_groups({}, 8) == []
