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
