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


# -- rescale ----------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def rescale_split(x, s, y, r):
    """y[i] = (x[i] + 2^(s−1)) >> s (arithmetic shift), r[i] = (x[i] + 2^(s−1)) & (2^s − 1)
    for a non-empty int64 x (two's-complement wrap, as torch's int64 ops); returns max(x)
    (the caller checks it against the safe range).  One pass over x: the same values as
    `zklora.zkcore.quant.rescale`'s three torch passes."""
    half = np.int64(1) << (s - 1)
    mask = (np.int64(1) << s) - 1
    n = x.shape[0]
    mx = x[0]
    for i in range(n):
        v = x[i]
        mx = max(mx, v)
        t = v + half
        y[i] = t >> s
        r[i] = t & mask
    return mx


@njit(cache=True, nogil=True)
def limb_of(d, lo, o, w, out):
    """out[i] = ((d[i] − lo) >> o) & (2^w − 1) (int64, arithmetic shift): one limb of
    width w at bit offset o of d − lo."""
    mask = (np.int64(1) << w) - 1
    for i in range(d.shape[0]):
        out[i] = ((d[i] - lo) >> o) & mask


def rescale_split_ref(x: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Twin of `rescale_split` (numpy int64, wrapping): (y, r, max x)."""
    x = np.asarray(x, dtype=np.int64)
    with np.errstate(over="ignore"):
        t = x + np.int64(1 << (s - 1))
    return t >> np.int64(s), t & np.int64((1 << s) - 1), int(x.max())


def limb_of_ref(d: np.ndarray, lo: int, o: int, w: int) -> np.ndarray:
    """Twin of `limb_of`."""
    with np.errstate(over="ignore"):
        return ((np.asarray(d, np.int64) - np.int64(lo)) >> np.int64(o)) & np.int64((1 << w) - 1)
