"""s31h4: `Transcript.sample`'s goldilocks-ext2 fast path (the first squeeze block's two
leading words, no reader) gives the same element and the same state as `Field.sample` on
the squeeze reader: random labels, both hashes, and forced rejections (a leading word at
p, p + 1 or 2^64 − 1 in either position, so the reader reads further)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import transcript as T

E = GOLDILOCKS.ext
P = 0xFFFFFFFF00000001


def _reference(tr: T.Transcript, label: str, field) -> np.ndarray:
    """The former `Transcript.sample`: `Field.sample` on `Transcript._reader`."""
    return field.sample(tr._reader(label))


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
def test_sample_matches_reader(hash_name: str) -> None:
    a, b = T.Transcript("s31h4", hash_name), T.Transcript("s31h4", hash_name)
    rng = np.random.default_rng(5)
    for i in range(300):
        data = rng.bytes(int(rng.integers(0, 40)))
        a.observe(f"m{i}", data)
        b.observe(f"m{i}", data)
        label = f"lbl/r{i}" + "x" * int(rng.integers(0, 70))
        field = E if i % 3 else GOLDILOCKS
        got, want = a.sample(label, field), _reference(b, label, field)
        assert got.dtype == want.dtype == np.uint64 and got.shape == want.shape
        assert np.array_equal(got, want)
        assert a.state == b.state


@pytest.mark.parametrize("word", [P, P + 1, (1 << 64) - 1])
@pytest.mark.parametrize("slot", [0, 1, 2])
def test_sample_rejection(word: int, slot: int) -> None:
    """A hash whose counter-0 squeeze block has an out-of-range word (slot 0: first, 1:
    second, 2: both): the fast path must fall back to the reader's rejection reads."""
    base = T.HASHES["blake3"]
    zero = struct.pack("<Q", 0)

    def h(x: bytes) -> bytes:
        out = bytearray(base(x))
        if x.endswith(zero) and len(x) == 40:   # seed (32 bytes) ‖ counter 0
            if slot in (0, 2):
                out[0:8] = struct.pack("<Q", word)
            if slot in (1, 2):
                out[8:16] = struct.pack("<Q", word)
        return bytes(out)

    a, b = T.Transcript("rej"), T.Transcript("rej")
    a._h = b._h = h
    for i in range(5):
        got, want = a.sample(f"r{i}", E), _reference(b, f"r{i}", E)
        assert np.array_equal(got, want) and a.state == b.state
        assert int(got[0]) < P and int(got[1]) < P
        a.observe("x", b"y")
        b.observe("x", b"y")


@pytest.mark.parametrize("edge", [0, 1, P - 2, P - 1])
def test_sample_edge_words(edge: int) -> None:
    """Leading words at 0, 1, p − 2, p − 1 are taken as they are (no rejection)."""
    base = T.HASHES["blake3"]
    zero = struct.pack("<Q", 0)

    def h(x: bytes) -> bytes:
        out = bytearray(base(x))
        if x.endswith(zero) and len(x) == 40:
            out[0:8] = struct.pack("<Q", edge)
            out[8:16] = struct.pack("<Q", P - 1 - edge)
        return bytes(out)

    a, b = T.Transcript("edge"), T.Transcript("edge")
    a._h = b._h = h
    got, want = a.sample("e", E), _reference(b, "e", E)
    assert np.array_equal(got, want) and a.state == b.state
    assert int(got[0]) == edge and int(got[1]) == P - 1 - edge
