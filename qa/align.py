"""Word alignment of what ASR heard against the chunk's speech text, telling a mishearing from a missing word.

Both sides are normalized the same way (``words``): text_prep's speech normalization (numbers, currency, times,
abbreviations spelled out, as the chunk's speech text already is), then case folded, hyphens and dashes split,
apostrophes and other punctuation dropped. The two word lists are aligned by edit distance (rapidfuzz opcodes).

The mishearing rule. Where the lists differ, ASR either heard the word wrong or the word is not in the audio.
A word that is *not in the audio* leaves no word in its place: it shows up as a deletion between matched words
(missing) and is always an error. A word that *is* in the audio but was heard wrong leaves another word in its
place; that replacement is a mishearing, not an error, when it sounds or is spelt like the text:
  1. inside a stretch of differing words, words are grouped in order, one to one, or two to one where ASR
     joined or split words ("to day" ~ "today", "wood blocks" ~ "woodblocks"), to explain as many words as
     possible (a small dynamic programme); a group at least ``similarity`` alike is misheard;
  2. between two groups, text words with no heard words are missing and heard words with no text words are
     extra; where both remain and have about as many letters (half to twice), ASR heard something that long
     in the text's place: they are wrong words, one per position ("chagrined" -> "shut in");
     otherwise pairs are wrong and the rest missing or extra;
  3. two short words (three letters or fewer: "as"/"and", "of"/"on") are always a mishearing.
The ASR check then counts holes (missing and extra words) as one error and wrong words, and holes of short
function words, as half of one (``weighted_errors``): a wrong word still shows that a word was said in its
place, and ASR drops or adds "a", "the", "as" far more often than a voice does. Apart from the count, three or
more consecutive missing words are a skipped phrase and two or more at the end a truncation, whatever the length.
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
    if a == b or _both_short(a, b):
        return 1.0
    return _sound_alike(a, b)


def _both_short(a: str, b: str) -> bool:
    return len(a) <= SHORT and len(b) <= SHORT


def _sound_alike(a: str, b: str) -> float:
    from rapidfuzz import fuzz  # the asr extra: only the ASR check aligns words

    return max(fuzz.ratio(a, b), fuzz.ratio(sound_key(a), sound_key(b))) / 100.0


class Op(StrEnum):
    MATCH = "match"
    MISHEARD = "misheard"
    MISSING = "missing"   # a text word with no word heard in its place
    EXTRA = "extra"       # a heard word with no text word in its place
    WRONG = "wrong"       # a text word heard as a dissimilar word (one side may be None: one word heard as two)


@dataclass(frozen=True)
class WordOp:
    op: Op
    ref: int | None       # index into the text words
    hyp: int | None       # index into the heard words
    weak: bool = False    # misheard only by the short-word rule: no evidence of where the text is on its own


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
        a word was said in its place, a hole is evidence that one was not (or that one too many was). A hole of
        a short function word ("a", "as", "the") counts ``wrong_weight`` too: ASR drops and inserts those far
        more often than a voice does, and a listener barely notices one."""
        e = 0.0
        for o in self.ops:
            if o.op == Op.WRONG:
                e += wrong_weight
            elif o.op in (Op.MISSING, Op.EXTRA):
                w = self.ref[o.ref] if o.ref is not None else self.hyp[o.hyp]
                e += wrong_weight if len(w) <= SHORT else 1.0
        return e

    @property
    def heard(self) -> list[WordOp]:
        return [o for o in self.ops if o.op in (Op.MATCH, Op.MISHEARD)]

    @property
    def last_heard_hyp(self) -> int | None:
        """Index of the last heard word standing in a text word's place (matched, misheard or wrong), where the
        text ends in the audio; trailing extra words are after it. A weak mishearing (two short words) counts
        only next to another heard word: alone among extra words it is more likely a murmur's "of" than the
        text's "to"."""
        ops = self.ops

        def placed(o: WordOp) -> bool:
            return o.hyp is not None and (o.op in (Op.MATCH, Op.MISHEARD, Op.WRONG))

        for k in range(len(ops) - 1, -1, -1):
            o = ops[k]
            if not placed(o):
                continue
            if not o.weak:
                return o.hyp
            near = [ops[j] for j in (k - 1, k + 1) if 0 <= j < len(ops)]
            if any(placed(n) and not n.weak for n in near):
                return o.hyp
        return None

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
        """Text words of ``op`` (heard words for extra ones, and for wrong ones with no text word)."""
        return [self.ref[o.ref] if o.ref is not None else self.hyp[o.hyp] for o in self.ops if o.op == op]

    def accuracy(self, wrong_weight: float = 0.5) -> float:
        return max(0.0, 1.0 - self.weighted_errors(wrong_weight) / max(1, len(self.ref)))


