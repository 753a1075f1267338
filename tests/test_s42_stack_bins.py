"""The commitment phase's stacks (`committer.stack_bins`, `Committer.flush_packed`):
two stacks wherever they pad less than one (the rule before), a third only where it
saves at least `MIN_STACK_SAVING` padded entries against two (the 84M step: 2^25 +
2^23 + 2^21 instead of 2^25 + 2^24).  Decided from the sizes on both sides: a proof
with three stacks verifies, a flipped byte of it does not, and a verifier that stacks
differently does not accept it."""

from __future__ import annotations

import random

import pytest

from zklora.zkcore import committer, pyapi
from zklora.zkcore.committer import Committer, stack_bins
from zklora.zkcore.errors import ZkLoraError
from zklora.zkcore.stack import StackLayout


def _old_two(total: int) -> list[int]:
    """The rule before (at most two stacks), as `flush_packed` had it inline."""
    bins, rest = [], total
    while len(bins) < 1 and rest & (rest - 1):
        bins.append(1 << (rest.bit_length() - 1))
        rest -= bins[-1]
    one = 1 << max(total - 1, 0).bit_length()
    last = 1 << max(rest - 1, 0).bit_length()
    if not bins or sum(bins) + last >= one:
        return [one]
    return bins + [last]


def test_two_stacks_as_before():
    rng = random.Random(5)
    totals = [1, 2, 3, 5, 8, 9, 1023, 1025, 43587488, 4917888, 919536, 65686560]
    totals += [rng.randrange(1, 1 << 30) for _ in range(2000)]
    for t in totals:
        assert stack_bins(t, 2) == _old_two(t), t
        assert stack_bins(t, 1) == [1 << max(t - 1, 0).bit_length()]


def test_third_stack_only_when_it_saves_enough():
    # the 84M step's witness: 6.3M padded entries fewer with a third stack
    assert stack_bins(43587488, 3) == [1 << 25, 1 << 23, 1 << 21]
    assert stack_bins(43587488, 2) == [1 << 25, 1 << 24]
    # the tiny step's: a third stack would save 2^18 < MIN_STACK_SAVING
    assert stack_bins(4917888, 3) == stack_bins(4917888, 2) == [1 << 22, 1 << 20]
    rng = random.Random(7)
    for _ in range(3000):
        t = rng.randrange(1, 1 << 30)
        two, three = stack_bins(t, 2), stack_bins(t, 3)
        assert sum(three) >= t and all(b & (b - 1) == 0 for b in three)
        assert sorted(three, reverse=True) == three
        if len(three) == 3:
            assert sum(two) - sum(three) >= committer.MIN_STACK_SAVING
            assert three[:2] == two[:1] + [three[1]]
        else:
            assert three == two
        assert sum(three) - t < max(three)   # only the last stack pads


def _prove_tiny(monkeypatch, saving: int) -> tuple[bytes, list[int]]:
    sizes: list[int] = []
    orig = Committer.flush

    def flush(self, ch):
        if self.prover and self._pending:
            sizes.append(1 << StackLayout([s.size for s, _ in self._pending]).num_vars)
        return orig(self, ch)

    monkeypatch.setattr(committer, "MIN_STACK_SAVING", saving)
    monkeypatch.setattr(Committer, "flush", flush)
    data = pyapi.prove(task="train", model="tiny", zero_knowledge=False).data
    monkeypatch.setattr(Committer, "flush", orig)
    return data, sizes


def test_three_stacks_prove_and_verify(tmp_path, monkeypatch):
    # the tiny step's third stack saves 2^18 entries: allowed when the minimum is 2^18
    data, sizes = _prove_tiny(monkeypatch, 1 << 18)
    assert sizes[-3:] == [1 << 22, 1 << 19, 1 << 18]   # the commitment phase's stacks
    two, _ = _prove_tiny(monkeypatch, 1 << 20)
    assert _[-2:] == [1 << 22, 1 << 20] and two != data
    monkeypatch.setattr(committer, "MIN_STACK_SAVING", 1 << 18)
    p = tmp_path / "p.zkp"
    p.write_bytes(data)
    assert pyapi.verify(p).ok
    raw = bytearray(data)
    raw[len(raw) // 2] ^= 1
    p.write_bytes(bytes(raw))
    with pytest.raises(ZkLoraError):
        pyapi.verify(p)
    # a verifier that stacks in two (the default minimum) does not accept the proof
    monkeypatch.setattr(committer, "MIN_STACK_SAVING", 1 << 20)
    p.write_bytes(data)
    with pytest.raises(ZkLoraError):
        pyapi.verify(p)
