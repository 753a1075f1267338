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

import blake3
import numpy as np
from numba import njit, prange

MAX_LEN = 1024
_M32 = np.uint64(0xFFFFFFFF)
_IV = np.array([0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19], dtype=np.uint64)
_PERM = np.array([2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8], dtype=np.int64)
CHUNK_START = 1
CHUNK_END = 2
ROOT = 8


@njit(inline="always", cache=True)
def _rotr(x, n):
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & _M32


@njit(inline="always", cache=True)
def _g(s, a, b, c, d, mx, my):
    s[a] = (s[a] + s[b] + mx) & _M32
    s[d] = _rotr(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _M32
    s[b] = _rotr(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b] + my) & _M32
    s[d] = _rotr(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _M32
    s[b] = _rotr(s[b] ^ s[c], 7)


@njit(cache=True)
def _compress(cv, m, block_len, flags, s, tmp):
    """BLAKE3 compression of block words ``m`` into the chaining value ``cv`` (in place:
    cv receives the first 8 output words; counter is 0)."""
    for i in range(8):
        s[i] = cv[i]
    for i in range(4):
        s[8 + i] = _IV[i]
    s[12] = 0
    s[13] = 0
    s[14] = block_len
    s[15] = flags
    for r in range(7):
        _g(s, 0, 4, 8, 12, m[0], m[1])
        _g(s, 1, 5, 9, 13, m[2], m[3])
        _g(s, 2, 6, 10, 14, m[4], m[5])
        _g(s, 3, 7, 11, 15, m[6], m[7])
        _g(s, 0, 5, 10, 15, m[8], m[9])
        _g(s, 1, 6, 11, 12, m[10], m[11])
        _g(s, 2, 7, 8, 13, m[12], m[13])
        _g(s, 3, 4, 9, 14, m[14], m[15])
        if r < 6:
            for i in range(16):
                tmp[i] = m[_PERM[i]]
            for i in range(16):
                m[i] = tmp[i]
    for i in range(8):
        cv[i] = s[i] ^ s[i + 8]


@njit(cache=True)
def _hash_one(data, length, out):
    cv = _IV.copy()
    m = np.zeros(16, dtype=np.uint64)
    s = np.zeros(16, dtype=np.uint64)
    tmp = np.zeros(16, dtype=np.uint64)
    nblocks = max(1, (length + 63) // 64)
    for b in range(nblocks):
        start = b * 64
        blen = min(64, length - start)
        for w in range(16):
            v = np.uint64(0)
            for k in range(4):
                pos = start + 4 * w + k
                if pos < length:
                    v |= np.uint64(data[pos]) << np.uint64(8 * k)
            m[w] = v
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END | ROOT
        _compress(cv, m, np.uint64(blen), np.uint64(flags), s, tmp)
    for w in range(8):
        for k in range(4):
            out[4 * w + k] = np.uint8((cv[w] >> np.uint64(8 * k)) & np.uint64(0xFF))


@njit(parallel=True, cache=True)
def _hash_rows(data, out):
    n, L = data.shape
    for i in prange(n):
        _hash_one(data[i], L, out[i])


def hash_many(data: np.ndarray) -> np.ndarray:
    """BLAKE3 digests (n, 32) of the rows of an (n, L) uint8 array, L ≤ 1024."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] > MAX_LEN:
        raise ValueError(f"hash_many needs (n, L ≤ {MAX_LEN}) bytes, got {data.shape}")
    if _cold(data.size):  # a cold verifier: the blake3 package, row by row
        L = data.shape[1]
        raw = data.tobytes()
        digests = b"".join(blake3.blake3(raw[i * L:(i + 1) * L]).digest()
                           for i in range(data.shape[0]))
        return np.frombuffer(digests, dtype=np.uint8).reshape(data.shape[0], 32).copy()
    out = np.empty((data.shape[0], 32), dtype=np.uint8)
    _hash_rows(data, out)
    return out


def _cold(n: int) -> bool:
    """`goldilocks.cold` (numba not started, little work): hash without numba."""
    from .goldilocks import cold

    return n <= COLD_BYTES and cold(0)


#: a cold process hashes at most this many bytes with the ``blake3`` package
COLD_BYTES = 1 << 20
