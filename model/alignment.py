"""The multilingual model's alignment guard (the official "alignment stream analyzer"), batched, on the device.

Dimensions: n conditional rows (one per text), S_i text length of row i (with SOT/EOT), Smax = max S_i,
V speech vocabulary. The multilingual checkpoint aligns speech to text in three attention heads
(layer 12 head 15, layer 13 head 11, layer 9 head 2). Each decode step, the mean of their attention
probabilities from the newest query onto the text keys (one row of the alignment matrix, columns past
the frame count zeroed) updates a per-row state:

* text position: argmax of the row, accepted only if it moves by -3..+6;
* complete: latched once the position reaches S_i - 3;
* after completion, running sums detect a long tail (any of the last 3 text columns summing to >= 5)
  and alignment repetition (row maxima over all but the last 5 columns summing to > 5);
* token repetition: the two previous tokens are equal (from the third step on).

Then the stop token is suppressed while this step's argmax is before S_i - 3 (texts longer than 5), and
any detection forces the stop token. The official matrix is never materialised: only the sums it feeds.
The official analyzer also tracks "false starts", which never change the logits; that is left out.
"""

from __future__ import annotations

import torch

from model.t3 import T3

ALIGNED_HEADS = ((12, 15), (13, 11), (9, 2))
BIG = float(2**15)


def supports_guard(model: T3) -> bool:
    lc = model.cfg.llama
    return model.cfg.is_multilingual and lc.n_layers > max(l for l, _ in ALIGNED_HEADS) and \
        lc.n_heads > max(h for _, h in ALIGNED_HEADS)


class AlignmentGuard:
    """Per-row analyzer state for one generation; ``attach`` before the prefill, ``detach`` after."""

    def __init__(self, model: T3, text_lens: torch.Tensor, cond_len: int) -> None:
        dev = text_lens.device
        self.model, self.n, self.cond_len = model, text_lens.shape[0], cond_len
        self.text_lens = text_lens  # S_i (n,)
        self.smax = int(text_lens.max())
        cols = torch.arange(self.smax, device=dev)
        self.cols = cols
        self.valid = cols[None] < text_lens[:, None]  # (n, Smax)
        self.before_last5 = cols[None] < (text_lens[:, None] - 5)
        self.last3 = (text_lens[:, None] - 3 + torch.arange(3, device=dev)[None]).clamp(min=0)  # (n, 3)
        self.text_pos = torch.zeros(self.n, dtype=torch.long, device=dev)
        self.complete = torch.zeros(self.n, dtype=torch.bool, device=dev)
        self.tail = torch.zeros(self.n, 3, device=dev)
        self.rep = torch.zeros(self.n, device=dev)

    def attach(self) -> None:
        for layer, head in ALIGNED_HEADS:
            self.model.tfmr.layers[layer].self_attn.capture_head = head

    def detach(self) -> None:
        for layer, _ in ALIGNED_HEADS:
            attn = self.model.tfmr.layers[layer].self_attn
            attn.capture_head, attn.captured = None, None

    def attention_row(self, query_index: torch.Tensor, key_len: torch.Tensor) -> torch.Tensor:
        """Mean probability (n, Smax) of the captured heads from each row's query ``query_index`` (n,)
        (an index into the forward's queries) onto the text keys, keys ``>= key_len`` (n,) hidden."""
        rows = torch.arange(self.n, device=query_index.device)
        total = None
        for layer, _ in ALIGNED_HEADS:
            q, k = self.model.tfmr.layers[layer].self_attn.captured  # (B, T, Dh), (B, S, Dh)
            qn = q[rows, query_index].float()  # (n, Dh)
            scores = torch.einsum("nd,nsd->ns", qn, k[: self.n].float()) * (q.shape[-1] ** -0.5)  # (n, S)
            keys = torch.arange(scores.shape[1], device=scores.device)
            scores = scores.masked_fill(keys[None] >= key_len[:, None], float("-inf"))
            probs = torch.softmax(scores, dim=-1)
            total = probs if total is None else total + probs
        mean = total / len(ALIGNED_HEADS)
        return self._text_columns(mean)

    def _text_columns(self, probs: torch.Tensor) -> torch.Tensor:
        c = self.cond_len
        out = probs[:, c : c + self.smax]
        if out.shape[1] < self.smax:  # cannot happen for real prefixes; keeps shapes fixed
            out = torch.nn.functional.pad(out, (0, self.smax - out.shape[1]))
        return out.masked_fill(~self.valid, 0.0)

    def step(self, scores: torch.Tensor, chunk: torch.Tensor, frame: int, repeated: torch.Tensor | None,
             stop_token: int) -> torch.Tensor:
        """Update the state with this step's alignment row ``chunk`` (n, Smax) and adjust ``scores`` (n, V).

        ``frame`` is the step index; ``repeated`` (n,) bool says the two previous tokens were equal.
        """
        chunk = chunk.masked_fill(self.cols[None] > frame, 0.0)
        masked = chunk.masked_fill(~self.valid, -1.0)  # padding never wins the argmax
        cur = masked.argmax(dim=-1)  # (n,)
        move = cur - self.text_pos
        self.text_pos = torch.where((move > -4) & (move < 7), cur, self.text_pos)
        was_complete = self.complete
        self.complete = was_complete | (self.text_pos >= self.text_lens - 3)
        # rows after the completing one feed the tail and repetition sums
        self.tail += torch.where(was_complete[:, None], chunk.gather(1, self.last3), 0.0)
        row_max = chunk.masked_fill(~self.before_last5, float("-inf")).amax(dim=-1)
        row_max = torch.where(torch.isfinite(row_max), row_max, 0.0)
        self.rep += torch.where(was_complete, row_max, 0.0)
        long_tail = self.complete & (self.tail.amax(dim=-1) >= 5)
        align_rep = self.complete & (self.rep > 5)
        force = long_tail | align_rep
        if repeated is not None:
            force = force | repeated
        suppress = (cur < self.text_lens - 3) & (self.text_lens > 5)
        eos = scores[:, stop_token]
        eos = torch.where(suppress, -BIG, eos)
        scores = scores.clone()
        scores[:, stop_token] = eos
        forced = torch.full_like(scores, -BIG)
        forced[:, stop_token] = BIG
        return torch.where(force[:, None], forced, scores)
