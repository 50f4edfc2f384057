"""Where the checkpoint files come from: a local folder or a Hugging Face repo id.

``resolve_checkpoint(source, revision=None)`` returns a ``CheckpointFolder``: the folder, its variant
(english or multilingual, told by which T3 file is present), the files by role and a stable ``model_id``
for caches. A repo id is fetched with ``huggingface_hub.snapshot_download`` (the official ids at a pinned
revision, others at their main), only the files the variant needs, into the normal Hugging Face cache (a second
call is a cache hit, also offline). The cache is tried first; a repo missing from it while the Hub cannot be
reached fails at once with a one-line ``CheckpointError`` saying what to do, as do network, missing-repo and
missing-file problems.
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import CheckpointError

log = logging.getLogger(__name__)

DEFAULT_REPO = "ResembleAI/chatterbox"
# A commit of ResembleAI/chatterbox pinned by public projects (holds the English and the v2 multilingual
# files); not verifiable from this sandbox. Pass ``revision=`` to override.
DEFAULT_REVISION = "5bb1f6ee58e50c3b8d408bc82a6d3740c2db6e18"

VARIANT_FILES: dict[str, dict[str, str]] = {
    "english": {"t3": "t3_cfg.safetensors", "ve": "ve.safetensors", "s3gen": "s3gen.safetensors",
                "tokenizer": "tokenizer.json", "conds": "conds.pt"},
    "multilingual": {"t3": "t3_mtl23ls_v2.safetensors", "ve": "ve.pt", "s3gen": "s3gen.pt",
                     "tokenizer": "grapheme_mtl_merged_expanded_v1.json", "conds": "conds.pt"},
}
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class CheckpointFolder:
    """A resolved checkpoint: ``files`` maps roles (t3, ve, s3gen, tokenizer, conds) to present files."""

    path: Path
    variant: str
    model_id: str
    files: dict[str, Path] = field(default_factory=dict)

    def file(self, role: str) -> Path:
        """The file of ``role``; a one-line CheckpointError if the folder lacks it."""
        if role not in self.files:
            name = VARIANT_FILES[self.variant].get(role, role)
            raise CheckpointError(f"{self.path}: missing {name} ({self.variant} checkpoint)")
        return self.files[role]

    def require(self, *roles: str) -> None:
        missing = [VARIANT_FILES[self.variant][r] for r in roles if r not in self.files]
        if missing:
            raise CheckpointError(f"{self.path}: missing {', '.join(missing)} ({self.variant} checkpoint)")


def _detect_variant(folder: Path) -> str:
    for variant, files in VARIANT_FILES.items():
        if (folder / files["t3"]).is_file():
            return variant
    names = " or ".join(f["t3"] for f in VARIANT_FILES.values())
    raise CheckpointError(f"{folder}: no T3 checkpoint ({names}) in this folder")


def _files(folder: Path, variant: str) -> dict[str, Path]:
    return {role: folder / name for role, name in VARIANT_FILES[variant].items() if (folder / name).is_file()}


def folder_fingerprint(folder: Path, files: dict[str, Path]) -> str:
    """A content hash of the checkpoint files: names, sizes and their first and last MiB."""
    h = hashlib.sha256()
    for role in sorted(files):
        p = files[role]
        size = p.stat().st_size
        h.update(f"{p.name}:{size}".encode())
        with open(p, "rb") as f:
            h.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(size - (1 << 20))
                h.update(f.read())
    return h.hexdigest()[:16]


OFFLINE_HINT = ("pass a local checkpoint folder with --model DIR (TOMECAST_MODEL=DIR); to try the pipeline "
                "without weights: python scripts/make_random_checkpoint.py DIR")


def _at(repo_id: str, revision: str | None) -> str:
    return f"{repo_id}@{revision}" if revision else repo_id


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub answers a TCP connect (HF_HUB_OFFLINE counts as unreachable)."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    host = urlparse(constants.ENDPOINT).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def hub_snapshot(repo_id: str, revision: str | None, patterns: list[str], cache_dir: str | Path | None) -> Path:
    """The cached snapshot of ``repo_id`` (only ``patterns``), downloaded if missing; one-line CheckpointErrors.

    The cache is tried first, then the Hub gets one 3 s connect: without it, huggingface_hub retries for
    minutes before an offline start fails."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import (
            HfHubHTTPError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:  # pragma: no cover - a declared dependency
        raise CheckpointError("huggingface_hub is not installed; pass a local checkpoint folder") from None
    at = _at(repo_id, revision)
    try:
        try:
            return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, cache_dir=cache_dir,
                                          local_files_only=True))
        except LocalEntryNotFoundError:
            pass
        if not hub_reachable():
            raise CheckpointError(f"{at}: not in the local cache and the Hugging Face Hub cannot be reached "
                                  f"(offline?); {OFFLINE_HINT}")
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, cache_dir=cache_dir))
    except RevisionNotFoundError:
        raise CheckpointError(f"{repo_id}: revision {revision!r} not found") from None
    except RepositoryNotFoundError:
        raise CheckpointError(f"{repo_id}: no such Hugging Face repository (or it is private)") from None
    except LocalEntryNotFoundError:
        raise CheckpointError(f"{at}: not in the local cache and the Hugging Face Hub cannot be reached "
                              f"(offline?); {OFFLINE_HINT}") from None
    except HfHubHTTPError as exc:
        raise CheckpointError(f"{at}: download failed ({str(exc).splitlines()[0][:160]})") from None
    except OSError as exc:
        raise CheckpointError(f"{at}: download failed ({exc.__class__.__name__}: {exc})") from None


def _download(repo_id: str, revision: str | None, variant: str, cache_dir: str | Path | None) -> Path:
    return hub_snapshot(repo_id, revision, list(VARIANT_FILES[variant].values()), cache_dir)


def pinned_revision(repo_id: str) -> str | None:
    """The revision pinned for an official repo id; None (the repo's main) for any other id."""
    from model.turbo.checkpoint import TURBO_REPO, TURBO_REVISION  # that module imports this one

    return {DEFAULT_REPO: DEFAULT_REVISION, TURBO_REPO: TURBO_REVISION}.get(repo_id)


def resolve_checkpoint(source: str | Path = DEFAULT_REPO, revision: str | None = None, *,
                       variant: str | None = None, cache_dir: str | Path | None = None) -> CheckpointFolder:
    """A local folder (variant detected from its T3 file) or a Hugging Face repo id (``variant`` picks
    the files to fetch, english by default)."""
    path = Path(source).expanduser()
    if path.is_dir():
        found = _detect_variant(path)
        if variant is not None and variant != found:
            raise CheckpointError(f"{path}: a {found} checkpoint, expected {variant}")
        files = _files(path, found)
        return CheckpointFolder(path, found, f"folder:{folder_fingerprint(path, files)}", files)
    src = str(source)
    if path.exists() or not _REPO_ID.match(src) or src.startswith((".", "/", "~")):
        raise CheckpointError(f"checkpoint folder not found: {src}")
    variant = variant or "english"
    if variant not in VARIANT_FILES:
        raise CheckpointError(f"unknown checkpoint variant {variant!r} (english or multilingual)")
    revision = revision or pinned_revision(src)
    folder = _download(src, revision, variant, cache_dir)
    files = _files(folder, variant)
    missing = [name for role, name in VARIANT_FILES[variant].items() if role not in files]
    if missing:
        raise CheckpointError(f"{_at(src, revision)}: the repository lacks {', '.join(missing)}")
    log.info("checkpoint %s in %s", _at(src, revision), folder)
    return CheckpointFolder(folder, variant, f"{src}@{folder.name}", files)
