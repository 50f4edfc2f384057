"""qa and engines import without torch and import no higher layer (model, tasks, pipeline, worker, celery)."""

import subprocess
import sys
import textwrap


def test_qa_and_engines_import_no_torch_and_no_higher_layer():
    code = textwrap.dedent("""
        import sys
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "model", "tasks", "pipeline", "worker", "celery"):
                    raise ImportError(name + " is blocked in this test")
        sys.meta_path.insert(0, _Block())
        import pkgutil, importlib, qa, engines
        for pkg in (qa, engines):
            for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
                importlib.import_module(m.name)
        import qa.align; qa.align.words("It cost $3 in 1887.")
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
