"""Word alignment of what ASR heard against the chunk's speech text, telling a mishearing from a missing word.

Both sides are normalized the same way (``words``): text_prep's speech normalization (numbers, currency, times,
abbreviations spelled out, as the chunk's speech text already is), then case folded, hyphens and dashes split,
apostrophes and other punctuation dropped. The two word lists are aligned by edit distance (rapidfuzz opcodes).

The mishearing rule. Where the lists differ, ASR either heard the word wrong or the word is not in the audio.
A word that is *not in the audio* leaves no word in its place: it shows up as a deletion between matched words
(missing) and is always an error. A word that *is* in the audio but was heard wrong leaves another word in its
place; that replacement is a mishearing, not an error, when it sounds or is spelt like the text:
  1. a whole stretch of differing words is compared first, spaces removed ("to day" ~ "today", "wood blocks" ~
     "woodblocks", "Holmes's" ~ "homes"): if the joined stretches are similar, every word in it is misheard;
  2. otherwise words inside the stretch are paired in order to maximize total similarity (a small dynamic
     programme); a pair at least ``similarity`` alike is misheard; the remaining text words are missing, the
     remaining heard words extra, and where both remain they count as wrong words, one per position;
  3. two short words (three letters or fewer: "as"/"and", "of"/"on") are always a mishearing.
The ASR check then counts holes (missing and extra words) as one error and wrong words as half of one
(``weighted_errors``): a wrong word still shows that a word was said in its place.
Similarity is the best of the spelling similarity (Indel ratio) and the similarity of a crude sound key
(``sound_key``: ph->f, ck->k, soft c->s, z->s, doubled letters and vowel runs collapsed), so "Sherlock"/"Sherlok",
"colour"/"color", "Ormstein"/"Ormsteen" are mishearings while "table"/"garden" is a wrong word. A synthetic voice
that Whisper mishears on 10-20% of words therefore passes; a dropped, truncated or different sentence does not,
since the missing words leave holes and a different sentence's words do not sound like the text's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

__all__ = ["Alignment", "Op", "WordOp", "align", "allowed_errors", "similarity", "sound_key", "words"]

SHORT = 3  # letters: words this short are function words ("a", "of", "the", "and")
_DASHES = re.compile(r"[-\u2010-\u2015/]")
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def words(text: str, language: str = "en") -> list[str]:
    """Normalized words of ``text``: numbers spelled out, case folded, punctuation dropped."""
    from text_prep.normalize import speech_text  # the same normalization the chunk's speech text went through

    s = speech_text(text, language) or text
    s = _DASHES.sub(" ", s.casefold()).replace("'", "").replace("\u2019", "")
    return _NON_WORD.sub(" ", s).split()


_SOUND_RULES = [("ph", "f"), ("gh", "g"), ("ck", "k"), ("qu", "kw"), ("x", "ks"), ("wh", "w"), ("kn", "n"),
                ("wr", "r"), ("mb", "m"), ("z", "s"), ("y", "i"), ("dg", "j"), ("th", "t"), ("sch", "sk")]
_SOFT_C = re.compile(r"c(?=[eiy])")
_VOWELS = re.compile(r"[aeiou]+")
_DOUBLE = re.compile(r"(.)\1+")


def sound_key(word: str) -> str:
    w = _SOFT_C.sub("s", word.casefold())
    for a, b in _SOUND_RULES:
        w = w.replace(a, b)
    w = w.replace("c", "k")
    w = _DOUBLE.sub(r"\1", w)
    head, rest = w[:1], w[1:]
    return head + _VOWELS.sub("a", rest)


def similarity(a: str, b: str) -> float:
    """In [0, 1]: the better of spelling and sound-key similarity; two short words (function words, which ASR
    confuses most: "as"/"and", "of"/"on") count as alike."""
    if a == b or (len(a) <= SHORT and len(b) <= SHORT):
        return 1.0
    return max(fuzz.ratio(a, b), fuzz.ratio(sound_key(a), sound_key(b))) / 100.0


class Op(StrEnum):
    MATCH = "match"
    MISHEARD = "misheard"
    MISSING = "missing"   # a text word with no word heard in its place
    EXTRA = "extra"       # a heard word with no text word in its place
    WRONG = "wrong"       # a text word heard as a dissimilar word


@dataclass(frozen=True)
class WordOp:
    op: Op
    ref: int | None       # index into the text words
    hyp: int | None       # index into the heard words


@dataclass(frozen=True)
class Alignment:
    ref: tuple[str, ...]
    hyp: tuple[str, ...]
    ops: tuple[WordOp, ...]

    def count(self, op: Op) -> int:
        return sum(o.op == op for o in self.ops)

    @property
    def errors(self) -> int:
        return self.count(Op.MISSING) + self.count(Op.EXTRA) + self.count(Op.WRONG)

    def weighted_errors(self, wrong_weight: float = 0.5) -> float:
        """Holes (missing, extra words) count 1, wrong words ``wrong_weight``: a wrong word is still evidence that
        a word was said in its place, a hole is evidence that one was not (or that one too many was)."""
        return self.count(Op.MISSING) + self.count(Op.EXTRA) + wrong_weight * self.count(Op.WRONG)

    @property
    def heard(self) -> list[WordOp]:
        return [o for o in self.ops if o.op in (Op.MATCH, Op.MISHEARD)]

    @property
    def last_heard_hyp(self) -> int | None:
        """Index of the heard word that matches the last text word heard (where the text ends in the audio)."""
        h = self.heard
        return h[-1].hyp if h else None

    @property
    def trailing_missing(self) -> int:
        """Text words at the end with no word heard in their place (a truncated take)."""
        n = 0
        for o in reversed(self.ops):
            if o.op == Op.MISSING:
                n += 1
            elif o.op != Op.EXTRA:
                break
        return n

    @property
    def missing_run(self) -> tuple[int, int]:
        """(length, first text index) of the longest run of consecutive missing text words (extra words inside
        the run do not break it): a skipped phrase."""
        best, start, cur, cur_start = 0, 0, 0, 0
        for o in self.ops:
            if o.op == Op.MISSING:
                if cur == 0:
                    cur_start = o.ref
                cur += 1
                if cur > best:
                    best, start = cur, cur_start
            elif o.op != Op.EXTRA:
                cur = 0
        return best, start

    @property
    def trailing_extra(self) -> int:
        n = 0
        for o in reversed(self.ops):
            if o.op == Op.EXTRA:
                n += 1
            else:
                break
        return n

    def words_of(self, op: Op) -> list[str]:
        return [self.ref[o.ref] if o.ref is not None else self.hyp[o.hyp] for o in self.ops if o.op == op]

    def accuracy(self, wrong_weight: float = 0.5) -> float:
        return max(0.0, 1.0 - self.weighted_errors(wrong_weight) / max(1, len(self.ref)))


def allowed_errors(n_words: int, rate: float, minimum: int) -> int:
    return max(minimum, math.ceil(n_words * rate))


def align(ref: list[str], hyp: list[str], threshold: float = 0.6) -> Alignment:
    """Align normalized text words ``ref`` with heard words ``hyp`` (see the module docstring for the rule)."""
    ops: list[WordOp] = []
    blocks: list[tuple[int, int, int, int]] = []  # merged runs of differing words: (r0, r1, h0, h1)
    for op in Levenshtein.opcodes(ref, hyp):
        if op.tag == "equal":
            _flush(blocks, ref, hyp, threshold, ops)
            ops.extend(WordOp(Op.MATCH, op.src_start + i, op.dest_start + i) for i in range(op.src_end - op.src_start))
        elif blocks and blocks[-1][1] == op.src_start and blocks[-1][3] == op.dest_start:
            r0, _, h0, _ = blocks[-1]
            blocks[-1] = (r0, op.src_end, h0, op.dest_end)
        else:
            blocks.append((op.src_start, op.src_end, op.dest_start, op.dest_end))
    _flush(blocks, ref, hyp, threshold, ops)
    return Alignment(tuple(ref), tuple(hyp), tuple(ops))


def _flush(blocks, ref, hyp, threshold, ops) -> None:
    for r0, r1, h0, h1 in blocks:
        ops.extend(_block(ref, hyp, r0, r1, h0, h1, threshold))
    blocks.clear()


def _block(ref, hyp, r0, r1, h0, h1, threshold) -> list[WordOp]:
    rs, hs = list(range(r0, r1)), list(range(h0, h1))
    if not hs:
        return [WordOp(Op.MISSING, i, None) for i in rs]
    if not rs:
        return [WordOp(Op.EXTRA, None, j) for j in hs]
    if similarity("".join(ref[r0:r1]), "".join(hyp[h0:h1])) >= threshold:
        last = len(rs) - 1  # spread the heard words over the text words; the last text word gets the last heard one
        return [WordOp(Op.MISHEARD, i, hs[round(k * (len(hs) - 1) / last) if last else -1]) for k, i in enumerate(rs)]
    pairs = _pair(ref, hyp, rs, hs, threshold)
    out: list[WordOp] = []
    ri = hi = 0
    for pi, pj in pairs + [(len(rs), len(hs))]:
        lone_r, lone_h = rs[ri:pi], hs[hi:pj]
        k = min(len(lone_r), len(lone_h))
        out += [WordOp(Op.WRONG, lone_r[t], lone_h[t]) for t in range(k)]
        out += [WordOp(Op.MISSING, i, None) for i in lone_r[k:]]
        out += [WordOp(Op.EXTRA, None, j) for j in lone_h[k:]]
        if pi < len(rs):
            out.append(WordOp(Op.MISHEARD, rs[pi], hs[pj]))
        ri, hi = pi + 1, pj + 1
    return out


def _pair(ref, hyp, rs, hs, threshold) -> list[tuple[int, int]]:
    """Order-preserving pairs (positions in rs, hs) of similar words with the largest total similarity."""
    n, m = len(rs), len(hs)
    sim = [[similarity(ref[i], hyp[j]) for j in hs] for i in rs]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        for b in range(m - 1, -1, -1):
            take = sim[a][b] + best[a + 1][b + 1] if sim[a][b] >= threshold else -1.0
            best[a][b] = max(best[a + 1][b], best[a][b + 1], take)
    pairs, a, b = [], 0, 0
    while a < n and b < m:
        if sim[a][b] >= threshold and best[a][b] == sim[a][b] + best[a + 1][b + 1]:
            pairs.append((a, b))
            a, b = a + 1, b + 1
        elif best[a][b] == best[a + 1][b]:
            a += 1
        else:
            b += 1
    return pairs
