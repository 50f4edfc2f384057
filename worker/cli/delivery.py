"""Where ``tomecast convert`` puts the book, checked before any work, and how an embedded job is closed.

``-o`` is a folder (created if need be; it gets ``TITLE.m4b`` and a ``TITLE/`` folder of chapter files) or a
``NAME.m4b`` file name (chapter files go to ``NAME/`` beside it); anything else (an existing file, ``book.mp3``)
is refused before a job is made. Writability is tried at once; free space and files already there (an M4B or
chapter files: ``--force`` replaces them, and then chapter files of another format are removed) once the book is
planned, before synthesis. A failed or interrupted embedded job is marked failed, never left running; one whose
manuscript could not even be planned is removed (a bad manuscript makes no job).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import DiskFullError, PipelineError
from pipeline.files import atomic_copy, is_disk_full
from pipeline.space import ENCODED_BYTES_PER_S, MARGIN_BYTES, fail_disk_full
from pipeline.states import JobState
from pipeline.store import Store, now_iso

__all__ = ["Output", "check_destination", "check_output_path", "closing_job", "deliver"]

# names that are files, not folders: refused as -o (the old behaviour made a folder "book.mp3")
_FILE_SUFFIXES = frozenset({".mp3", ".wav", ".flac", ".opus", ".ogg", ".m4a", ".aac", ".mp4", ".txt", ".epub",
                            ".md", ".html", ".pdf"})
# chapter files as the pipeline names them: "01 Title.mp3"
_CHAPTER_FILE = re.compile(r"^\d{2,} .*\.(mp3|flac|opus|wav|m4a|ogg)$")


@dataclass(frozen=True)
class Output:
    folder: Path               # where everything goes
    m4b_name: str | None       # the user's NAME.m4b, or None: the book's own name

    def book(self, name: str) -> Path:
        return self.folder / (self.m4b_name or name)

    def chapters(self, name: str) -> Path:
        return self.folder / Path(self.m4b_name or name).stem


def check_output_path(output: Path) -> Output:
    """The output of ``-o``, checked and its folder made writable-proven; one-line PipelineError otherwise."""
    if output.suffix.lower() == ".m4b":
        if output.is_dir():
            raise PipelineError(f"-o {str(output)!r} is a folder; give a folder or a NAME.m4b file name")
        out = Output(output.parent, output.name)
    elif output.is_dir():
        out = Output(output, None)
    elif output.exists():
        raise PipelineError(f"-o {str(output)!r} is an existing file; give a folder or a NAME.m4b file name")
    elif output.suffix.lower() in _FILE_SUFFIXES:
        raise PipelineError(f"-o {str(output)!r}: give a folder or a NAME.m4b file name (the book is an M4B; "
                            f"--format chooses the chapter files' format)")
    else:
        out = Output(output, None)
    try:
        out.folder.mkdir(parents=True, exist_ok=True)
        probe = out.folder / f".tomecast-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PipelineError(f"cannot write to the output folder {str(out.folder)!r}: {exc.strerror}") from None
    return out


def check_destination(out: Output, m4b_name: str, manifest, force: bool) -> None:
    """Before synthesis: room for the M4B and chapter files, and nothing replaced without ``force``."""
    book, chapters = out.book(m4b_name), out.chapters(m4b_name)
    old = [book] if book.exists() else []
    if chapters.is_dir():
        old += [p for p in chapters.iterdir() if _CHAPTER_FILE.match(p.name)]
    if old and not force:
        raise PipelineError(f"{str(book if book in old else chapters)!r} already holds this book; pass --force to "
                            f"replace it, or choose another -o")
    if old:
        print(f"tomecast: replacing {book} and {len(old) - (book in old)} chapter files in {chapters}",
              file=sys.stderr)
    per_chunk = 8.0
    needed = int(2 * len(manifest.chunks) * per_chunk * ENCODED_BYTES_PER_S)   # chapter files and the M4B
    free = shutil.disk_usage(out.folder).free + sum(p.stat().st_size for p in old)
    if needed + MARGIN_BYTES > free:
        raise DiskFullError(f"not enough space in the output folder {out.folder} (needs about "
                            f"{(needed + MARGIN_BYTES - free) / 1e6:.0f} MB more)")


def deliver(store: Store, job_id: str, m4b: Path, out: Output, force: bool) -> tuple[Path, list[Path]]:
    """Copy the book and its chapter files out of the job folder; old chapter files not made now are removed."""
    book, chapter_dir = out.book(m4b.name), out.chapters(m4b.name)
    base = out.folder.resolve()
    chapter_dir.mkdir(parents=True, exist_ok=True)
    sources = [store.job_dir(job_id) / e.file for e in store.manifest(job_id).chapters]
    targets = [chapter_dir / src.name for src in sources]
    for path in (book, *targets):   # every name derived from the book stays inside the output folder
        if not path.resolve().is_relative_to(base) or path.resolve() == base:
            raise PipelineError(f"output file {str(path)!r} would land outside {str(out.folder)!r}")
    atomic_copy(m4b, book)
    chapters = [atomic_copy(src, dst) for src, dst in zip(sources, targets, strict=True)]
    made = {p.name for p in chapters}
    for stale in [p for p in chapter_dir.iterdir() if _CHAPTER_FILE.match(p.name) and p.name not in made]:
        stale.unlink()   # a previous run's chapter files (another format, other titles): only reached with --force
    return book, chapters


@contextlib.contextmanager
def closing_job(store: Store, job_id: str) -> Iterator[None]:
    """An embedded job that fails or is interrupted is marked failed (never left running), its error naming the
    user's files; one that could not be planned is removed; a full disk gives the disk-full message."""
    try:
        yield
    except KeyboardInterrupt:
        store.update_state(job_id, state=JobState.FAILED, finished=now_iso(),
                           error="interrupted; run the same convert again to resume (made chunks are cached)")
        raise
    except Exception as exc:
        spec = store.spec(job_id)
        if is_disk_full(exc):
            raise DiskFullError(fail_disk_full(store, job_id)) from None
        if not store.has_manifest(job_id):   # the manuscript (or voice) could not be planned: no job
            shutil.rmtree(store.job_dir(job_id), ignore_errors=True)
        elif not store.state(job_id).final:
            store.update_state(job_id, state=JobState.FAILED, finished=now_iso(),
                               error=store.user_terms(spec, f"{type(exc).__name__}: {exc}")[:500])
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (store.user_terms(spec, exc.args[0]), *exc.args[1:])
        raise
