"""The book's QA report takes the figures the assembly measured beside the M4B's encoding, and they are the
delivered files' own (a tone book through embedded mode, real ffmpeg)."""

from __future__ import annotations

import pytest

from pipeline import steps
from pipeline.jobs import submit_job
from pipeline.loudness import Loudness, measure_loudness
from pipeline.report import Delivered, book_report, measure_chapters
from pipeline.spec import JobOptions
from pipeline.store import Store
from qa.report import BookReport
from tests.pipeline.test_speech import ToneEngine


@pytest.fixture(scope="module")
def tone_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    book = tmp / "book.txt"
    book.write_text("CHAPTER I.\n\nHello there. A second sentence.\n\nCHAPTER II.\n\nThe end of it.\n")
    store = Store(tmp / "data")
    job = submit_job(store, book, JobOptions(model="tone", qa={"repair": False, "asr": False}))
    out = steps.run_all(store, job, ToneEngine(), batch_size=None)
    return store, job, out


def test_the_written_report_holds_the_delivered_files_own_figures(tone_book):
    store, job, out = tone_book
    report = BookReport.from_json((store.job_dir(job) / "qa-report.json").read_text())
    lufs, peak = measure_loudness(out)
    assert report.book_file.lufs == pytest.approx(lufs, abs=0.05)
    assert report.book_file.true_peak_db == pytest.approx(peak, abs=0.05)
    measured = measure_chapters(store, job)
    assert sorted(measured) == [0, 1]
    for written, own in zip(report.chapters, (measured[0], measured[1]), strict=True):   # (the JSON rounds)
        assert written.acx.rms_db == pytest.approx(own.acx.rms_db, abs=0.01)
        assert written.acx.peak_db == pytest.approx(own.acx.peak_db, abs=0.01)
        assert written.acx.reasons == own.acx.reasons and written.duration == pytest.approx(own.duration)


def test_figures_already_measured_are_not_measured_again(tone_book):
    store, job, _ = tone_book
    fresh = book_report(store, job)
    given = Delivered({0: fresh.chapters[1]}, Loudness(-99.0, -42.0))   # marked: chapter 1's record as chapter 0's
    report = book_report(store, job, delivered=given)
    assert report.chapters[0] == fresh.chapters[1] and report.chapters[1] == fresh.chapters[1]
    assert (report.book_file.lufs, report.book_file.true_peak_db) == (-99.0, -42.0)
