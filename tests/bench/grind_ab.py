"""A/B of the WHIR grinding kernel: the per-nonce `_hash_one` search (the old kernel,
re-declared here) against `kernels.whir.grind_blake3` (prefix chaining value and block
words computed once).  ``python tests/bench/grind_ab.py``: ns per hash, medians of 3
alternating passes over 12 prefixes of 70 bytes at 16 bits; checks equal nonces."""

from __future__ import annotations

import statistics
import time

import numpy as np
from numba import njit

from zklora.kernels import whir as K
from zklora.kernels.blake3_numba import _hash_one


@njit(cache=False)
def _old(buf, plen, mask):
    out = np.empty(32, dtype=np.uint8)
    nonce = np.uint64(0)
    while True:
        for b in range(8):
            buf[plen + b] = np.uint8((nonce >> np.uint64(8 * b)) & np.uint64(0xFF))
        _hash_one(buf, plen + 8, out)
        v = np.uint64(0)
        for b in range(8):
            v |= np.uint64(out[b]) << np.uint64(8 * b)
        if v & mask == 0:
            return nonce
        nonce += np.uint64(1)


def old(prefix: bytes, bits: int) -> int:
    buf = np.zeros(len(prefix) + 8, dtype=np.uint8)
    buf[:len(prefix)] = np.frombuffer(prefix, np.uint8)
    return int(_old(buf, len(prefix), np.uint64((1 << bits) - 1)))


def main() -> None:
    prefixes = [bytes([i]) * 70 for i in range(12)]
    assert all(old(p, 10) == K.grind_blake3(p, 10) for p in prefixes)
    res: dict[str, list[float]] = {"old": [], "new": []}
    kernels = {"old": old, "new": K.grind_blake3}
    for r in range(3):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            t, hashes = time.perf_counter(), 0
            for p in prefixes:
                hashes += kernels[name](p, 16) + 1
            res[name].append((time.perf_counter() - t) / hashes * 1e9)
    for name, v in res.items():
        print(name, "ns/hash", [round(x, 1) for x in v], "median", round(statistics.median(v), 1))
    print("new/old", round(statistics.median(res["new"]) / statistics.median(res["old"]), 3))


if __name__ == "__main__":
    main()
