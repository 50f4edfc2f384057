"""Layers do not leak: text_prep and job submission import without torch; model imports no higher layer."""

import subprocess
import sys
import textwrap

BLOCK_TORCH = textwrap.dedent(
    """
    import sys
    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")
            return None
    sys.meta_path.insert(0, _Block())
    """
)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_text_prep_imports_without_torch():
    r = _run("""
        import pkgutil, importlib, text_prep
        for m in pkgutil.walk_packages(text_prep.__path__, "text_prep."):
            importlib.import_module(m.name)
        assert "torch" not in sys.modules
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("ok")


def test_cli_builds_without_torch():
    r = _run("""
        from tasks.cli.main import build_parser
        build_parser()
        assert "torch" not in sys.modules
        print("ok")
    """)
    assert r.returncode == 0, r.stderr


def test_model_imports_no_higher_layer():
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import pkgutil, importlib, sys, model
        for m in pkgutil.walk_packages(model.__path__, "model."):
            importlib.import_module(m.name)
        bad = [n for n in sys.modules if n.split(".")[0] in ("tasks", "worker", "text_prep", "celery")]
        assert not bad, bad
        print("ok")
    """)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
