"""s43h1: the lane encoder's first four stages with the coset twist folded in
(`ntt._lane_f16_*`, `ntt.LANE_F16`) and its middle passes (`ntt._lane_mid*`,
`ntt._mid_plan`): the IR helpers on Python integers (every shift exponent, adversarial
lazy values), the tables against direct powers, and the encoder with the new passes
against the old lane stages (`LANE_F16` off), `rs_encode` (the row encoder) and the
pure-Python `rs_encode_ref`, over k = 16 … 2^15, rates 1 … 1/8, strides 1–3, odd column
sets, ordinary and non-temporal stores, coset 0 by either path."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_s29h3_lane import _Y, P
from tests.test_s39h1_pow2_stages import ADV, M64, _dif_ref, _Int
from zklora.kernels import ntt


def _encode(Y, col, rl, *, f16: bool, nt: bool = True, s0: int | None = None, spy=None):
    """rs_encode_cols with `LANE_F16` = f16 (and `F16_S0_LOGK` = s0 if given); ``spy``
    collects whether `_rs_encode_lane_par` ran with the new passes (its ``fe``)."""
    old = ntt.LANE_F16, ntt.LANE_NT, ntt.F16_S0_LOGK, ntt._rs_encode_lane_par
    ntt.LANE_F16, ntt.LANE_NT = f16, nt
    if s0 is not None:
        ntt.F16_S0_LOGK = s0
    if spy is not None:
        def wrap(*a):
            spy.append([int(e) for e in a[11]])
            return old[3](*a)
        ntt._rs_encode_lane_par = wrap
    try:
        return ntt.rs_encode_cols(Y, col, rl)
    finally:
        ntt.LANE_F16, ntt.LANE_NT, ntt.F16_S0_LOGK, ntt._rs_encode_lane_par = old


def _ref(Y, col, rl):
    return ntt.rs_encode(np.ascontiguousarray(Y[:, col].T), rl)


def test_f16_exponents_are_the_coset_shifts() -> None:
    for rl in (0, 1, 2):
        R = 1 << rl
        w = ntt.root_of_unity(4 + rl)
        fe = ntt._f16_exps(14, rl)
        assert [pow(2, int(e), P) for e in fe] == [pow(w, s, P) for s in range(R)]
        assert set(int(e) for e in fe) <= set(ntt.F16_EXPS)
    assert int(ntt._f16_exps(10, 1)[0]) == -1 and int(ntt._f16_exps(13, 1)[0]) == 0


def test_f16_table() -> None:
    for log_k, rl in ((10, 1), (11, 2), (12, 0)):
        k, R = 1 << log_k, 1 << rl
        wl = ntt.root_of_unity(log_k + rl)
        t = ntt._f16_table(log_k, rl).reshape(R, k // 16, 16)
        for s in range(R):
            for j in (0, 1, 7, k // 16 - 1):
                for p in range(16):
                    f = int(f"{p:04b}"[::-1], 2)
                    assert int(t[s, j, p]) == pow(wl, j * (s + R * f), P), (log_k, rl, s, j)


@pytest.mark.parametrize("log_k", [10, 11, 12, 13, 14, 15, 16, 17])
def test_mid_plan(log_k: int) -> None:
    """The passes cover the stages k/32 … 64 apart once each, top down, radix ≤ 16, and
    each table entry is ω_N^(j·rev_b(t))."""
    mp, MT = ntt._mid_plan(log_k)
    h = 1 << (log_k - 5)
    for nb, q, off in mp.tolist():
        assert 1 <= nb <= 4 and q << (nb - 1) == h
        N = q << nb
        w = ntt.root_of_unity(N.bit_length() - 1)
        for j in (0, 1, q - 1):
            for t in range(1 << nb):
                f = int(f"{t:0{nb}b}"[::-1], 2)
                assert int(MT[off + (j << nb) + t]) == pow(w, j * f, P)
        h = q >> 1
    assert h == 32


def test_mul_pow2_any_every_exponent() -> None:
    b = _Int()
    g = np.random.default_rng(3)
    xs = [v for v in ADV if v < P] + [int(v) for v in g.integers(0, P, 12, dtype=np.uint64)]
    for e in range(192):
        for x in xs:
            y = ntt._v_mul_pow2_any(b, x, e)
            assert y == x * pow(2, e, P) % P, (e, x)


@pytest.mark.parametrize("E", ntt.F16_EXPS)
def test_f16_dataflow_on_integers(E: int) -> None:
    """`_lane_f16`'s register part (pre-shifts by 2^(E·m), `_v_dif_pow2` with its lazy
    flags) on `_Int` with adversarial values: ≡ the 16-point DIF of the shifted inputs;
    output 0 canonical when E = 0 (it is stored as is), every output a 64-bit word."""
    b = _Int()
    g = np.random.default_rng(200 + E)
    w16 = ntt.root_of_unity(4)
    lazy = [t > 0 or E > 0 for t in range(16)]
    for _ in range(150):
        v = [ADV[i] for i in g.integers(0, len(ADV), 16)]
        x = [ntt._v_mul_pow2_any(b, v[m], E * m) for m in range(16)] if E else list(v)
        assert all(y < P for y in x)
        x = ntt._v_dif_pow2(b, x, ntt._r16_tw, lazy)
        assert all(0 <= y <= M64 for y in x) and (E or x[0] < P)
        want = _dif_ref([v[m] * pow(2, E * m, P) % P for m in range(16)], w16)
        assert [y % P for y in x] == want


@pytest.mark.parametrize("nb", [1, 2, 3, 4])
def test_mid_dataflow_on_integers(nb: int) -> None:
    b = _Int()
    g = np.random.default_rng(300 + nb)
    n = 1 << nb
    w = ntt.root_of_unity(nb)
    for _ in range(150):
        v = [ADV[i] for i in g.integers(0, len(ADV), n)]
        x = ntt._v_dif_pow2(b, list(v), ntt._r16_tw, [t > 0 for t in range(n)])
        assert x[0] < P and all(0 <= y <= M64 for y in x)
        assert [y % P for y in x] == _dif_ref(list(v), w)


#: k, rate_log, column stride: every middle plan (k = 2^10 … 2^15), rates 1 … 1/4 (the
#: new passes) and 1/8 (the old ones), small k (the old ones)
SHAPES = [(1024, 1, 1), (1024, 2, 2), (1024, 0, 1), (2048, 1, 1), (2048, 1, 2),
          (2048, 2, 3), (4096, 1, 1), (4096, 0, 2), (4096, 2, 1), (8192, 1, 1),
          (8192, 2, 2), (16384, 1, 1), (16384, 0, 3), (32768, 1, 1), (1024, 3, 1),
          (4096, 3, 2), (16, 1, 1), (128, 2, 1), (512, 1, 2)]


@pytest.mark.parametrize("k, rl, cs", SHAPES)
def test_f16_matches_old_lane_and_rows(k: int, rl: int, cs: int) -> None:
    rows = max(16, -(-(1 << 15) // (k << rl)) // 8 * 8 + 8)
    Y = _Y(k, rows * cs + 5, k + rl + cs)
    col = np.arange(rows, dtype=np.int64) * cs + (3 if cs > 1 else 0)
    assert ntt._lane_ok(col, k, rl)
    old = _encode(Y, col, rl, f16=False)
    assert np.array_equal(old, _ref(Y, col, rl))
    new_path = k >= 1024 and rl <= 2
    for nt in (True, False):
        for s0 in (ntt.F16_S0_LOGK, 10):
            seen: list = []
            got = _encode(Y, col, rl, f16=True, nt=nt, s0=s0, spy=seen)
            assert np.array_equal(got, old), (k, rl, cs, nt, s0)
            fe = seen[0]
            assert bool(fe) == new_path
            if new_path:   # coset 0 by `_lane_f16` from 2^s0 on, the others always
                assert (fe[0] >= 0) == (k >= 1 << s0) and all(e > 0 for e in fe[1:])


def test_f16_prove_shapes() -> None:
    """The 84m / 25m proves' call shapes (rate 1/2; the extension tiles' two components
    interleaved: stride 2)."""
    for k, W, ncol, cs in ((2048, 512, 512, 1), (2048, 4096, 512, 2), (4096, 256, 256, 1),
                           (8192, 128, 128, 1)):
        Y = _Y(k, W, k + W)
        if cs == 1:
            col = np.arange(ncol, dtype=np.int64)
        else:
            col = (np.arange(ncol // cs, dtype=np.int64)[None, :] * cs +
                   np.arange(cs, dtype=np.int64)[:, None]).reshape(-1)
        seen: list = []
        got = _encode(Y, col, 1, f16=True, spy=seen)
        assert seen and seen[0]
        assert np.array_equal(got, _encode(Y, col, 1, f16=False)), (k, W, cs)


def test_f16_odd_column_sets() -> None:
    """Column sets that are not whole evenly spaced blocks go to `_rs_encode_cols_par`
    (the flag changes nothing there)."""
    k = 2048
    Y = _Y(k, 80, 11)
    for col in (np.arange(13, dtype=np.int64) * 3, np.array([0, 5, 2, 9, 7, 1, 3, 4, 40, 41,
                                                             42, 43, 44, 45, 46, 48]),
                np.arange(20, dtype=np.int64)):
        for rl in (1, 2):
            got = _encode(Y, col, rl, f16=True)
            assert np.array_equal(got, _ref(Y, col, rl))


@pytest.mark.parametrize("k, rl", [(1024, 1), (1024, 2)])
def test_f16_matches_reference(k: int, rl: int) -> None:
    rows = 32
    Y = _Y(k, rows, 17)
    col = np.arange(rows, dtype=np.int64)
    got = _encode(Y, col, rl, f16=True, s0=10)
    for r in (0, 2, 21):
        assert [int(x) for x in got[:, r]] == ntt.rs_encode_ref(
            [int(x) for x in Y[:, col[r]]], rl), (k, rl, r)
