"""BLAKE3 in numba for many equal-length short messages (≤ 1024 bytes: one chunk).

Merkle trees hash hundreds of thousands of short, equal-length inputs (columns and
65-byte node preimages); one Python call per hash costs more than the hash itself.
`hash_many` hashes every row of an ``(n, L)`` uint8 array in a parallel numba loop and
returns exactly what ``blake3.blake3(row).digest()`` returns (checked in the tests
against the reference implementation for every length 0…1024).

Only the single-chunk case of BLAKE3 is implemented (chunk counter 0, the last block
flagged CHUNK_END | ROOT); longer messages go through the ``blake3`` package.  Words are
held in uint64 and masked to 32 bits, since numba promotes uint32 arithmetic.
"""

from __future__ import annotations

import sys

import blake3
import numpy as np
from numba import njit, prange

MAX_LEN = 1024
_M32 = np.uint64(0xFFFFFFFF)
_IV = np.array([0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19], dtype=np.uint64)
_PERM = np.array([2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8], dtype=np.int64)
_LE = sys.byteorder == "little"
CHUNK_START = 1
CHUNK_END = 2
ROOT = 8


@njit(inline="always", cache=True)
def _rotr(x, n):
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & _M32


@njit(inline="always", cache=True)
def _gw(a, b, c, d, mx, my):
    """The G mixing function on four state words held in registers (returns them)."""
    a = (a + b + mx) & _M32
    d = _rotr(d ^ a, 16)
    c = (c + d) & _M32
    b = _rotr(b ^ c, 12)
    a = (a + b + my) & _M32
    d = _rotr(d ^ a, 8)
    c = (c + d) & _M32
    b = _rotr(b ^ c, 7)
    return a, b, c, d


