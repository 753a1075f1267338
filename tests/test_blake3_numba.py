"""The numba BLAKE3 equals the reference implementation for every single-chunk length."""

from __future__ import annotations

import blake3
import numpy as np
import pytest

from zklora.kernels.blake3_numba import MAX_LEN, hash_many


@pytest.mark.parametrize("length", [0, 1, 3, 4, 63, 64, 65, 127, 128, 129, 256, 511, 1000, 1024])
def test_matches_reference(length):
    rng = np.random.default_rng(length)
    data = rng.integers(0, 256, size=(7, length), dtype=np.uint8)
    got = hash_many(data)
    for i in range(data.shape[0]):
        assert got[i].tobytes() == blake3.blake3(data[i].tobytes()).digest()


def test_all_lengths_one_message():
    rng = np.random.default_rng(1)
    for length in range(MAX_LEN + 1):
        data = rng.integers(0, 256, size=(1, length), dtype=np.uint8)
        assert hash_many(data)[0].tobytes() == blake3.blake3(data[0].tobytes()).digest()


def test_too_long_rejected():
    with pytest.raises(ValueError):
        hash_many(np.zeros((1, MAX_LEN + 1), dtype=np.uint8))


# -- the register-resident kernels, called directly (no cold-verifier fallback) ---------

_LENGTHS = [0, 1, 3, 4, 5, 8, 40, 41, 56, 63, 64, 65, 66, 72, 120, 127, 128, 129, 136, 255,
            256, 511, 1016, 1023, 1024]


def _ref(b: bytes) -> bytes:
    return blake3.blake3(b).digest()


@pytest.mark.parametrize("digest", [32, 31, 20, 16, 1])
def test_rows_kernels_match_reference_truncated(digest):
    """Byte rows (`_hash_rows`) and whole-word rows (`_hash_rows64`), every block edge,
    digests truncated in the kernel; all-0xFF bytes (carries in every word) included."""
    from zklora.kernels import blake3_numba as B

    rng = np.random.default_rng(digest)
    for length in _LENGTHS:
        data = rng.integers(0, 256, size=(5, length), dtype=np.uint8)
        data[0] = 0xFF
        data[1] = 0
        out = np.empty((5, digest), dtype=np.uint8)
        B._hash_rows(data, out)
        want = [_ref(data[i].tobytes())[:digest] for i in range(5)]
        assert [out[i].tobytes() for i in range(5)] == want, length
        if length % 8 == 0 and length:
            out64 = np.empty((5, digest), dtype=np.uint8)
            B._hash_rows64(np.ascontiguousarray(data).view(np.uint64), out64)
            assert np.array_equal(out64, out), length


def test_hash_many_digest_and_word_path():
    from zklora.kernels import blake3_numba as B

    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=(70, 136), dtype=np.uint8)
    full = hash_many(data)
    assert np.array_equal(hash_many(data, 20), full[:, :20])
    # an unaligned view takes the byte path: same digests
    buf = np.zeros(70 * 136 + 1, dtype=np.uint8)
    un = buf[1:].reshape(70, 136)
    un[:] = data
    assert np.array_equal(B.hash_many(un), full)
    with pytest.raises(ValueError):
        hash_many(data, 0)


@pytest.mark.parametrize("w", list(range(1, 33)))
def test_hash_pairs_matches_node_rule(w):
    """Merkle parents hashed from the level: BLAKE3(0x01 ‖ left ‖ right)[:w]."""
    from zklora.kernels import blake3_numba as B

    rng = np.random.default_rng(w)
    level = rng.integers(0, 256, size=(8, w), dtype=np.uint8)
    level[0] = 0xFF
    out = np.empty((4, w), dtype=np.uint8)
    B._hash_pairs(level.reshape(4, 2 * w), out)
    for i in range(4):
        want = _ref(b"\x01" + level[2 * i].tobytes() + level[2 * i + 1].tobytes())[:w]
        assert out[i].tobytes() == want
    assert np.array_equal(B.hash_pairs(level), out)


def test_grind_kernel_high_nonces_every_offset():
    """The search from a start nonce whose 8 bytes are all non-zero (or all 0xFF, the
    carry into every byte), at every prefix length mod 4 and across block edges: the
    least nonce ≥ start with the digest's low bits zero, as found in Python."""
    from zklora.kernels import whir as K

    bits = 5
    for plen in list(range(52, 73)) + [0, 1, 2, 3, 119, 120, 121, 127, 128, 1013, 1016]:
        prefix = bytes((7 * i + plen) & 0xFF for i in range(plen))
        for start in (0x0102030405060708, (1 << 64) - 4000, 0x00FF00FF00FF00F0):
            buf = np.zeros(plen + 8, dtype=np.uint8)
            buf[:plen] = np.frombuffer(prefix, dtype=np.uint8)
            got = int(K._grind_blake3(buf, plen, np.uint64((1 << bits) - 1), np.uint64(start)))
            n = start
            while int.from_bytes(_ref(prefix + n.to_bytes(8, "little"))[:8], "little") \
                    % (1 << bits):
                n += 1
            assert got == n, (plen, start)
