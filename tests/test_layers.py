"""Layers import downward only: every module of each package is imported in a fresh interpreter whose import
system refuses the packages above it (an upward arrow fails here, naming the module and what it reached for).

    worker      Celery app and tasks, CLI, engine lifetime, settings     may import everything below
    pipeline    job documents, store, steps, stitcher                     text_prep, torch-free model modules
    qa, engines (being built) bottom-ish helpers                          text_prep, numpy; never model/pipeline/worker
    model       tensors and token ids                                     nothing above, never text_prep
    text_prep   manuscript -> chapters -> chunks                          nothing above, never torch
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

UPPER = ("pipeline", "worker", "celery", "kombu")

# package -> top-level names none of its modules may import (directly or through anything it imports)
FORBIDDEN = {
    "text_prep": ("model", "qa", "engines", "torch", *UPPER),
    "model": ("text_prep", "qa", "engines", *UPPER),
    "qa": ("model", "torch", *UPPER),
    "engines": ("model", *UPPER),
    "pipeline": ("worker", "celery", "kombu", "torch"),
}

# the model modules the pipeline may use: torch-free by contract
PIPELINE_MAY_USE = ("model.params", "model.errors", "model.config",
                    # is_turbo_source, to refuse tags=keep for a model that would read them aloud
                    "model.turbo", "model.turbo.checkpoint", "model.checkpoint")

BLOCKER = textwrap.dedent(
    """
    import sys
    BLOCKED = set(sys.argv[1].split(","))
    ALLOWED = set(filter(None, sys.argv[2].split(",")))
    class Blocker:
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in BLOCKED and not any(name == a or a.startswith(name + ".") for a in ALLOWED):
                importer = sys._getframe(1)
                while importer and importer.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
                    importer = importer.f_back
                who = importer.f_globals.get("__name__", "?") if importer else "?"
                raise ImportError(f"layer violation: {who} imports {name}")
            return None
    sys.meta_path.insert(0, Blocker())
    """
)


def _run(code: str, blocked: tuple[str, ...], allowed: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code), ",".join(blocked),
                           ",".join(allowed)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_every_module_imports_only_lower_layers(package):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"package {package} does not exist (yet)")
    allowed = PIPELINE_MAY_USE if package == "pipeline" else ()
    r = _run(f"""
        import importlib, pkgutil
        import {package}
        names = [m.name for m in pkgutil.walk_packages({package}.__path__, "{package}.")]
        for name in names:
            importlib.import_module(name)
        print(len(names) + 1, "modules")
    """, FORBIDDEN[package], allowed)
    assert r.returncode == 0, r.stderr.strip().splitlines()[-1:]
    assert int(r.stdout.split()[0]) >= 2


def test_the_blocker_catches_an_upward_import():
    """The check can fail: a lower module reaching up is reported with its name."""
    r = _run("import pipeline.store", ("pipeline",))
    assert r.returncode != 0 and "layer violation: __main__ imports pipeline" in r.stderr


def test_pipeline_uses_only_torch_free_model_modules():
    r = _run("""
        import importlib, pkgutil, sys, pipeline
        for m in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
            importlib.import_module(m.name)
        used = sorted(n for n in sys.modules if n.split(".")[0] == "model" and n != "model")
        print(",".join(used))
    """, ("torch",))
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.strip().split(",")) <= set(PIPELINE_MAY_USE), r.stdout


def test_submitting_imports_no_torch():
    """Building the CLI parser and everything `tomecast submit` runs before the broker: no torch."""
    r = _run("""
        from worker.cli.main import build_parser
        build_parser()
        import pipeline.jobs, worker.settings, worker.cli.jobs_cmd, worker.tasks  # noqa: F401
        print("ok")
    """, ("torch",))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