def allowed_errors(n_words: int, rate: float, minimum: int) -> int:
    return max(minimum, math.ceil(n_words * rate))


def align(ref: list[str], hyp: list[str], threshold: float = 0.5) -> Alignment:
    """Align normalized text words ``ref`` with heard words ``hyp`` (see the module docstring for the rule)."""
    from rapidfuzz.distance import Levenshtein

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
    out: list[WordOp] = []
    ri = hi = 0
    for pa, pb, qa, qb in _pair(ref, hyp, rs, hs, threshold) + [(len(rs), len(rs), len(hs), len(hs))]:
        out += _gap(ref, hyp, rs[ri:pa], hs[hi:qa])
        # a pair is 1:1, 2:1 (text words heard joined) or 1:2 (a text word heard split); the last text word of
        # the pair gets the last heard word, so word times find where the text ends
        weak = pb - pa == 1 and qb - qa == 1 and _both_short(ref[rs[pa]], hyp[hs[qa]])
        for t in range(pa, pb):
            out.append(WordOp(Op.MISHEARD, rs[t], hs[qb - 1] if t == pb - 1 else hs[qa], weak))
        ri, hi = pb, qb
    return out


def _gap(ref, hyp, lone_r: list[int], lone_h: list[int]) -> list[WordOp]:
    """Unpaired text and heard words between two groups. When both sides have words and about as many letters
    (half to twice), ASR heard *something that long* where the text is: all of it is wrong words (a rare word
    heard as two short ones, "chagrined" -> "shut in"). Otherwise pairs are wrong, the rest missing or extra."""
    if lone_r and lone_h:
        lr, lh = sum(len(ref[i]) for i in lone_r), sum(len(hyp[j]) for j in lone_h)
        if 0.5 <= lh / lr <= 2.0:
            k = max(len(lone_r), len(lone_h))
            return [WordOp(Op.WRONG, lone_r[t] if t < len(lone_r) else None, lone_h[t] if t < len(lone_h) else None)
                    for t in range(k)]
    k = min(len(lone_r), len(lone_h))
    return ([WordOp(Op.WRONG, lone_r[t], lone_h[t]) for t in range(k)]
            + [WordOp(Op.MISSING, i, None) for i in lone_r[k:]] + [WordOp(Op.EXTRA, None, j) for j in lone_h[k:]])


_SHAPES = ((1, 1), (2, 1), (1, 2))
MERGE_SIMILARITY = 0.85  # joined or split words must be nearly the same letters ("to day"/"today")


def _pair(ref, hyp, rs, hs, threshold) -> list[tuple[int, int, int, int]]:
    """Order-preserving groups (text span, heard span; positions in rs, hs) of alike words, 1:1, 2:1 or 1:2,
    maximizing the words they explain (weighted by similarity): a small dynamic programme."""
    n, m = len(rs), len(hs)

    def sim(a, da, b, db) -> float:
        return similarity("".join(ref[i] for i in rs[a:a + da]), "".join(hyp[j] for j in hs[b:b + db]))

    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move: dict[tuple[int, int], tuple[int, int]] = {}
    for a in range(n, -1, -1):
        for b in range(m, -1, -1):
            if a == n and b == m:
                continue
            cands = []
            if a < n:
                cands.append((best[a + 1][b], (1, 0)))
            if b < m:
                cands.append((best[a][b + 1], (0, 1)))
            for da, db in _SHAPES:
                if a + da <= n and b + db <= m:
                    s = sim(a, da, b, db)
                    if s >= (threshold if da == db else max(threshold, MERGE_SIMILARITY)):
                        cands.append((s * (da + db) + best[a + da][b + db], (da, db)))
            best[a][b], move[a, b] = max(cands, key=lambda c: c[0])
    pairs, a, b = [], 0, 0
    while (a, b) in move:
        da, db = move[a, b]
        if da and db:
            pairs.append((a, a + da, b, b + db))
        a, b = a + da, b + db
    return pairs
