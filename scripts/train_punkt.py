"""Train the Punkt parameters shipped in text_prep/resources/punkt_en.json, reproducibly (byte for byte).

Training text: the bodies of the public-domain books in ../shared/corpus (Gutenberg boilerplate and front/back
matter removed by text_prep's own readers), in sorted file order. Learned abbreviations are kept only when they
are letters with inner periods ("u.s", "n.y"), since single-book training also "learns" ordinary words; the
hand-made list in text_prep/sentences.py is added at load time. The orthographic context is kept for words seen at least
twice, which keeps the file small.

    .venv/bin/python scripts/train_punkt.py            # write the file
    .venv/bin/python scripts/train_punkt.py --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from nltk.tokenize.punkt import PunktParameters, PunktTrainer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from text_prep.readers import read_document  # noqa: E402
from text_prep.sentences import PARAMS_RESOURCE, params_to_json  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
OUTPUT = ROOT / "text_prep" / "resources" / PARAMS_RESOURCE
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def training_text(corpus: Path) -> str:
    books = sorted(p for p in corpus.iterdir() if p.suffix.lower() in (".txt", ".html", ".htm", ".xhtml", ".epub"))
    if not books:
        raise SystemExit(f"no books in {corpus}")
    parts = []
    for path in books:
        doc = read_document(path)
        parts += [s.text for s in doc.sections if not s.matter]
    return "\n\n".join(parts)


def train(text: str) -> PunktParameters:
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = False
    trainer.train(text, finalize=True)
    params = trainer.get_params()
    params.abbrev_types = {a for a in params.abbrev_types if "." in a and re.fullmatch(r"[a-z.]+", a)}
    counts = Counter(w.lower() for w in _WORD.findall(text))
    kept = {k: v for k, v in params.ortho_context.items() if counts.get(k, 0) >= 2}
    params.ortho_context.clear()
    params.ortho_context.update(kept)
    return params


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of public-domain books")
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="compare with the output file instead of writing it")
    args = ap.parse_args()
    data = params_to_json(train(training_text(args.corpus))).encode("utf-8")
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print("punkt parameters are up to date" if same else f"{args.output} differs from a fresh training")
        return 0 if same else 1
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
