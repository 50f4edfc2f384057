"""Where a Turbo checkpoint comes from: a local folder in the ``ResembleAI/chatterbox-turbo`` layout or that repo.

The variant is told by the files: a folder holding ``t3_turbo_v1.safetensors`` is Turbo (``is_turbo_folder``;
``model.checkpoint`` tells the original variants by their T3 files). ``resolve_turbo_checkpoint`` returns a
``TurboFolder`` (files by role, a stable ``model_id`` for caches, distinct from any original model's); a repo
id is fetched with ``huggingface_hub.snapshot_download`` (only the files Turbo needs, the normal Hugging Face
cache, a second call is a cache hit, also offline). Problems are one-line ``CheckpointError``s.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from model.checkpoint import folder_fingerprint
from model.errors import CheckpointError

log = logging.getLogger(__name__)

TURBO_REPO = "ResembleAI/chatterbox-turbo"
# The commit that public Turbo deployments pin (the same files the official 0.1.7 loader reads; several
# projects pin it beside the original model's 5bb1f6ee..., our DEFAULT_REVISION). ``revision=`` takes another.
TURBO_REVISION = "749d1c1a46eb10492095d68fbcf55691ccf137cd"
TURBO_FILES: dict[str, str] = {"t3": "t3_turbo_v1.safetensors", "s3gen": "s3gen_meanflow.safetensors",
                               "ve": "ve.safetensors", "conds": "conds.pt", "vocab": "vocab.json",
                               "merges": "merges.txt", "tokenizer_config": "tokenizer_config.json",
                               "special_tokens": "special_tokens_map.json", "added_tokens": "added_tokens.json",
                               "tokenizer_json": "tokenizer.json"}
REQUIRED = ("t3", "s3gen", "ve")
OPTIONAL = ("conds", "tokenizer_config", "special_tokens", "added_tokens", "tokenizer_json")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class TurboFolder:
    """A resolved Turbo checkpoint: ``files`` maps roles (``TURBO_FILES``) to the files present."""

    path: Path
    model_id: str
    files: dict[str, Path] = field(default_factory=dict)
    variant: str = "turbo"

    def file(self, role: str) -> Path:
        if role not in self.files:
            raise CheckpointError(f"{self.path}: missing {TURBO_FILES.get(role, role)} (Turbo checkpoint)")
        return self.files[role]

    def require(self, *roles: str) -> None:
        missing = [TURBO_FILES[r] for r in roles if r not in self.files]
        if missing:
            raise CheckpointError(f"{self.path}: missing {', '.join(missing)} (Turbo checkpoint)")


def is_turbo_folder(path: str | Path) -> bool:
    """True for a folder holding the Turbo T3 file."""
    p = Path(path).expanduser()
    return p.is_dir() and (p / TURBO_FILES["t3"]).is_file()


def is_turbo_source(source: str | Path) -> bool:
    """A Turbo folder, or a repo id naming chatterbox-turbo (how ``TTS.load`` can dispatch)."""
    if is_turbo_folder(source):
        return True
    return not Path(source).expanduser().exists() and str(source).rstrip("/").lower().endswith("/chatterbox-turbo")


def _files(folder: Path) -> dict[str, Path]:
    return {role: folder / name for role, name in TURBO_FILES.items() if (folder / name).is_file()}


def _check_tokenizer(folder: Path, files: dict[str, Path], source: str) -> None:
    if "tokenizer_json" not in files and not ("vocab" in files and "merges" in files):
        raise CheckpointError(f"{source}: no GPT-2 tokenizer (vocab.json and merges.txt, or tokenizer.json)")


def resolve_turbo_checkpoint(source: str | Path = TURBO_REPO, revision: str | None = None, *,
                             cache_dir: str | Path | None = None) -> TurboFolder:
    """A local Turbo folder or a Hugging Face repo id in the Turbo layout."""
    path = Path(source).expanduser()
    if path.is_dir():
        if not is_turbo_folder(path):
            raise CheckpointError(f"{path}: no {TURBO_FILES['t3']} (not a Turbo checkpoint folder)")
        files = _files(path)
        _check_tokenizer(path, files, str(path))
        return TurboFolder(path, f"turbo-folder:{folder_fingerprint(path, files)}", files)
    src = str(source)
    if path.exists() or not _REPO_ID.match(src) or src.startswith((".", "/", "~")):
        raise CheckpointError(f"checkpoint folder not found: {src}")
    revision = revision or TURBO_REVISION
    folder = _download(src, revision, cache_dir)
    files = _files(folder)
    missing = [TURBO_FILES[r] for r in REQUIRED if r not in files]
    if missing:
        raise CheckpointError(f"{src}@{revision}: the repository lacks {', '.join(missing)}")
    _check_tokenizer(folder, files, f"{src}@{revision}")
    log.info("Turbo checkpoint %s@%s in %s", src, revision, folder)
    return TurboFolder(folder, f"{src}@{folder.name}", files)


def _download(repo_id: str, revision: str, cache_dir: str | Path | None) -> Path:
    from model.checkpoint import hub_snapshot  # the cache first, one 3 s connect, one-line errors

    return hub_snapshot(repo_id, revision, list(TURBO_FILES.values()), cache_dir)
