"""Where the checkpoint files come from: a local folder or a Hugging Face repo id.

``resolve_checkpoint(source, revision=None)`` returns a ``CheckpointFolder``: the folder, its variant
(english or multilingual, told by which T3 file is present), the files by role and a stable ``model_id``
for caches. A repo id is fetched with ``huggingface_hub.snapshot_download`` at a pinned revision, only the
files the variant needs, into the normal Hugging Face cache (a second call is a cache hit, also offline).
Network, missing-repo and missing-file problems become one-line ``CheckpointError``s.
"""

from __future__ import annotations

import hashlib
import logging
import re
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


def _download(repo_id: str, revision: str, variant: str, cache_dir: str | Path | None) -> Path:
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
    patterns = list(VARIANT_FILES[variant].values())
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, cache_dir=cache_dir))
    except RevisionNotFoundError:
        raise CheckpointError(f"{repo_id}: revision {revision!r} not found") from None
    except RepositoryNotFoundError:
        raise CheckpointError(f"{repo_id}: no such Hugging Face repository (or it is private)") from None
    except LocalEntryNotFoundError:
        raise CheckpointError(f"{repo_id}@{revision}: not in the local cache and the Hub cannot be reached "
                              "(offline?); download it once with network access or pass a local folder") from None
    except HfHubHTTPError as exc:
        raise CheckpointError(f"{repo_id}@{revision}: download failed ({str(exc).splitlines()[0][:160]})") from None
    except OSError as exc:
        raise CheckpointError(f"{repo_id}@{revision}: download failed ({exc.__class__.__name__}: {exc})") from None


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
    revision = revision or DEFAULT_REVISION
    folder = _download(src, revision, variant, cache_dir)
    files = _files(folder, variant)
    missing = [name for role, name in VARIANT_FILES[variant].items() if role not in files]
    if missing:
        raise CheckpointError(f"{src}@{revision}: the repository lacks {', '.join(missing)}")
    log.info("checkpoint %s@%s in %s", src, revision, folder)
    return CheckpointFolder(folder, variant, f"{src}@{folder.name}", files)
