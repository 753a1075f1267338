"""Fields against Python integers (hypothesis), and every Goldilocks kernel against its
pure-Python twin in `zklora.kernels.reference`.

Models: goldilocks and bls12-381-fr are ints mod p; goldilocks-ext2 is pairs (a0, a1)
meaning a0 + a1·x in F_p[x]/(x² − 7).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zklora.kernels import goldilocks as K
from zklora.kernels import reference as R
from zklora.plugins.fields.bls12_381 import BLS12_381_FR
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore.errors import ProofFormatError

GL = GOLDILOCKS
EXT = GOLDILOCKS.ext
FR = BLS12_381_FR
P = GL.p
FIELDS = [GL, EXT, FR]
IDS = [f.name for f in FIELDS]

GL_EDGES = [0, 1, 2, 7, P - 1, P - 2, P // 2, P // 2 + 1, 2**32 - 1, 2**32, 2**32 + 1,
            2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2**33, 0xFFFFFFFF]
FR_EDGES = [0, 1, 2, FR.p - 1, FR.p - 2, FR.p // 2, FR.p // 2 + 1, 2**64, 2**128 - 1, 2**254]

SET = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def prime_elems(p: int, edges: list[int]):
    return st.one_of(st.sampled_from(edges), st.integers(0, p - 1))


# --- Python models ------------------------------------------------------------------


class Model:
    """Python-int arithmetic of one field (elements: int, or (a0, a1) for ext2)."""

    def __init__(self, F):
        self.F = F
        self.p = F.p
        self.ext = F.degree == 2

    def elems(self):
        base = prime_elems(self.p, GL_EDGES if self.p == P else FR_EDGES)
        return st.tuples(base, base) if self.ext else base

    def to_array(self, xs) -> np.ndarray:
        if self.ext:
            return np.array([list(x) for x in xs], dtype=np.uint64).reshape(-1, 2)
        if self.F.dtype == object:
            a = np.empty(len(xs), dtype=object)
            a[:] = list(xs)
            return a
        return np.array(xs, dtype=np.uint64)

    def from_array(self, a) -> list:
        if self.ext:
            return [(int(x[0]), int(x[1])) for x in np.asarray(a).reshape(-1, 2)]
        return [int(x) for x in np.asarray(a).reshape(-1)]

    def add(self, a, b):
        if self.ext:
            return ((a[0] + b[0]) % self.p, (a[1] + b[1]) % self.p)
        return (a + b) % self.p

    def sub(self, a, b):
        if self.ext:
            return ((a[0] - b[0]) % self.p, (a[1] - b[1]) % self.p)
        return (a - b) % self.p

    def mul(self, a, b):
        if self.ext:
            return ((a[0] * b[0] + 7 * a[1] * b[1]) % self.p, (a[0] * b[1] + a[1] * b[0]) % self.p)
        return a * b % self.p

    def neg(self, a):
        return self.sub(self.zero(), a)

    def zero(self):
        return (0, 0) if self.ext else 0

    def one(self):
        return (1, 0) if self.ext else 1

    def inv(self, a):
        if self.ext:
            norm = (a[0] * a[0] - 7 * a[1] * a[1]) % self.p
            ni = pow(norm, -1, self.p)
            return (a[0] * ni % self.p, -a[1] * ni % self.p)
        return pow(a, -1, self.p)


MODELS = {F.name: Model(F) for F in FIELDS}


@pytest.fixture(params=FIELDS, ids=IDS)
def field(request):
    return request.param


# --- ring laws, inverses --------------------------------------------------------------


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@SET
@given(data=st.data())
def test_ring_ops_match_python(F, data):
    M = MODELS[F.name]
    xs = data.draw(st.lists(M.elems(), min_size=1, max_size=8))
    ys = data.draw(st.lists(M.elems(), min_size=len(xs), max_size=len(xs)))
    a, b = M.to_array(xs), M.to_array(ys)
    assert M.from_array(F.add(a, b)) == [M.add(x, y) for x, y in zip(xs, ys)]
    assert M.from_array(F.sub(a, b)) == [M.sub(x, y) for x, y in zip(xs, ys)]
    assert M.from_array(F.mul(a, b)) == [M.mul(x, y) for x, y in zip(xs, ys)]
    assert M.from_array(F.neg(a)) == [M.neg(x) for x in xs]
    s = M.zero()
    d = M.zero()
    for x, y in zip(xs, ys):
        s = M.add(s, x)
        d = M.add(d, M.mul(x, y))
    assert M.from_array(F.sum(a)) == [s]
    assert M.from_array(F.dot(a, b)) == [d]
    # scalar × vector broadcasting both ways
    c = a[0]
    assert M.from_array(F.mul(a, c)) == [M.mul(x, xs[0]) for x in xs]
    assert M.from_array(F.mul(c, a)) == [M.mul(xs[0], x) for x in xs]


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@SET
@given(data=st.data())
def test_ring_laws(F, data):
    M = MODELS[F.name]
    x, y, z = (M.to_array([data.draw(M.elems())]) for _ in range(3))
    one, zero = M.to_array([M.one()]), M.to_array([M.zero()])
    eq = F.equal
    assert eq(F.add(x, y), F.add(y, x))
    assert eq(F.mul(x, y), F.mul(y, x))
    assert eq(F.add(F.add(x, y), z), F.add(x, F.add(y, z)))
    assert eq(F.mul(F.mul(x, y), z), F.mul(x, F.mul(y, z)))
    assert eq(F.mul(x, F.add(y, z)), F.add(F.mul(x, y), F.mul(x, z)))
    assert eq(F.add(x, zero), x) and eq(F.mul(x, one), x)
    assert eq(F.add(x, F.neg(x)), zero)
    assert eq(F.sub(x, y), F.add(x, F.neg(y)))


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@SET
@given(data=st.data())
def test_inverse(F, data):
    M = MODELS[F.name]
    xs = data.draw(st.lists(M.elems().filter(lambda v: v not in (0, (0, 0))),
                            min_size=1, max_size=6))
    a = M.to_array(xs)
    ia = F.inv(a)
    assert M.from_array(ia) == [M.inv(x) for x in xs]
    assert M.from_array(F.mul(a, ia)) == [M.one()] * len(xs)
    e = data.draw(st.integers(0, 2**70))
    assert M.from_array(F.pow(a[:1], e)) == [_model_pow(M, xs[0], e)]


def _model_pow(M, x, e):
    r = M.one()
    while e:
        if e & 1:
            r = M.mul(r, x)
        x = M.mul(x, x)
        e >>= 1
    return r


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@pytest.mark.parametrize("pos", [0, 2, 4])
def test_inverse_of_zero_raises(F, pos):
    M = MODELS[F.name]
    xs = [M.one()] * 5
    xs[pos] = M.zero()
    with pytest.raises(ZeroDivisionError):
        F.inv(M.to_array(xs))
    with pytest.raises(ZeroDivisionError):
        F.inv(M.to_array([M.zero()]))


def test_ext_modulus_irreducible():
    # x² − 7 is irreducible iff 7 is a non-residue: Euler's criterion
    assert pow(7, (P - 1) // 2, P) == P - 1
    assert EXT.degree == 2 and EXT.base is GL and GL.ext is EXT and FR.ext is FR
    assert EXT.bits > 120 and FR.bits > 250


@SET
@given(st.lists(st.tuples(prime_elems(P, GL_EDGES), prime_elems(P, GL_EDGES),
                          prime_elems(P, GL_EDGES)), min_size=1, max_size=8))
def test_ext_embed_mul_base_vecmat(rows):
    M = MODELS[EXT.name]
    e = M.to_array([(r[0], r[1]) for r in rows])
    b = np.array([r[2] for r in rows], dtype=np.uint64)
    assert M.from_array(EXT.mul_base(e, b)) == [M.mul((r[0], r[1]), (r[2], 0)) for r in rows]
    assert EXT.equal(EXT.mul_base(e, b), EXT.mul(e, EXT.embed(b)))
    assert EXT.is_in_base(EXT.embed(b)) and not EXT.is_in_base(np.array([[0, 1]], np.uint64))
    Mat = np.array([[r[2], (r[0] + 3) % P] for r in rows], dtype=np.uint64)
    got = M.from_array(EXT.vecmat(e, Mat))
    for j in range(2):
        acc = (0, 0)
        for i, r in enumerate(rows):
            acc = M.add(acc, M.mul((r[0], r[1]), (int(Mat[i, j]), 0)))
        assert got[j] == acc


def test_powers_and_scalar(field):
    M = MODELS[field.name]
    x = M.to_array([M.add(M.one(), M.one())])[0]  # 2
    pw = M.from_array(field.powers(x, 5))
    two = M.add(M.one(), M.one())
    assert pw == [_model_pow(M, two, k) for k in range(5)]
    assert M.from_array(field.scalar(-1)) == [M.neg(M.one())]
    assert M.from_array(field.ones(3)) == [M.one()] * 3
    assert M.from_array(field.zeros(2)) == [M.zero()] * 2


# --- integer conversion ---------------------------------------------------------------

I64 = np.iinfo(np.int64)
SIGNED = [0, 1, -1, 2, -2, 7, -7, I64.max, I64.min, I64.min + 1, 2**31, -(2**31), 2**32,
          -(2**32), 2**62, -(2**62)]


def _lift(v: int, p: int) -> int:
    v %= p
    return v - p if v > p // 2 else v


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
def test_from_to_ints_signed_extremes(F):
    M = MODELS[F.name]
    want = [(v % F.p, 0) if M.ext else v % F.p for v in SIGNED]
    for src in (np.array(SIGNED, dtype=np.int64), torch.tensor(SIGNED, dtype=torch.int64),
                np.array(SIGNED, dtype=object), SIGNED):
        a = F.from_ints(src)
        assert M.from_array(a) == want, type(src)
        back = [int(v) for v in np.asarray(F.to_ints(a)).reshape(-1)]
        assert back == [_lift(v, F.p) for v in SIGNED]
    # int32 / bool tensors, 2-d shapes keep their shape
    t = torch.tensor([[-5, 3], [0, -(2**31)]], dtype=torch.int32)
    a = F.from_ints(t)
    assert F.shape(a) == (2, 2)
    assert [int(v) for v in np.asarray(F.to_ints(a)).reshape(-1)] == [-5, 3, 0, -(2**31)]


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@SET
@given(st.lists(st.integers(I64.min, I64.max), min_size=1, max_size=20))
def test_from_to_ints_roundtrip(F, vals):
    a = F.from_ints(np.array(vals, dtype=np.int64))
    back = [int(v) for v in np.asarray(F.to_ints(a)).reshape(-1)]
    assert back == [_lift(v, F.p) for v in vals]
    if F.p > 2**64:  # a 255-bit field holds every int64 exactly
        assert back == vals


@pytest.mark.parametrize("F", [GL, EXT], ids=["goldilocks", "goldilocks-ext2"])
def test_from_ints_unsigned_and_big(F):
    u = np.array([0, P - 1, P, P + 1, 2**64 - 1], dtype=np.uint64)
    want = [0, P - 1, 0, 1, (2**64 - 1) % P]
    got = np.asarray(F.from_ints(u)).reshape(-1, F.degree)[:, 0]
    assert [int(v) for v in got] == want
    big = [2**100 + 5, -(2**90), 3 * P + 2]
    got = np.asarray(F.from_ints(np.array(big, dtype=object))).reshape(-1, F.degree)[:, 0]
    assert [int(v) for v in got] == [v % P for v in big]
    with pytest.raises(ValueError):
        EXT.to_ints(np.array([[1, 1]], dtype=np.uint64))


# --- codec ----------------------------------------------------------------------------


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@SET
@given(data=st.data())
def test_codec_roundtrip(F, data):
    M = MODELS[F.name]
    xs = data.draw(st.lists(M.elems(), min_size=0, max_size=10))
    a = M.to_array(xs)
    buf = F.encode(a)
    assert len(buf) == len(xs) * F.nbytes
    assert M.from_array(F.decode(buf)) == xs
    assert F.encode(F.decode(buf)) == buf


def _bad_values(F):
    top = 2 ** (8 * F.nbytes // F.degree)
    return [F.p, F.p + 1, top - 1, (F.p + top) // 2]


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@pytest.mark.parametrize("limb", [0, 1])
def test_decode_rejects_non_canonical(F, limb):
    if limb >= F.degree:
        pytest.skip("prime field has one limb")
    w = F.nbytes // F.degree
    for bad in _bad_values(F):
        good = (1).to_bytes(w, "little") * F.degree
        elem = bytearray(good)
        elem[limb * w:(limb + 1) * w] = bad.to_bytes(w, "little")
        with pytest.raises(ProofFormatError):
            F.decode(good + bytes(elem) + good)
    # p − 1 in every limb is still fine
    ok = (F.p - 1).to_bytes(w, "little") * F.degree
    assert F.encode(F.decode(ok)) == ok


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
@pytest.mark.parametrize("extra", [1, 7, -1])
def test_decode_rejects_wrong_length(F, extra):
    buf = bytes(F.nbytes * 3 + extra)
    with pytest.raises(ProofFormatError):
        F.decode(buf)


# --- sampling -------------------------------------------------------------------------


def _reader(chunks: list[bytes]):
    stream = bytearray(b"".join(chunks))
    log = []

    def read(n):
        assert len(stream) >= n, "sampler asked for more bytes than planned"
        out = bytes(stream[:n])
        del stream[:n]
        log.append(n)
        return out

    return read, log


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
def test_sample_rejects_out_of_range(F):
    M = MODELS[F.name]
    w = F.nbytes // F.degree
    bad = (2 ** (8 * w) - 1).to_bytes(w, "little")
    if F is FR:  # the sampler masks to 255 bits; R itself must be rejected
        bad = F.p.to_bytes(w, "little")
    good = [(5 + i).to_bytes(w, "little") for i in range(F.degree)]
    chunks = []
    for g in good:
        chunks += [bad, bad, g]
    read, log = _reader(chunks)
    v = F.sample(read)
    want = (5, 6) if M.ext else 5
    assert M.from_array(np.asarray(v)) == [want]
    assert sum(log) == sum(len(c) for c in chunks)


@pytest.mark.parametrize("F", FIELDS, ids=IDS)
def test_sample_in_range(F):
    rng = np.random.default_rng(3)

    def read(n):
        return rng.bytes(n)

    M = MODELS[F.name]
    for _ in range(50):
        for x in M.from_array(np.asarray(F.sample(read))):
            for limb in x if M.ext else (x,):
                assert 0 <= limb < F.p
    r = F.random(rng, (4, 3))
    assert F.shape(r) == (4, 3)
    assert all(0 <= limb < F.p for x in M.from_array(r) for limb in (x if M.ext else (x,)))


# --- kernels against reference twins ---------------------------------------------------


def _gl_vec(rng, n):
    v = GL.random(rng, n)
    k = min(n, len(GL_EDGES))
    v[rng.choice(n, k, replace=False)] = np.array([e % P for e in GL_EDGES[:k]], np.uint64)
    return v


def _ext_vec(rng, n):
    return np.stack([_gl_vec(rng, n), _gl_vec(rng, n)], axis=-1)


def _eq(a, b):
    return np.array_equal(np.asarray(a, np.uint64), np.asarray(b, np.uint64))


@pytest.mark.parametrize("n", [1, 37, 1000])
def test_base_kernels_vs_reference(n):
    rng = np.random.default_rng(n)
    a, b = _gl_vec(rng, n), _gl_vec(rng, n)
    for name in ["vadd", "vsub", "vmul"]:
        want = getattr(R, name)(a, b)
        for kern in (getattr(K, name), getattr(K, name + "_s")):
            out = np.empty(n, np.uint64)
            kern(a, b, out)
            assert _eq(out, want), kern
    for kern in (K.vneg, K.vneg_s):
        out = np.empty(n, np.uint64)
        kern(a, out)
        assert _eq(out, R.vneg(a))
    raw = np.concatenate([rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True),
                          np.array([P, P + 1, 2**64 - 1], np.uint64)])
    out = np.empty_like(raw)
    K.vreduce(raw, out)
    assert _eq(out, R.vreduce(raw))
    for c in (1, 3, 64):
        assert int(K.vsum(a, c)) == R.vsum(a) and int(K.vdot(a, b, c)) == R.vdot(a, b)
    assert int(K.vsum_s(a)) == R.vsum(a) and int(K.vdot_s(a, b)) == R.vdot(a, b)
    nz = np.where(a == 0, np.uint64(1), a)
    out = np.empty(n, np.uint64)
    assert K.vinv(nz, out) == -1 and _eq(out, R.vinv(nz))
    z = nz.copy()
    z[n // 2] = 0
    assert K.vinv(z, out) == R.vinv(z) == n // 2


@pytest.mark.parametrize("n", [1, 37, 1000, 1300])
def test_ext_kernels_vs_reference(n):
    rng = np.random.default_rng(100 + n)
    a, b = _ext_vec(rng, n), _ext_vec(rng, n)
    base = _gl_vec(rng, n)
    s = _ext_vec(rng, 1)[0]
    for name in ["eadd", "esub", "emul"]:
        want = getattr(R, name)(a, b)
        for kern in (getattr(K, name), getattr(K, name + "_s")):
            out = np.empty_like(a)
            kern(a, b, out)
            assert _eq(out, want), kern
    for kern in (K.emul_scalar, K.emul_scalar_s):
        out = np.empty_like(a)
        kern(a, s[0], s[1], out)
        assert _eq(out, R.emul_scalar(a, s[0], s[1]))
    for kern in (K.emul_base, K.emul_base_s):
        out = np.empty_like(a)
        kern(a, base, out)
        assert _eq(out, R.emul_base(a, base))
    for c in (1, 5):
        assert _eq(K.esum(a, c), R.esum(a)) and _eq(K.edot(a, b, c), R.edot(a, b))
    assert _eq(K.esum_s(a), R.esum(a)) and _eq(K.edot_s(a, b), R.edot(a, b))
    nz = a.copy()
    nz[(nz[:, 0] == 0) & (nz[:, 1] == 0)] = [1, 0]
    out = np.empty_like(nz)
    assert K.einv(nz, out) == -1 and _eq(out, R.einv(nz))
    nz[n - 1] = 0
    assert K.einv(nz, out) == R.einv(nz) == n - 1
    # element kernels on edge pairs
    for x0, x1 in [(P - 1, P - 1), (2**32, 2**63), (0, P - 1)]:
        assert tuple(int(v) for v in K.e2_mul(np.uint64(x0), np.uint64(x1), np.uint64(x1),
                                              np.uint64(x0))) == R.e2_mul(x0, x1, x1, x0)
        assert int(K.gl_mul7(np.uint64(x1))) == R.gl_mul7(x1)
        assert int(K.gl_reduce128(np.uint64(x0), np.uint64(x1))) == R.gl_reduce128(x0, x1)
        assert int(K.gl_pow(np.uint64(x1), P - 2)) == R.gl_pow(x1, P - 2)


@pytest.mark.parametrize("nv", [0, 1, 4, 7])
def test_eq_interp_fold_vecmat_vs_reference(nv):
    rng = np.random.default_rng(nv)
    r = _ext_vec(rng, max(nv, 1))[:nv]
    for kern in (K.eq_expand, K.eq_expand_s):
        out = np.zeros((1 << nv, 2), np.uint64)
        kern(r, out)
        assert _eq(out, R.eq_expand(r))
    n = 1 << max(nv, 1)
    t = _gl_vec(rng, n)
    s = _ext_vec(rng, 1)[0]
    out = np.empty((n // 2, 2), np.uint64)
    K.e_fold_base(t, s[0], s[1], out)
    assert _eq(out, R.e_fold_base(t, s[0], s[1]))
    stack = _ext_vec(rng, 3 * n).reshape(3, n, 2)
    for kern in (K.e_sc_fold, K.e_sc_fold_s):
        out = np.empty((3, n // 2, 2), np.uint64)
        kern(stack, s[0], s[1], out)
        assert _eq(out, R.e_sc_fold(stack, s[0], s[1]))
    M = _gl_vec(rng, n * 3).reshape(n, 3)
    e = _ext_vec(rng, n)
    out = np.empty((3, 2), np.uint64)
    K.e_vecmat_base(e, M, out)
    assert _eq(out, R.e_vecmat_base(e, M))
    from zklora.plugins.fields.goldilocks import _inv_denominators

    for d in range(1, 6):
        g = _ext_vec(rng, d + 1)
        for x in (s, np.array([d, 0], np.uint64), np.array([0, 0], np.uint64)):
            got = K.e_interpolate(g, _inv_denominators(d), x[0], x[1])
            assert _eq(got, R.e_interpolate(g, x[0], x[1]))
            assert _eq(EXT.interpolate(g, x), got)


TERMS = [
    ([0], [(1, 0)], 1),
    ([0, 2], [(1, 0)], 2),
    ([0, 3, 4, 4], [(3, 1), (P - 1, 5), (9, 0)], 3),  # a term with no factor
    ([0, 4, 5], [(2, 0), (5, 5)], 4),
]


@pytest.mark.parametrize("starts,coeffs,degree", TERMS)
@pytest.mark.parametrize("m", [1, 2, 50])
def test_sc_round_vs_reference(starts, coeffs, degree, m):
    rng = np.random.default_rng(m * 10 + degree)
    k = 3
    nfac = starts[-1]
    factors = np.array([i % k for i in range(nfac)], np.int64)
    if nfac >= 3:
        factors[2] = factors[0]  # a repeated factor (a square)
    starts = np.array(starts, np.int64)
    coeffs = np.array(coeffs, np.uint64)
    stack = _ext_vec(rng, k * 2 * m).reshape(k, 2 * m, 2)
    want = R.e_sc_round(stack, starts, factors, coeffs, degree)
    assert _eq(K.e_sc_round_s(stack, starts, factors, coeffs, degree), want)
    for c in (1, 3):
        assert _eq(K.e_sc_round(stack, starts, factors, coeffs, degree, c), want)


def test_wrappers_take_parallel_path():
    """Field methods on vectors ≥ SMALL (parallel kernels) agree with the serial path."""
    rng = np.random.default_rng(9)
    n = K.SMALL + 3
    a, b = _gl_vec(rng, n), _gl_vec(rng, n)
    ea, eb = _ext_vec(rng, n), _ext_vec(rng, n)
    for F, x, y in ((GL, a, b), (EXT, ea, eb)):
        for op in ("add", "sub", "mul"):
            big = getattr(F, op)(x, y)
            small = np.concatenate([getattr(F, op)(x[i:i + 1000], y[i:i + 1000])
                                    for i in range(0, n, 1000)])
            assert _eq(big, small), (F.name, op)
        assert _eq(F.neg(x), np.concatenate([F.neg(x[:100]), F.neg(x[100:])]))
        assert _eq(F.sum(x), F.add(F.sum(x[:100]), F.sum(x[100:])))
        assert _eq(F.dot(x, y), F.add(F.dot(x[:100], y[:100]), F.dot(x[100:], y[100:])))
    s = eb[0]
    assert _eq(EXT.mul(ea, s), R.emul_scalar(ea, s[0], s[1]))
    assert _eq(EXT.mul_base(ea, a), R.emul_base(ea, a))
    r = _ext_vec(rng, 13)
    assert _eq(EXT.eq_table(r)[::97], R.eq_expand(r[:13])[::97])
