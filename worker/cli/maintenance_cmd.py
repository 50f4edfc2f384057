"""Keeping the data folder bounded: ``tomecast rm JOB...`` and ``tomecast prune`` (the chunk and chapter caches,
by age or total size). Neither imports torch."""

from __future__ import annotations

import argparse

from worker.cli.options import add_data_options, settings_from

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rm", help="remove jobs (their folders; the caches stay)",
                       description="Remove each JOB's folder: its copies of the inputs, documents, chapter files and "
                                   "M4B. Cached audio stays for other jobs (see `tomecast prune`). A running job is "
                                   "refused: cancel it first, or pass --force.")
    p.add_argument("jobs", nargs="+", metavar="JOB", help="job id (or a unique prefix/suffix)")
    p.add_argument("--force", action="store_true", help="remove even a job that is still running")
    add_data_options(p)
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("prune", help="shrink the audio caches (by age or size)",
                       description="Remove cached chunk and chapter audio not used for --days, then the least "
                                   "recently used until the caches hold at most --max-mb. Audio of unfinished jobs "
                                   "is kept. Removed audio is synthesized again if a job needs it.",
                       epilog="example: tomecast prune --days 30 --max-mb 2000")
    p.add_argument("--days", type=float, metavar="N", help="remove entries unused for N days")
    p.add_argument("--max-mb", type=float, metavar="MB", dest="max_mb", help="keep at most this much cached audio")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    add_data_options(p)
    p.set_defaults(func=cmd_prune)


def _store(args):
    from pipeline.store import Store

    return Store(settings_from(args).data_dir).ensure()


def cmd_rm(args: argparse.Namespace) -> int:
    from pipeline.jobs import remove_job

    store = _store(args)
    for job in args.jobs:
        print(f"{remove_job(store, job, force=args.force)} removed")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from pipeline.cleanup import prune_cache
    from worker.cli.main import UserError

    if args.days is None and args.max_mb is None:
        raise UserError("prune needs --days N and/or --max-mb MB")
    if (args.days is not None and args.days < 0) or (args.max_mb is not None and args.max_mb < 0):
        raise UserError("--days and --max-mb must not be negative")
    r = prune_cache(_store(args), older_than_days=args.days, max_mb=args.max_mb, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {r.files} cache entries, {r.freed / 1e6:.1f} MB; {r.kept / 1e6:.1f} MB kept")
    return 0
