"""s30h4: the transcript's squeeze reader (`transcript._Reader`) and `observe` give the
same bytes as the former closure reader and concatenation (a Python twin here): every
sampling call, reads across block boundaries, rejection reads, both hashes."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import transcript as T


class _Twin:
    """The former `Transcript` hash chain (observe, reader) over the same hash."""

    def __init__(self, tr: T.Transcript):
        self._h = tr._h
        self.state = tr.state

    def observe(self, label: str, data: bytes) -> None:
        self.state = self._h(T.DOMAIN + self.state + b"A" + T._lp(label.encode()) +
                             T._lp(data))

    def reader(self, label: str):
        seed = self._h(T.DOMAIN + self.state + b"S" + T._lp(label.encode()))
        buf = bytearray()
        counter = 0

        def read(n: int) -> bytes:
            nonlocal counter
            while len(buf) < n:
                buf.extend(self._h(seed + struct.pack("<Q", counter)))
                counter += 1
            out = bytes(buf[:n])
            del buf[:n]
            return out

        self.state = self._h(T.DOMAIN + self.state + b"Q" + T._lp(label.encode()))
        return read


class _Reject:
    """A sampler that rejects half its 8-byte reads (values ≥ 2^63) and reads odd sizes."""

    def sample(self, read):
        while True:
            v = int.from_bytes(read(8), "little")
            if v < 1 << 63:
                return v, read(3), read(45)


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
def test_transcript_matches_former_reader(hash_name):
    rng = np.random.default_rng(4)
    tr = T.Transcript("t", hash_name)
    tw = _Twin(tr)
    E = GOLDILOCKS.ext
    for i in range(200):
        op = i % 7
        lab = f"l{i}/" + "x" * int(rng.integers(0, 40))
        if op == 0:
            data = rng.bytes(int(rng.integers(0, 300)))
            tr.observe(lab, data)
            tw.observe(lab, data)
        elif op == 1:
            assert np.array_equal(tr.sample(lab, E), E.sample(tw.reader(lab)))
        elif op == 2:
            assert tr.sample(lab, GOLDILOCKS) == GOLDILOCKS.sample(tw.reader(lab))
        elif op == 3:
            n = int(rng.integers(1, 9))
            r = tw.reader(lab)
            assert np.array_equal(tr.sample_vec(lab, E, n), np.stack([E.sample(r)
                                                                      for _ in range(n)]))
        elif op == 4:
            k = int(rng.integers(1, 700))
            v = int.from_bytes(tw.reader(lab)((k + 7) // 8), "little") & ((1 << k) - 1)
            assert tr.sample_bits(lab, k) == v
        elif op == 5:
            n, cnt = int(rng.integers(1, 5000)), int(rng.integers(1, 60))
            got = tr.sample_indices(lab, n, cnt)
            k = max(1, (n - 1).bit_length())
            r = tw.reader(lab)
            want = []
            while len(want) < cnt:
                v = int.from_bytes(r((k + 7) // 8), "little") & ((1 << k) - 1)
                if v < n:
                    want.append(v)
            assert got == want
        else:
            f = _Reject()
            assert tr.sample(lab, f) == f.sample(tw.reader(lab))
        assert tr.state == tw.state


def test_reader_reads_across_blocks():
    h = T.HASHES["blake3"]
    seed = b"s" * 32
    blocks = b"".join(h(seed + struct.pack("<Q", c)) for c in range(8))
    for sizes in ([8, 8, 8, 8, 8], [3, 40, 1, 0, 100], [32, 32, 1], [200]):
        r = T._Reader(h, seed)
        pos = 0
        for n in sizes:
            assert r(n) == blocks[pos:pos + n]
            pos += n
