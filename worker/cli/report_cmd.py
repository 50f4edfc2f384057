"""`tomecast report JOB`: the QA report of a job (every failed and repaired chunk with its chapter, time and
reason; ACX figures per chapter), written next to its M4B by ``pipeline.report``."""

from __future__ import annotations

import argparse

from worker.cli.options import add_data_options, settings_from

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the QA report of a job (failed and repaired chunks, ACX figures)",
                       description="Print the QA summary of JOB: chunk counts by verdict, the ACX figures of each "
                                   "chapter file, and every failed or repaired chunk with its chapter, its time in "
                                   "the chapter file and in the M4B, its text and reason. The JSON, Markdown and "
                                   "per-chapter plots lie in the job folder (the paths are printed last).")
    p.add_argument("job", help="job id (or a unique prefix/suffix)")
    p.add_argument("--json", action="store_true", help="the whole report as JSON (every chunk and check)")
    add_data_options(p)
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.errors import JobStateError
    from pipeline.report import REPORT_STEM, report_path, write_book_report
    from pipeline.states import ChapterState
    from pipeline.store import Store

    store = Store(settings_from(args).data_dir)
    job_id = store.find_job(args.job)
    md = report_path(store, job_id)
    if not md.is_file():   # an older job, or one whose report failed: build it when its chapters are stitched
        if not store.has_manifest(job_id) or any(ch.state != ChapterState.DONE
                                                 for ch in store.manifest(job_id).chapters):
            raise JobStateError(f"job {job_id} has no QA report yet (it is written when the book is assembled)")
        write_book_report(store, job_id)
    folder = store.job_dir(job_id)
    if args.json:
        print((folder / f"{REPORT_STEM}.json").read_text("utf-8"))
        return 0
    print(md.read_text("utf-8").rstrip())
    plots = sorted(folder.glob(f"{REPORT_STEM}-ch*.png"))
    print(f"\nreport: {md}\n        {folder / f'{REPORT_STEM}.json'}" + "".join(f"\n        {p}" for p in plots))
    return 0