@njit(cache=True)
def _compress_w(c0, c1, c2, c3, c4, c5, c6, c7, m0, m1, m2, m3, m4, m5, m6, m7,
                m8, m9, m10, m11, m12, m13, m14, m15, block_len, flags):
    """BLAKE3 compression (counter 0) with the chaining value, the block's words and the
    state all in local scalars (no arrays: the state stays in registers / the stack
    frame); returns the 8 words of the new chaining value.  A real call, not inlined
    into its callers (numba's IR inlining of it costs cold compile time, not speed)."""
    s0, s1, s2, s3, s4, s5, s6, s7 = c0, c1, c2, c3, c4, c5, c6, c7
    s8 = np.uint64(0x6A09E667)
    s9 = np.uint64(0xBB67AE85)
    s10 = np.uint64(0x3C6EF372)
    s11 = np.uint64(0xA54FF53A)
    s12 = np.uint64(0)
    s13 = np.uint64(0)
    s14 = np.uint64(block_len)
    s15 = np.uint64(flags)
    for _r in range(7):
        s0, s4, s8, s12 = _gw(s0, s4, s8, s12, m0, m1)
        s1, s5, s9, s13 = _gw(s1, s5, s9, s13, m2, m3)
        s2, s6, s10, s14 = _gw(s2, s6, s10, s14, m4, m5)
        s3, s7, s11, s15 = _gw(s3, s7, s11, s15, m6, m7)
        s0, s5, s10, s15 = _gw(s0, s5, s10, s15, m8, m9)
        s1, s6, s11, s12 = _gw(s1, s6, s11, s12, m10, m11)
        s2, s7, s8, s13 = _gw(s2, s7, s8, s13, m12, m13)
        s3, s4, s9, s14 = _gw(s3, s4, s9, s14, m14, m15)
        # the message permutation (_PERM), as a renaming of the scalars
        m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15 = (
            m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
    return (s0 ^ s8, s1 ^ s9, s2 ^ s10, s3 ^ s11, s4 ^ s12, s5 ^ s13, s6 ^ s14,
            s7 ^ s15)


@njit(inline="always", cache=True)
def _w4(row, q):
    """Little-endian word of ``row[q:q + 4]`` (q unsigned: no negative-index check, so
    the four loads combine into one)."""
    return (np.uint64(row[q]) | (np.uint64(row[q + np.uint64(1)]) << np.uint64(8))
            | (np.uint64(row[q + np.uint64(2)]) << np.uint64(16))
            | (np.uint64(row[q + np.uint64(3)]) << np.uint64(24)))


@njit(inline="always", cache=True)
def _word(row, p, length, off):
    """Little-endian word at byte p of the message ``tag ‖ row`` (``off`` = 1: a tag byte
    0x01 first; 0: the row alone) of ``length`` bytes, bytes past the end read as 0."""
    if p >= length:
        return np.uint64(0)
    if p >= off and p + 4 <= length:
        return _w4(row, np.uint64(p - off))
    v = np.uint64(0)
    for k in range(4):
        pos = p + k
        if pos < length:
            b = np.uint64(1) if pos < off else np.uint64(row[pos - off])
            v |= b << np.uint64(8 * k)
    return v


@njit(inline="always", cache=True)
def _put(out, k, nout, c):
    """Bytes 4k … 4k + 3 of a digest (word c) into ``out``, those below ``nout``."""
    j0 = 4 * k
    if j0 + 4 <= nout:
        out[j0] = np.uint8(c & np.uint64(0xFF))
        out[j0 + 1] = np.uint8((c >> np.uint64(8)) & np.uint64(0xFF))
        out[j0 + 2] = np.uint8((c >> np.uint64(16)) & np.uint64(0xFF))
        out[j0 + 3] = np.uint8(c >> np.uint64(24))
    else:
        for b in range(max(0, nout - j0)):
            out[j0 + b] = np.uint8((c >> np.uint64(8 * b)) & np.uint64(0xFF))


@njit(cache=True)
def _hash_msg(row, length, off, out, nout):
    """The first ``nout`` bytes of BLAKE3(``tag ‖ row`` or ``row``, see `_word`) of
    ``length`` ≤ 1024 bytes into ``out``; no allocation.  A full block whose bytes all
    come from ``row`` (after the tag) is read with unchecked word loads."""
    c0 = np.uint64(0x6A09E667)
    c1 = np.uint64(0xBB67AE85)
    c2 = np.uint64(0x3C6EF372)
    c3 = np.uint64(0xA54FF53A)
    c4 = np.uint64(0x510E527F)
    c5 = np.uint64(0x9B05688C)
    c6 = np.uint64(0x1F83D9AB)
    c7 = np.uint64(0x5BE0CD19)
    nblocks = max(1, (length + 63) // 64)
    for b in range(nblocks):
        st = b * 64
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END | ROOT
        if st + 64 <= length:
            q = np.uint64(st - off + 4)  # word 1's first byte in row (st ≥ 0, off ≤ 1)
            c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
                c0, c1, c2, c3, c4, c5, c6, c7, _word(row, st, length, off),
                _w4(row, q), _w4(row, q + np.uint64(4)), _w4(row, q + np.uint64(8)),
                _w4(row, q + np.uint64(12)), _w4(row, q + np.uint64(16)),
                _w4(row, q + np.uint64(20)), _w4(row, q + np.uint64(24)),
                _w4(row, q + np.uint64(28)), _w4(row, q + np.uint64(32)),
                _w4(row, q + np.uint64(36)), _w4(row, q + np.uint64(40)),
                _w4(row, q + np.uint64(44)), _w4(row, q + np.uint64(48)),
                _w4(row, q + np.uint64(52)), _w4(row, q + np.uint64(56)), 64, flags)
        else:
            c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
                c0, c1, c2, c3, c4, c5, c6, c7,
                _word(row, st, length, off), _word(row, st + 4, length, off),
                _word(row, st + 8, length, off), _word(row, st + 12, length, off),
                _word(row, st + 16, length, off), _word(row, st + 20, length, off),
                _word(row, st + 24, length, off), _word(row, st + 28, length, off),
                _word(row, st + 32, length, off), _word(row, st + 36, length, off),
                _word(row, st + 40, length, off), _word(row, st + 44, length, off),
                _word(row, st + 48, length, off), _word(row, st + 52, length, off),
                _word(row, st + 56, length, off), _word(row, st + 60, length, off),
                length - st, flags)
    _put(out, 0, nout, c0)
    _put(out, 1, nout, c1)
    _put(out, 2, nout, c2)
    _put(out, 3, nout, c3)
    _put(out, 4, nout, c4)
    _put(out, 5, nout, c5)
    _put(out, 6, nout, c6)
    _put(out, 7, nout, c7)


@njit(inline="always", cache=True)
def _x(row, j, nw):
    """uint64 word j of ``row`` (0 past its ``nw`` words)."""
    return row[j] if j < nw else np.uint64(0)


@njit(cache=True)
def _hash_msg64(row, nw, out, nout):
    """`_hash_msg` of the 8·nw bytes of a uint64 row (little-endian words: each gives
    BLAKE3 two message words, no byte loads)."""
    c0 = np.uint64(0x6A09E667)
    c1 = np.uint64(0xBB67AE85)
    c2 = np.uint64(0x3C6EF372)
    c3 = np.uint64(0xA54FF53A)
    c4 = np.uint64(0x510E527F)
    c5 = np.uint64(0x9B05688C)
    c6 = np.uint64(0x1F83D9AB)
    c7 = np.uint64(0x5BE0CD19)
    length = 8 * nw
    nblocks = max(1, (nw + 7) // 8)
    for b in range(nblocks):
        j = 8 * b
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END | ROOT
        x0 = _x(row, j, nw)
        x1 = _x(row, j + 1, nw)
        x2 = _x(row, j + 2, nw)
        x3 = _x(row, j + 3, nw)
        x4 = _x(row, j + 4, nw)
        x5 = _x(row, j + 5, nw)
        x6 = _x(row, j + 6, nw)
        x7 = _x(row, j + 7, nw)
        c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
            c0, c1, c2, c3, c4, c5, c6, c7, x0 & _M32, x0 >> np.uint64(32), x1 & _M32,
            x1 >> np.uint64(32), x2 & _M32, x2 >> np.uint64(32), x3 & _M32,
            x3 >> np.uint64(32), x4 & _M32, x4 >> np.uint64(32), x5 & _M32,
            x5 >> np.uint64(32), x6 & _M32, x6 >> np.uint64(32), x7 & _M32,
            x7 >> np.uint64(32), min(64, length - 64 * b), flags)
    _put(out, 0, nout, c0)
    _put(out, 1, nout, c1)
    _put(out, 2, nout, c2)
    _put(out, 3, nout, c3)
    _put(out, 4, nout, c4)
    _put(out, 5, nout, c5)
    _put(out, 6, nout, c6)
    _put(out, 7, nout, c7)


