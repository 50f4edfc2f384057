"""The continuous-batching loop's host side, on a simulated device: who is admitted where, and when."""

import pytest

from model.slots import decode_in_slots


class Device:
    """Slots whose texts end after ``ends[i]`` steps (at most their cap); records every admission and step."""

    def __init__(self, slots: int, ends: list[int], prefill: list[int], max_len: int = 99):
        self.ends, self.prefill, self.max_len = ends, prefill, max_len
        self.text = [None] * slots
        self.done = [0] * slots          # steps the slot's text has made
        self.admitted: list[tuple[int, int, int]] = []   # (loop step, slot, text)
        self.kv: list[int] = []
        self.k = 0
        self.finished: dict[int, int] = {}   # text -> loop step at which its last token came

    def admit(self, slots, which):
        for s, i in zip(slots, which, strict=True):
            assert self.text[s] is None, f"slot {s} refilled while text {self.text[s]} was live"
            self.text[s], self.done[s] = i, 0
            self.admitted.append((self.k, s, i))
        return [self.prefill[i] for i in which]

    def step(self, k, kv_len):
        assert k == self.k
        self.kv.append(kv_len)
        for s, i in enumerate(self.text):
            if i is None:
                continue
            self.done[s] += 1
            # the kv bound covers this slot's whole extent: its prefill and the tokens fed back so far
            assert kv_len >= min(self.max_len, self.prefill[i] + self.done[s])
            if self.done[s] == self.ends[i]:
                self.finished[i] = k
                self.text[s] = None
        self.k += 1

    def live(self):
        return [i is not None for i in self.text]


@pytest.mark.parametrize("slots", [1, 2, 3, 7])
def test_every_text_is_decoded_once_longest_cap_first(slots):
    caps = [5, 12, 3, 9, 9, 1, 7]
    ends = [5, 4, 3, 9, 2, 1, 7]          # some stop before their cap
    dev = Device(slots, ends, prefill=[10, 20, 15, 12, 30, 8, 11])
    order = sorted(range(7), key=lambda i: -caps[i])
    steps = decode_in_slots(slots, order, caps, dev.admit, dev.step, dev.live, stop_check_every=4, max_len=99)
    assert sorted(i for _, _, i in dev.admitted) == list(range(7))
    assert [i for _, _, i in dev.admitted] == order
    assert sorted(dev.finished) == list(range(7)) and steps == dev.k
    # refills happen only at the checks: every 4 steps, or when every live slot must have reached its cap
    assert all(k == 0 or k % 4 == 0 or k in dev.finished.values() or k - 1 in dev.finished.values()
               for k, _, _ in dev.admitted)


def test_a_lone_slot_looks_when_its_text_must_have_ended():
    """One slot, caps under the check interval: each text is followed at once, with no idle steps."""
    dev = Device(1, [2, 3, 1], prefill=[4, 4, 4])
    steps = decode_in_slots(1, [0, 1, 2], [2, 3, 1], dev.admit, dev.step, dev.live, stop_check_every=16,
                            max_len=99)
    assert steps == 6 and [k for k, _, _ in dev.admitted] == [0, 2, 5]


def test_kv_len_grows_with_the_deepest_slot_and_stops_at_max_len():
    dev = Device(2, [6, 6], prefill=[3, 5], max_len=9)
    decode_in_slots(2, [0, 1], [6, 6], dev.admit, dev.step, dev.live, stop_check_every=16, max_len=9)
    assert dev.kv == [6, 7, 8, 9, 9, 9]
