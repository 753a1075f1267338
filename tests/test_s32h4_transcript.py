"""s32h4: `Transcript.sample`'s goldilocks-ext2 path (the first squeeze block's two
leading words when the reader is the default `_Reader`) gives the same element and the
same state as `Field.sample` on `Transcript._reader`; a patched `_reader` (tests/test_zk.py's
programmed oracle) is still called for every challenge and its bytes are the ones read."""

from __future__ import annotations

import struct
from unittest import mock

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
    a, b = T.Transcript("s32h4", hash_name), T.Transcript("s32h4", hash_name)
    rng = np.random.default_rng(7)
    for i in range(300):
        data = rng.bytes(int(rng.integers(0, 40)))
        a.observe(f"m{i}", data)
        b.observe(f"m{i}", data)
        label = f"lbl/r{i}" + "y" * int(rng.integers(0, 70))
        field = E if i % 3 else GOLDILOCKS
        got, want = a.sample(label, field), _reference(b, label, field)
        assert got.dtype == want.dtype == np.uint64 and got.shape == want.shape
        assert np.array_equal(got, want)
        assert a.state == b.state


def _forced(words: dict[int, int]):
    """blake3 with the counter-0 squeeze block's words at the given slots replaced."""
    base = T.HASHES["blake3"]
    zero = struct.pack("<Q", 0)

    def h(x: bytes) -> bytes:
        out = bytearray(base(x))
        if x.endswith(zero) and len(x) == 40:   # seed (32 bytes) ‖ counter 0
            for slot, w in words.items():
                out[8 * slot:8 * slot + 8] = struct.pack("<Q", w)
        return bytes(out)

    return h


@pytest.mark.parametrize("word", [P, P + 1, (1 << 64) - 1])
@pytest.mark.parametrize("slots", [(0,), (1,), (0, 1)])
def test_sample_rejection(word: int, slots: tuple[int, ...]) -> None:
    """An out-of-range leading word: the reader's rejection reads decide (same element)."""
    a, b = T.Transcript("rej"), T.Transcript("rej")
    a._h = b._h = _forced({s: word for s in slots})
    for i in range(5):
        got, want = a.sample(f"r{i}", E), _reference(b, f"r{i}", E)
        assert np.array_equal(got, want) and a.state == b.state
        assert int(got[0]) < P and int(got[1]) < P
        a.observe("x", b"y")
        b.observe("x", b"y")


@pytest.mark.parametrize("edge", [0, 1, P - 2, P - 1])
def test_sample_edge_words(edge: int) -> None:
    """Leading words at 0, 1, p − 2, p − 1 are taken as they are (no rejection)."""
    a, b = T.Transcript("edge"), T.Transcript("edge")
    a._h = b._h = _forced({0: edge, 1: P - 1 - edge})
    got, want = a.sample("e", E), _reference(b, "e", E)
    assert np.array_equal(got, want) and a.state == b.state
    assert int(got[0]) == edge and int(got[1]) == P - 1 - edge


def test_short_hash_takes_reader() -> None:
    """A hash of fewer than 16 bytes: the reader path (no fast unpack)."""
    base = T.HASHES["blake3"]
    a, b = T.Transcript("short"), T.Transcript("short")
    a._h = b._h = lambda x: base(x)[:8]
    for i in range(4):
        got, want = a.sample(f"s{i}", E), _reference(b, f"s{i}", E)
        assert np.array_equal(got, want) and a.state == b.state


def programmed_reader(stream: bytes, calls: list[str]):
    """A `Transcript._reader` replacement: every label gets a reader over ``stream`` from
    its start, and is appended to ``calls``."""

    def _reader(self, label):
        calls.append(label)
        buf = [stream]

        def read(n: int) -> bytes:
            out, buf[0] = buf[0][:n], buf[0][n:]
            return out

        return read

    return _reader


def test_patched_reader_intercepts() -> None:
    """A patched `_reader` (the programmed oracle of tests/test_zk.py) is called for every
    ext2 challenge and its stream decides the element."""
    calls: list[str] = []
    _reader = programmed_reader(struct.pack("<QQ", 5, P - 1), calls)

    tr = T.Transcript("patched")
    with mock.patch.object(T.Transcript, "_reader", _reader):
        got = tr.sample("c0", E)
        got2 = T.ProverChannel(tr).challenge("c1", E)
    assert calls == ["c0", "c1"]
    assert [int(x) for x in got] == [5, P - 1] and [int(x) for x in got2] == [5, P - 1]
