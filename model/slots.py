"""Continuous batching, host side: which text each decode slot holds, when to look, and when to refill.

Both T3s (``model.decode`` and ``model.turbo.generate``) decode a call's texts in a fixed number of slots. A
slot whose text has ended (stop token or cap) idles cheaply until the loop looks at the live flags (the only
host sync) and gives it the next pending text. The device side (the state, the prefill into a slot's cache
rows, the step) belongs to each model; this loop only decides when.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

# admit(slots, texts) -> the texts' prefill lengths (cache slots filled), in order
Admit = Callable[[list[int], list[int]], list[int]]
# step(k, kv_len): loop step k, attending over at most the first kv_len cache slots
Step = Callable[[int, int], None]


def decode_in_slots(slots: int, order: Sequence[int], caps: Sequence[int], admit: Admit, step: Step,
                    live: Callable[[], list[bool]], *, stop_check_every: int, max_len: int) -> int:
    """Decode texts ``order`` (indices into ``caps``) in ``slots`` slots until every one has ended; the steps run.

    Refills come in groups, every ``stop_check_every`` steps: a prefill costs about as much as a step of the
    whole batch whatever its size, while a slot idle for a few steps costs 1/``slots`` of them. The loop looks
    sooner only when every live slot must have reached its cap. ``kv_len`` bounds the cache extent any live slot
    can have reached (for an eager step that attends over the filled part only), at most ``max_len``.
    """
    pending = deque(order)
    ends = [0] * slots     # the step by which each slot's text must have ended
    reach = [0] * slots    # each slot's cache extent, minus the loop step at which it was admitted
    k = 0

    def fill(free: list[int]) -> set[int]:
        take = [pending.popleft() for _ in range(min(len(free), len(pending)))]
        if not take:
            return set()
        filled = free[: len(take)]
        for slot, i, l0 in zip(filled, take, admit(filled, take), strict=True):
            ends[slot], reach[slot] = k + caps[i], l0 - k
        return set(filled)

    running = fill(list(range(slots)))
    while running:
        step(k, min(max_len, max(reach) + k + 1))
        k += 1
        if k % stop_check_every == 0 or k >= max(ends[i] for i in running):
            flags = live()
            running = {i for i in range(slots) if flags[i]}
            free = [i for i in range(slots) if not flags[i]]
            if pending and free:
                running |= fill(free)
    return k