@njit(cache=True)
def _compress(cv, m, block_len, flags, s, tmp):
    """BLAKE3 compression of block words ``m`` into the chaining value ``cv`` (in place:
    cv receives the first 8 output words; counter is 0).  ``m`` is left unchanged;
    ``s`` and ``tmp`` are unused scratch (kept for callers of the array form)."""
    r = _compress_w(cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                    m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10],
                    m[11], m[12], m[13], m[14], m[15], block_len, flags)
    for i in range(8):
        cv[i] = r[i]


@njit(cache=True)
def _hash_one(data, length, out):
    """BLAKE3 of ``data[:length]`` (≤ 1024 bytes) into ``out[:32]``."""
    _hash_msg(data, length, 0, out, 32)


@njit(parallel=True, cache=True)
def _hash_rows(data, out):
    n, L = data.shape
    for i in prange(n):
        _hash_msg(data[i], L, 0, out[i], out.shape[1])


@njit(parallel=True, cache=True)
def _hash_rows64(data, out):
    """`_hash_rows` of rows given as uint64 words (8·L-byte messages)."""
    n, nw = data.shape
    for i in prange(n):
        _hash_msg64(data[i], nw, out[i], out.shape[1])


@njit(parallel=True, cache=True)
def _hash_pairs(level, out):
    """out[i] = BLAKE3(0x01 ‖ level[2i] ‖ level[2i + 1])[:w] (level (2n, w) seen as
    (n, 2w) rows): a Merkle level's parents without a copy of the preimages."""
    n, w2 = level.shape
    for i in prange(n):
        _hash_msg(level[i], w2 + 1, 1, out[i], out.shape[1])


def hash_many(data: np.ndarray, digest: int = 32) -> np.ndarray:
    """BLAKE3 digests (n, 32) of the rows of an (n, L) uint8 array, L ≤ 1024; with
    ``digest`` < 32 only their first ``digest`` bytes, (n, digest)."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] > MAX_LEN:
        raise ValueError(f"hash_many needs (n, L ≤ {MAX_LEN}) bytes, got {data.shape}")
    if not 1 <= digest <= 32:
        raise ValueError(f"hash_many: digest of 1..32 bytes, got {digest}")
    if _cold(data.size):  # a cold verifier: the blake3 package, row by row
        L = data.shape[1]
        raw = data.tobytes()
        digests = b"".join(blake3.blake3(raw[i * L:(i + 1) * L]).digest()[:digest]
                           for i in range(data.shape[0]))
        return np.frombuffer(digests, dtype=np.uint8).reshape(data.shape[0], digest).copy()
    out = np.empty((data.shape[0], digest), dtype=np.uint8)
    if data.shape[1] % 8 == 0 and data.shape[1] and data.ctypes.data % 8 == 0 and _LE:
        _hash_rows64(data.view(np.uint64), out)  # whole little-endian words
    else:
        _hash_rows(data, out)
    return out


def hash_pairs(level: np.ndarray) -> np.ndarray:
    """Parents of a Merkle level of 2n digests of w ≤ 511 bytes: (n, w), row i =
    BLAKE3(0x01 ‖ level[2i] ‖ level[2i + 1])[:w] (`merkle`'s node rule), hashed from the
    level in place (no preimage copy)."""
    level = np.ascontiguousarray(level, dtype=np.uint8)
    if level.ndim != 2 or level.shape[0] % 2 or not 1 <= level.shape[1] <= 32:
        raise ValueError(f"hash_pairs needs (2n, w ≤ 32) digests, got {level.shape}")
    n, w = level.shape[0] // 2, level.shape[1]
    rows = level.reshape(n, 2 * w)
    if _cold(rows.size):
        return hash_many(np.concatenate([np.ones((n, 1), np.uint8), rows], axis=1), w)
    out = np.empty((n, w), dtype=np.uint8)
    _hash_pairs(rows, out)
    return out


def _cold(n: int) -> bool:
    """`goldilocks.cold` (numba not started, little work): hash without numba."""
    from .goldilocks import cold

    return n <= COLD_BYTES and cold(0)


#: a cold process hashes at most this many bytes with the ``blake3`` package
COLD_BYTES = 1 << 20
