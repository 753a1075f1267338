"""s33h7: `Transcript.sample_vec`'s goldilocks-ext2 path (the first 16·n bytes of the
squeeze stream as n word pairs when every word is below p, with the default `_Reader`)
gives the same elements and the same state as the former loop of `Field.sample` on one
`Transcript._reader`; a rejected word anywhere sends it back to that loop; a patched
`_reader` (tests/test_zk.py's programmed oracle) is still called and its bytes decide."""

from __future__ import annotations

import struct
from unittest import mock

import numpy as np
import pytest

from tests.test_s32h4_transcript import programmed_reader
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import transcript as T

E = GOLDILOCKS.ext
P = 0xFFFFFFFF00000001


def _reference(tr: T.Transcript, label: str, field, n: int) -> np.ndarray:
    """The former `Transcript.sample_vec`: `Field.sample` n times on one reader."""
    read = tr._reader(label)
    out = field.zeros(n)
    for i in range(n):
        out[i] = field.sample(read)
    return out


def _same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype == np.uint64 and got.shape == want.shape
    assert got.flags.c_contiguous and got.flags.writeable
    assert np.array_equal(got, want)


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
def test_sample_vec_matches_reader(hash_name: str) -> None:
    a, b = T.Transcript("s33h7", hash_name), T.Transcript("s33h7", hash_name)
    rng = np.random.default_rng(11)
    for i in range(300):
        data = rng.bytes(int(rng.integers(0, 40)))
        a.observe(f"m{i}", data)
        b.observe(f"m{i}", data)
        label = f"lbl/v{i}" + "z" * int(rng.integers(0, 70))
        field = E if i % 4 else GOLDILOCKS
        n = int(rng.integers(0, 40)) if i % 5 else i % 4
        _same(a.sample_vec(label, field, n), _reference(b, label, field, n))
        assert a.state == b.state
        # interleaved single samples stay in step
        _same(a.sample(f"s{i}", E), E.sample(b._reader(f"s{i}")))
        assert a.state == b.state


def _forced(words: dict[int, int]):
    """blake3 with squeeze-stream words replaced: word w is 8 bytes at 8·(w mod 4) of
    the counter w // 4 block (blake3 blocks are 32 bytes)."""
    base = T.HASHES["blake3"]

    def h(x: bytes) -> bytes:
        out = bytearray(base(x))
        if len(x) == 40:   # seed (32 bytes) ‖ counter
            ctr = struct.unpack("<Q", x[32:])[0]
            for w, v in words.items():
                if w // 4 == ctr:
                    out[8 * (w % 4):8 * (w % 4) + 8] = struct.pack("<Q", v)
        return bytes(out)

    return h


@pytest.mark.parametrize("word", [P, P + 1, (1 << 64) - 1])
@pytest.mark.parametrize("slot", [0, 1, 3, 4, 9, 2 * 7 - 1, 2 * 7, 2 * 7 + 3])
def test_sample_vec_rejection(word: int, slot: int) -> None:
    """A word ≥ p at any place of the first 16·n bytes (or just past them): the reader's
    rejection reads decide (same elements, same state)."""
    n = 7
    a, b = T.Transcript("rej"), T.Transcript("rej")
    a._h = b._h = _forced({slot: word})
    for i in range(4):
        got, want = a.sample_vec(f"r{i}", E, n), _reference(b, f"r{i}", E, n)
        _same(got, want)
        assert a.state == b.state
        assert int(got.max()) < P
        a.observe("x", b"y")
        b.observe("x", b"y")


@pytest.mark.parametrize("edge", [0, 1, P - 2, P - 1])
def test_sample_vec_edge_words(edge: int) -> None:
    """Words 0, 1, p − 2, p − 1 are taken as they are (no rejection)."""
    n = 5
    words = {w: (edge if w % 2 == 0 else P - 1 - edge) for w in range(2 * n)}
    a, b = T.Transcript("edge"), T.Transcript("edge")
    a._h = b._h = _forced(words)
    got, want = a.sample_vec("e", E, n), _reference(b, "e", E, n)
    _same(got, want)
    assert a.state == b.state
    assert [int(x) for x in got[:, 0]] == [edge] * n
    assert [int(x) for x in got[:, 1]] == [P - 1 - edge] * n


@pytest.mark.parametrize("width", [8, 12, 16, 24, 40])
def test_sample_vec_other_hash_widths(width: int) -> None:
    """Blocks shorter or longer than 32 bytes (and not multiples of 16): the stream is the
    blocks' concatenation, as the reader reads it."""
    base = T.HASHES["sha256"]
    a, b = T.Transcript("w"), T.Transcript("w")
    a._h = b._h = lambda x: (base(x) + base(x + b"+"))[:width]
    for i, n in enumerate((1, 2, 3, 5, 9)):
        _same(a.sample_vec(f"w{i}", E, n), _reference(b, f"w{i}", E, n))
        assert a.state == b.state


def test_patched_reader_intercepts() -> None:
    """A patched `_reader` is called once per `sample_vec` / `challenges` and its stream
    decides every element."""
    calls: list[str] = []
    _reader = programmed_reader(struct.pack("<6Q", 5, P - 1, 0, 1, P - 2, 7), calls)

    tr = T.Transcript("patched")
    with mock.patch.object(T.Transcript, "_reader", _reader):
        got = tr.sample_vec("c0", E, 3)
        got2 = T.ProverChannel(tr).challenges("c1", E, 3)
    assert calls == ["c0", "c1"]
    want = [[5, P - 1], [0, 1], [P - 2, 7]]
    assert got.tolist() == want and got2.tolist() == want
