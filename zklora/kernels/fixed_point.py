"""Numba kernel of the witness's fixed-point conversion: a float matrix rounded to
integers ``floor(x·2^s + 1/2)`` (in float64) and written straight into its place in a
padded int64 output (`zklora.plugins.models.llama._fixed_padded`; the same values as
`zklora.zkcore.quant.to_fixed` followed by the padding scatter).  Twin: `fixed_rows_ref`."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: `to_fixed`'s bound: |round(x·2^s)| ≤ 2^62
FIXED_MAX = float(1 << 62)


@njit(parallel=True, cache=True, nogil=True, fastmath=False)
def fixed_rows(x, scale, rows, cols, plain, out):
    """out[rows[i], cols[j]] = floor(x[i, j]·scale + 1/2) (float64, then int64) for a
    float32/float64 matrix x (``plain``: cols is 0..C−1, written as one run).  Returns
    how many values are NaN or outside ±2^62 (those entries are left unspecified; the
    caller raises)."""
    R, C = x.shape
    bad = np.zeros(R, dtype=np.int64)
    for i in prange(R):
        o = out[rows[i]]
        b = 0
        for j in range(C):
            y = np.floor(np.float64(x[i, j]) * scale + 0.5)
            if not (y >= -FIXED_MAX and y <= FIXED_MAX):
                b += 1
                y = 0.0
            if plain:
                o[j] = np.int64(y)
            else:
                o[cols[j]] = np.int64(y)
        bad[i] = b
    return bad.sum()


def fixed_rows_ref(x: np.ndarray, scale: float, rows: np.ndarray, cols: np.ndarray,
                   out: np.ndarray) -> int:
    """Twin of `fixed_rows` in numpy (whole-array float64 rounding, then a scatter):
    the number of NaN / out-of-bound values, whose entries are written as 0."""
    y = np.floor(np.asarray(x, dtype=np.float64) * scale + 0.5)
    ok = (y >= -FIXED_MAX) & (y <= FIXED_MAX)
    out[np.asarray(rows)[:, None], np.asarray(cols)[None, :]] = \
        np.where(ok, y, 0.0).astype(np.int64)
    return int((~ok).sum())
