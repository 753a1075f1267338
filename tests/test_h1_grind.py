"""`whir.grind_blake3` (the 16-lane search `blake3_numba.grind_lanes`) finds the same
nonce as the one-message kernel `whir._grind_blake3` and the Python `grind_ref` with
the blake3 package (WHIR's proof-of-work nonces, so the same proof bytes)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as KW


@pytest.mark.parametrize("plen,bits", [(0, 6), (55, 8), (56, 9), (70, 10), (100, 7),
                                       (200, 5), (1016, 4)])
def test_grind_blake3_same_nonce(plen, bits):
    blake3 = pytest.importorskip("blake3")
    prefix = bytes(np.random.default_rng(plen).integers(0, 256, plen, dtype=np.uint8))
    got = KW.grind_blake3(prefix, bits)
    buf = np.zeros(plen + 8, dtype=np.uint8)
    buf[:plen] = np.frombuffer(prefix, dtype=np.uint8)
    one = int(KW._grind_blake3(buf, plen, np.uint64((1 << bits) - 1), np.uint64(0)))
    assert got == one == KW.grind_ref(prefix, bits, lambda m: blake3.blake3(m).digest())
