"""Train the Punkt parameters shipped in text_prep/resources/punkt_en.json, reproducibly (byte for byte).

Training text: the public-domain books in ../shared/corpus, in sorted file order, as plain text extracted by
this script alone (Gutenberg header and licence cut at the START/END markers; HTML and EPUB spine documents
stripped of tags), so the shipped file depends only on the corpus and this script, not on how text_prep's
readers evolve. Learned abbreviations are kept only when they
are letters with inner periods ("u.s", "n.y"), since single-book training also "learns" ordinary words; the
hand-made list in text_prep/sentences.py is added at load time. The orthographic context is kept for words seen at least
twice, which keeps the file small.

    .venv/bin/python scripts/train_punkt.py            # write the file
    .venv/bin/python scripts/train_punkt.py --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from nltk.tokenize.punkt import PunktParameters, PunktTrainer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from text_prep.sentences import PARAMS_RESOURCE, params_to_json  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
OUTPUT = ROOT / "text_prep" / "resources" / PARAMS_RESOURCE
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


_BLOCK_TAGS = frozenset("p div h1 h2 h3 h4 h5 h6 li br tr blockquote section article header footer hr".split())


class _TextOf(HTMLParser):
    """The text of an HTML or XHTML document, a blank line after each block; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "head")
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "head") and self._skip > 0
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _TextOf()
    parser.feed(markup)
    return re.sub(r"\n\s*\n\s*", "\n\n", "".join(parser.parts)).strip()


def _epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        container = ET.fromstring(z.read("META-INF/container.xml"))
        opf_path = next(e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile"))
        opf = ET.fromstring(z.read(opf_path))
        base = posixpath.dirname(opf_path)
        hrefs = {e.get("id"): e.get("href") for e in opf.iter() if e.tag.endswith("}item")}
        spine = [e.get("idref") for e in opf.iter() if e.tag.endswith("}itemref")]
        return "\n\n".join(_html_text(z.read(posixpath.join(base, hrefs[i])).decode("utf-8")) for i in spine)


def _between_markers(text: str) -> str:
    """Text between Project Gutenberg's "*** START OF" and "*** END OF" lines (all of it without them)."""
    start = re.search(r"^\*\*\* ?START OF.*$", text, re.M)
    end = re.search(r"^\*\*\* ?END OF.*$", text, re.M)
    return text[start.end() if start else 0:end.start() if end else len(text)].strip()


def training_text(corpus: Path) -> str:
    books = sorted(p for p in corpus.iterdir() if p.suffix.lower() in (".txt", ".html", ".htm", ".xhtml", ".epub"))
    if not books:
        raise SystemExit(f"no books in {corpus}")
    parts = []
    for path in books:
        suffix = path.suffix.lower()
        if suffix == ".epub":
            text = _epub_text(path)
        elif suffix == ".txt":
            text = path.read_text(encoding="utf-8-sig")
        else:
            text = _html_text(path.read_text(encoding="utf-8"))
        parts.append(_between_markers(text))
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
