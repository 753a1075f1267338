"""The ``whir`` commitment: kernels against their references, round trips in both
regimes, targeted tamper tests on every part of the opening, the verifier's own
parameters, security terms and strict parsing.  (The generic conformance suite runs in
tests/test_commitment_conformance.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from zklora.kernels import merkle, ntt
from zklora.kernels import whir as K
from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, security
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import ConfigError, ProofFormatError, ProverError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
E = F.ext
REJECT = (VerificationError, ProofFormatError)
PROTO = b"test_whir"


def rb(rng, n):
    return rng.integers(0, P_INT, size=n, dtype=np.uint64)


def re(rng, *shape):
    return rng.integers(0, P_INT, size=shape + (2,), dtype=np.uint64)


# -- kernels ------------------------------------------------------------------------------


def test_mobius_matches_reference_and_inverts_evaluation():
    rng = np.random.default_rng(0)
    for n in (0, 1, 4, 15):
        t = rb(rng, 1 << n)
        c = K.mobius(t)
        assert list(c) == K.mobius_ref(t)
        r = re(rng, n)
        assert np.array_equal(K.mono_eval(r[None], np.array([[1, 0]], np.uint64),
                                          np.stack([c, np.zeros_like(c)], -1)),
                              mle.evaluate(E, t, r, base=True))


@pytest.mark.parametrize("m,d,k", [(0, 1, 0), (3, 4, 2), (4, 5, 4), (5, 7, 3), (4, 6, 1)])
def test_encode_and_fold_match_references(m, d, k):
    rng = np.random.default_rng(m * 100 + d * 10 + k)
    for c in (rb(rng, 1 << m), re(rng, 1 << m)):
        leaves = K.encode_leaves(c, d, k)
        assert np.array_equal(leaves, K.encode_leaves_ref(c, d, k))
        al = re(rng, k)
        assert np.array_equal(K.fold_coeffs(c, al), K.fold_coeffs_ref(c, al))
        ext = np.zeros(leaves.shape[:2] + (2,), np.uint64)
        ext[...] = leaves if leaves.ndim == 3 else leaves[..., None] * np.array([1, 0], np.uint64)
        idx = np.arange(leaves.shape[0])
        folded = K.fold_leaves(ext, idx, d, al)
        assert np.array_equal(folded, K.fold_leaves_ref(ext, idx, d, al))
        # folding a leaf = evaluating the folded coefficients at z = ω^(a·2^k)
        cf = K.fold_coeffs(c, al)
        w = ntt.root_of_unity(d - k)
        zs = np.array([[pow(w, int(a), P_INT), 0] for a in idx], np.uint64)
        assert np.array_equal(K.horner_many(cf, zs), folded)


@pytest.mark.parametrize("m,d,k", [(6, 8, 2), (5, 7, 3), (4, 9, 1), (7, 8, 0)])
def test_encode_leaves_is_independent_of_the_split(m, d, k):
    """The four-step split T = 2^log_split (k ≤ log_split ≤ m) only reorders the work:
    every split gives the reference leaves; a split outside [k, m] is refused."""
    rng = np.random.default_rng(m * 100 + d * 10 + k + 7)
    for c in (rb(rng, 1 << m), re(rng, 1 << m)):
        want = K.encode_leaves_ref(c, d, k)
        for lt in range(k, m + 1):
            assert np.array_equal(K.encode_leaves(c, d, k, lt), want), lt
        for bad in (k - 1, m + 1):
            if bad >= 0:
                with pytest.raises(ValueError):
                    K.encode_leaves(c, d, k, bad)


def test_small_kernels_match_references():
    rng = np.random.default_rng(5)
    c = re(rng, 1 << 15)
    z = re(rng, 1)[0]
    assert np.array_equal(K.horner(c, z), K.horner_ref(c, z))
    cb = rb(rng, 300)
    assert np.array_equal(K.horner(cb, z), K.horner_ref(cb, z))
    r = re(rng, 4)
    assert np.array_equal(K.mono_table(r), K.mono_table_ref(r))
    pts, cf, tab = re(rng, 5, 3), re(rng, 5), re(rng, 8)
    assert np.array_equal(K.mono_eval(pts, cf, tab), K.mono_eval_ref(pts, cf, tab))
    assert np.array_equal(K.eq_prefix(pts, r[:2]), K.eq_prefix_ref(pts, r[:2]))
    out = re(rng, 16)
    pts4 = re(rng, 3, 4)
    expect = K.eq_accumulate_ref(out, pts4, cf[:3])
    K.eq_accumulate(out, pts4, cf[:3])
    assert np.array_equal(out, expect)
    big, pts13 = re(rng, 1 << 13), re(rng, 5, 13)
    one = big.copy()
    for p, q in zip(pts13, cf):
        K.eq_accumulate(one, p[None], q[None])
    K.eq_accumulate(big, pts13, cf)  # the threaded path
    assert np.array_equal(big, one)
    huge, pts18 = re(rng, K.PER_POINT_FROM), re(rng, 2, 18)
    split = huge.copy()
    K.eq_accumulate(huge, pts18, cf[:2])  # one point at a time, all threads
    K._eq_accumulate(pts18, cf[:2], split, 2)
    assert np.array_equal(huge, split)
    for q in (0, 1, 2):  # overwrite: the previous contents do not matter
        for size in (1 << 10, K.PER_POINT_FROM):
            fresh = np.zeros((size, 2), np.uint64)
            K.eq_accumulate(fresh, pts18[:q, :size.bit_length() - 1], cf[:q])
            junk = re(rng, size)
            K.eq_accumulate(junk, pts18[:q, :size.bit_length() - 1], cf[:q], overwrite=True)
            assert np.array_equal(junk, fresh)
    x = re(rng, 1)[0]
    assert np.array_equal(K.epowers(x, 2, 3)[0], E.pow(x, 2))
    assert np.array_equal(K.esquares(x[None], 3)[0, 2], E.pow(x, 4))


def test_multiproof_kernels_match_merkle():
    rng = np.random.default_rng(7)
    for depth in (1, 3, 9):
        leaves = rng.integers(0, 256, size=(1 << depth, 32), dtype=np.uint8)
        levels = merkle.build(leaves, "blake3")
        for q in (1, 3, 40, 1 << depth):
            idx = np.array(sorted(set(rng.integers(0, 1 << depth, size=q).tolist())))
            proof = merkle.open_multi(levels, idx)
            assert K.num_siblings(idx, depth) == merkle.num_siblings(idx, depth)
            assert K.multi_root(idx, leaves[idx], depth, proof) == merkle.root(levels)
            if proof:
                with pytest.raises(ValueError):
                    K.multi_root(idx, leaves[idx], depth, proof[:-32])
    rows = rng.integers(0, P_INT, size=(70, 16), dtype=np.uint64)
    assert np.array_equal(K.hash_leaves_serial(rows), merkle.hash_leaves(rows, "blake3"))


@pytest.mark.parametrize("hash_name", ["blake3", "sha256"])
@pytest.mark.parametrize("w", [16, 25, 31])
def test_truncated_digest_trees(hash_name, w):
    """Trees of w-byte digests (whir: w = ⌈λ/4⌉): the compiled and Python multi-proof
    checks, the recursive reference and the parallel/Python node hashing agree; a proof
    of the other length or with one changed byte gives another root or is refused."""
    rng = np.random.default_rng(w)
    depth = 9
    cols = rng.integers(0, P_INT, size=(1 << depth, 16), dtype=np.uint64)
    leaves = merkle.hash_leaves(cols, hash_name, w)
    assert leaves.shape == (1 << depth, w)
    assert np.array_equal(leaves, merkle.hash_leaves(cols, hash_name)[:, :w])
    levels = merkle.build(leaves, hash_name)
    assert all(lv.shape[1] == w for lv in levels)
    root = merkle.root(levels)
    assert root == merkle.root_ref([c.tobytes() for c in cols], hash_name, w)
    assert len(root) == w and root != merkle.root(merkle.build(
        merkle.hash_leaves(cols, hash_name), hash_name))[:w]
    # small levels take the Python path, large ones the compiled one: both agree
    assert merkle.build(leaves[:8], hash_name)[-1].tobytes() == merkle.root_ref(
        [c.tobytes() for c in cols[:8]], hash_name, w)
    for q in (1, 5, 60):
        idx = np.array(sorted(set(rng.integers(0, 1 << depth, size=q).tolist())))
        proof = merkle.open_multi(levels, idx)
        assert len(proof) == w * merkle.num_siblings(idx, depth)
        digs = [leaves[i].tobytes() for i in idx]
        assert merkle.root_from_multi(digs, idx, depth, proof, hash_name, w) == root
        bad = bytearray(proof)
        bad[len(bad) // 2] ^= 1
        assert merkle.root_from_multi(digs, idx, depth, bytes(bad), hash_name, w) != root
        with pytest.raises(ValueError):
            merkle.root_from_multi(digs, idx, depth, proof[:-1], hash_name, w)
        if hash_name == "blake3":
            assert K.multi_root(idx, K.hash_leaves_serial(cols[idx]), depth, proof, w) == root
            assert K.multi_root(idx, leaves[idx], depth, bytes(bad), w) != root
            with pytest.raises(ValueError):
                K.multi_root(idx, leaves[idx], depth, proof[:-w], w)
    with pytest.raises(ValueError):
        merkle.hash_leaves(cols, hash_name, 15)


# -- protocol helpers ------------------------------------------------------------------------


class RecordingChannel(ProverChannel):
    """Records (label, start, end) of every prover message."""

    def __init__(self, transcript):
        super().__init__(transcript)
        self.spans: list[tuple[str, int, int]] = []

    def send_bytes(self, label, data):
        self.spans.append((label, len(self.buf), len(self.buf) + len(data)))
        super().send_bytes(label, data)


def scheme(**params):
    return W.Whir(F, {"direct_vars": 0, **params})


def prove(s, sizes, claims=2, seed=0):
    rng = np.random.default_rng(seed)
    items, opens, tables = [], [], []
    for n in sizes:
        t = F.random(rng, 1 << n)
        com, st = s.commit(t)
        evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
               for r in (E.random(rng, n) for _ in range(claims))]
        items.append(CheckItem(com, n, evs))
        opens.append(OpenItem(st, evs))
        tables.append(t)
    ch = RecordingChannel(Transcript(PROTO))
    s.open(ch, opens)
    return items, ch.proof_bytes(), ch.spans, tables


def verify(s, items, proof):
    ch = VerifierChannel(Transcript(PROTO), proof)
    s.verify(ch, items)
    ch.finish()


def rejects(s, items, proof):
    with pytest.raises(REJECT):
        verify(s, items, proof)


def flip(proof, pos):
    b = bytearray(proof)
    b[pos] ^= 0x04
    return bytes(b)


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"regime": "conjectured"},
                                    {"folding_factor": 2, "rate_log": 2},
                                    {"folding_factor": 1, "rate_log": 3},
                                    {"hash": "sha256", "regime": "conjectured"}])
def test_roundtrip(params):
    s = scheme(**params)
    items, proof, _, _ = prove(s, [1, 4, 9, 14, 10], claims=3)
    verify(s, items, proof)


def test_plan_is_succinct_and_within_limits():
    for regime in W.REGIMES:
        p = W.WhirParams(regime=regime)
        for n in range(11, W.MAX_VARS + 1):
            pl = W.plan(n, p, 128.0)
            assert sum(r.k for r in pl.rounds) == n - (pl.rounds[-1].m - pl.rounds[-1].k)
            assert pl.rounds[-1].m - pl.rounds[-1].k <= W.FINAL_VARS
            assert all(r.d > r.m for r in pl.rounds)
            assert all(0 <= r.pow_fold <= W.MAX_POW and 0 <= r.pow_comb <= W.MAX_POW
                       and 0 <= r.pow_query <= W.MAX_POW for r in pl.rounds)
            assert min(b for _, b in pl.terms) >= 100
            assert len(pl.rounds) <= math.ceil(n / 4)


def test_opening_estimate_and_automatic_direct_rule():
    """`opening_bytes` is within a few percent of real one-claim proofs and `table_bytes`
    of what one more table adds to a batch; by default the prover sends a table when its packed
    bytes are no more than that, and an integer ``direct_vars`` fixes the rule."""
    rng = np.random.default_rng(2)
    small = rng.integers(0, 100, size=1 << 12).astype(np.uint64)  # 1 byte per entry
    big = F.random(rng, 1 << 14)
    for regime in W.REGIMES:
        s = scheme(regime=regime)
        for n in (10, 12, 13):
            _, proof, _, _ = prove(s, [n], claims=1, seed=n)
            est = W.opening_bytes(s.plan(n))
            # an expectation over the query draws: one proof varies by a few percent
            assert abs(est - len(proof)) <= 0.08 * len(proof), (regime, n, est, len(proof))
        _, p2, _, _ = prove(s, [13, 13], claims=1, seed=1)
        _, p3, _, _ = prove(s, [13, 13, 13], claims=1, seed=1)
        est = W.Whir.table_bytes(s.plan(13))
        assert abs(est - (len(p3) - len(p2))) <= 0.1 * est, (regime, est, len(p3) - len(p2))
        auto = W.Whir(F, {"regime": regime})
        assert auto.cfg.direct_vars == -1 == W.Whir(F, {"direct_vars": "auto"}).cfg.direct_vars
        assert auto._send_directly([small, big, small[:1]]) == [True, False, True]
        assert not any(auto.direct(n) for n in range(1, 20)) and auto.direct(0)
        # packed random entries take 8 bytes: sent iff no more than the WHIR share
        for n in (9, 11, 12):
            t = F.random(rng, 1 << n)
            assert auto._send_directly([t, t]) == [1 + (8 << n) <= W.Whir.table_bytes(
                auto.plan(n))] * 2
            assert auto._send_directly([t]) == [1 + (8 << n) <= W.opening_bytes(auto.plan(n))]
    assert W.Whir(F, {"direct_vars": 0})._send_directly([small, small[:1]]) == [False, True]
    assert W.Whir(F, {"direct_vars": 12})._send_directly([small, big]) == [True, False]


# -- tampering ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opened():
    s = scheme(regime="conjectured")
    items, proof, spans, tables = prove(s, [13, 12], claims=2, seed=3)
    verify(s, items, proof)
    return s, items, proof, spans, tables


def _spans(spans, label):
    return [(a, b) for lab, a, b in spans if lab == label and b > a]


@pytest.mark.parametrize("label", ["whir/modes", "whir/root", "whir/ood", "whir/sumcheck",
                                   "whir/leaves", "whir/paths", "whir/final"])
def test_tampered_part_rejected(opened, label):
    """One byte of every message of each kind, for each commitment, is rejected: a root,
    an OOD value, a sumcheck (folding) message, an opened leaf value, a Merkle path
    node and the final polynomial."""
    s, items, proof, spans, _ = opened
    parts = _spans(spans, label)
    assert parts, f"no {label} in the proof"
    for a, b in parts:
        for pos in sorted({a, (a + b) // 2, b - 1}):
            rejects(s, items, flip(proof, pos))


def test_grinding_nonces_checked():
    """At 118 bits the field terms need grinding; a changed nonce is rejected."""
    s = scheme(regime="conjectured", security_bits=118)
    pl = s.plan(14)
    assert any(r.pow_fold for r in pl.rounds) and any(r.pow_comb for r in pl.rounds)
    assert all(r.pow_query == 16 for r in pl.rounds if r.queries < r.leaves)
    items, proof, spans, _ = prove(s, [14], claims=1)
    verify(s, items, proof)
    for label in ("whir/pow-fold", "whir/pow-comb", "whir/pow-query"):
        for a, b in _spans(spans, label)[:3]:
            rejects(s, items, flip(proof, a))
            rejects(s, items, flip(proof, b - 1))


def test_tampered_leaf_value_with_consistent_path_rejected(opened):
    """A changed opened value is caught by the Merkle check even if the leaf's word stays
    canonical (value + 1 in the first round's base-field leaves)."""
    s, items, proof, spans, _ = opened
    a, _ = _spans(spans, "whir/leaves")[0]
    word = int.from_bytes(proof[a:a + 8], "little")
    bad = bytearray(proof)
    bad[a:a + 8] = ((word + 1) % P_INT).to_bytes(8, "little")
    rejects(s, items, bytes(bad))


def test_claim_and_statement_changes_rejected(opened):
    s, items, proof, _, _ = opened
    for k in range(len(items)):
        for j in range(len(items[k].evals)):
            ev = items[k].evals[j]
            for bad in (Evaluation(ev.point, E.add(ev.value, E.scalar(1))),
                        Evaluation(E.add(ev.point, E.scalar(1)), ev.value)):
                changed = [CheckItem(it.commitment, it.num_vars, list(it.evals)) for it in items]
                changed[k].evals[j] = bad
                rejects(s, changed, proof)
    # a claim dropped, the items reordered, a commitment changed
    rejects(s, [CheckItem(items[0].commitment, 13, items[0].evals[:1]), items[1]], proof)
    rejects(s, items[::-1], proof)
    rejects(s, [CheckItem(items[1].commitment, 13, items[0].evals), items[1]], proof)


def test_truncated_and_garbage_proofs_rejected(opened):
    s, items, proof, spans, _ = opened
    for _, a, _ in spans[::7]:
        rejects(s, items, proof[:a])
    rng = np.random.default_rng(9)
    for length in (0, 40, len(proof)):
        rejects(s, items, rng.integers(0, 256, size=length, dtype=np.uint8).tobytes())


def test_wrong_tensor_rejected():
    s = scheme()
    rng = np.random.default_rng(11)
    t = F.random(rng, 1 << 12)
    com, _ = s.commit(t)
    u = t.copy()
    u[5] = (int(u[5]) + 1) % P_INT
    _, st_u = s.commit(u)
    r = E.random(rng, 12)
    ev = [Evaluation(r, mle.evaluate(E, u, r, base=True))]
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st_u, ev)])
    rejects(s, [CheckItem(com, 12, ev)], ch.proof_bytes())


# -- parameters and security ----------------------------------------------------------------


def test_verifier_uses_its_own_parameters():
    """A proof made under other parameters (weaker or just different) is rejected: the
    verifier derives every count from its own configuration."""
    weak = scheme(security_bits=40)
    items, proof, _, _ = prove(weak, [12], claims=1)
    verify(weak, items, proof)
    for other in ({}, {"regime": "conjectured"}, {"rate_log": 2}, {"folding_factor": 3},
                  {"first_shrink": 1}):
        rejects(scheme(**other), items, proof)


def test_default_security_and_refusal_when_weakened():
    for params in ({}, {"regime": "conjectured"}, {"rate_log": 2}, {"rate_log": 4},
                   {"folding_factor": 2}, {"first_shrink": 1}, {"first_shrink": 3},
                   {"regime": "conjectured", "first_shrink": 3},
                   {"regime": "conjectured", "rate_log": 4},
                   {"regime": "conjectured", "rate_log": 2, "folding_factor": 2}):
        terms = W.Whir(F, params).soundness(E, 1 << 20)
        report = security.Report(tuple(terms))
        assert report.bits >= 100, (params, report.summary())
        assert {"queries", "folding", "combination"} <= {
            t.parameter.rsplit(": ", 1)[-1] for t in terms if t.parameter.startswith("whir ")}
        report.enforce()
    # weakened on purpose, or a combination whose list-size terms (at the largest
    # table, 2^MAX_VARS) would need more grinding than MAX_POW bits
    for params in ({"security_bits": 80}, {"security_bits": 99, "regime": "conjectured"},
                   {"security_bits": 96, "regime": "unique"}):
        report = security.Report(tuple(W.Whir(F, params).soundness(E, 1 << 20)))
        assert report.bits < 100
        with pytest.raises(VerificationError, match="whir security_bits"):
            report.enforce()
    # the regime is named in the limiting protocol term; the Merkle digests (⌈λ/4⌉
    # bytes) give exactly λ bits
    terms = W.Whir(F, {"regime": "conjectured"}).soundness(E)
    lim = security.Report(tuple(t for t in terms if "Merkle" not in t.parameter)).limiting
    assert "conjectured" in lim.parameter
    assert [t.bits for t in terms if "Merkle" in t.parameter] == [100.0]
    assert [t.bits for t in W.Whir(F, {"security_bits": 128}).soundness(E)
            if "Merkle" in t.parameter] == [128.0]


def test_first_shrink_round_trips_and_is_clamped():
    """The first round's next codeword is 2^first_shrink times smaller than the first
    (clamped so that its rate stays below 1); every setting proves and verifies, and a
    proof under one setting is rejected under another."""
    proofs = {}
    for params in ({"first_shrink": 1}, {"first_shrink": 3}, {"folding_factor": 1,
                                                               "first_shrink": 3},
                   {"regime": "conjectured", "folding_factor": 2, "first_shrink": 3}):
        s = scheme(**params)
        pl = s.plan(14)
        r0, r1 = pl.rounds[:2]
        want = min(s.cfg.first_shrink, r0.d - r0.m + r0.k - 1)
        assert r1.d == r0.d - want and r1.d > r1.m and r1.m == r0.m - r0.k
        assert all(b.d == a.d - 1 for a, b in zip(pl.rounds[1:], pl.rounds[2:]))
        items, proof, _, _ = prove(s, [14], claims=1, seed=4)
        verify(s, items, proof)
        proofs[tuple(sorted(params.items()))] = (items, proof)
    items, proof = proofs[(("first_shrink", 1),)]
    rejects(scheme(first_shrink=3), items, proof)
    for bad in (0, 4, "2"):
        with pytest.raises(ConfigError, match="first_shrink"):
            W.Whir(F, {"first_shrink": bad})


def test_state_of_other_parameters_refused_by_prover():
    _, st = scheme(rate_log=2).commit(np.arange(1 << 12, dtype=np.uint64))
    with pytest.raises(ProverError, match="other parameters"):
        scheme().open(ProverChannel(Transcript(PROTO)),
                      [OpenItem(st, [Evaluation(E.zeros(12), E.zeros(()))])])


def test_bad_parameters_refused():
    for bad in ({"rate_log": 0}, {"rate": "1/3"}, {"folding_factor": 5}, {"regime": "jb"},
                {"hash": "md5"}, {"security_bits": True}, {"direct_vars": 31}, {"queries": 3},
                {"direct_vars": "yes"},
                {"rate": "1/2", "rate_log": 2}):
        with pytest.raises(ConfigError):
            W.Whir(F, bad)
    assert W.Whir(F, {"rate": "1/4"}).cfg.rate_log == 2
    with pytest.raises(ConfigError):
        registry().commitment("whir")(registry().field("bls12-381-fr"))


def test_stack_with_whir_is_assessed_by_the_verifier_floor():
    """Selected in a proof stack, whir's terms enter `security.assess`: the defaults pass
    the floor, a weakened configuration is refused before any proving."""
    import attrs

    from zklora.zkcore.config import PROFILES, resolve

    stack = attrs.evolve(PROFILES["fast"], commitment="whir")
    for params in ({}, {"regime": "conjectured"}):
        be = resolve(stack, registry(), {"whir": params})
        report = security.assess(be, 1 << 16).enforce()
        assert report.bits >= 100
        assert any(t.parameter.startswith("whir ") for t in report.terms)
    weak = resolve(stack, registry(), {"whir": {"security_bits": 64}})
    with pytest.raises(ConfigError, match="whir security_bits = 64"):
        security.assess(weak).enforce(ConfigError)


# -- batched opening of same-size tables ---------------------------------------------------


def test_lincomb_kernel_matches_reference():
    rng = np.random.default_rng(21)
    for T, N in ((1, 7), (3, 64), (2, K.SERIAL_BELOW)):
        tabs = np.stack([rb(rng, N) for _ in range(T)])
        mu = re(rng, T)
        assert np.array_equal(K.lincomb_base(tabs, mu), K.lincomb_base_ref(tabs, mu))


@pytest.mark.parametrize("regime", W.REGIMES)
def test_batched_roundtrip_and_size(regime):
    """Tables of equal size share their first round (reduction sumcheck, one
    combination, shared queries); all sizes share one continuation (stacked ĥ)."""
    s = scheme(regime=regime)
    items, proof, spans, _ = prove(s, [13, 14, 13, 9, 13, 14], claims=2, seed=5)
    verify(s, items, proof)
    # one chain for the sizes 9, 13, 14 when the stack is smaller, else one per size
    assert len(_spans(spans, "whir/final")) == (1 if s._merged([9, 13, 14]) else 3)
    assert len(_spans(spans, "whir/values")) == 2  # the sizes with several tables
    single = len(prove(s, [13], claims=2, seed=6)[1])
    _, triple, _, _ = prove(s, [13, 13, 13], claims=2, seed=6)
    assert len(triple) < 2.5 * single  # the later rounds are shared


@pytest.fixture(scope="module")
def batched():
    s = scheme(regime="conjectured")
    items, proof, spans, tables = prove(s, [13, 13, 13], claims=2, seed=8)
    verify(s, items, proof)
    return s, items, proof, spans, tables


@pytest.mark.parametrize("label", ["whir/modes", "whir/root", "whir/ood", "whir/reduce",
                                   "whir/values",
                                   "whir/sumcheck", "whir/leaves", "whir/paths",
                                   "whir/final"])
def test_batched_tampered_part_rejected(batched, label):
    """One byte of each message of the batched opening: each commitment's root, OOD
    values, round-0 leaves and Merkle nodes (first, middle and last table), the
    reduction sumcheck, every claimed evaluation at the common point, the folding
    messages and the final polynomial."""
    s, items, proof, spans, _ = batched
    parts = _spans(spans, label)
    assert parts, f"no {label} in the proof"
    for a, b in parts:
        for pos in sorted({a, (a + b) // 2, b - 1} | set(range(a, b, 16))):
            rejects(s, items, flip(proof, pos))


def test_batched_leaf_of_each_commitment_checked(batched):
    """A canonical change (+1) of an opened round-0 value of the first, middle and last
    commitment is caught (its Merkle path), and so is one in a later round."""
    s, items, proof, spans, _ = batched
    leaves = _spans(spans, "whir/leaves")
    assert len(leaves) >= 4
    for a, b in leaves[:3] + [leaves[3]]:
        for pos in (a, (a + b) // 2 // 8 * 8):
            word = int.from_bytes(proof[pos:pos + 8], "little")
            bad = bytearray(proof)
            bad[pos:pos + 8] = ((word + 1) % P_INT).to_bytes(8, "little")
            rejects(s, items, bytes(bad))


def test_batched_claims_order_and_truncation_rejected(batched):
    s, items, proof, spans, _ = batched
    for k in range(len(items)):  # a wrong claimed value on each commitment
        ev = items[k].evals[1]
        changed = [CheckItem(it.commitment, it.num_vars, list(it.evals)) for it in items]
        changed[k].evals[1] = Evaluation(ev.point, E.add(ev.value, E.scalar(1)))
        rejects(s, changed, proof)
    rejects(s, items[::-1], proof)
    rejects(s, [items[1], items[0], items[2]], proof)
    rejects(s, [items[0], items[2], items[1]], proof)
    for _, a, _ in spans[::5]:
        rejects(s, items, proof[:a])
    rejects(s, items, proof[:-1])
    rejects(s, items, proof + b"\0")


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_batched_wrong_table_rejected(bad):
    """One table of the batch (first, middle, last) changed in one entry after its
    commitment: its true evaluations are claimed, the commitment is the original's."""
    s = scheme(regime="conjectured")
    rng = np.random.default_rng(30 + bad)
    items, opens = [], []
    for t in range(3):
        tab = F.random(rng, 1 << 13)
        com, st = s.commit(tab)
        if t == bad:
            tab = tab.copy()
            tab[77] = (int(tab[77]) + 1) % P_INT
            _, st = s.commit(tab)
        r = E.random(rng, 13)
        ev = [Evaluation(r, mle.evaluate(E, tab, r, base=True))]
        items.append(CheckItem(com, 13, ev))
        opens.append(OpenItem(st, ev))
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, opens)
    rejects(s, items, ch.proof_bytes())


def test_direct_tables_packed_strictly():
    """A table sent in the clear costs its least two's-complement width per entry; a
    wider-than-needed width, an entry outside the centred range, or a changed entry is
    rejected."""
    s = W.Whir(F, {"direct_vars": 8})
    rng = np.random.default_rng(41)
    c = rng.integers(-300, 300, size=256)
    t = np.array([int(x) % P_INT for x in c], dtype=np.uint64)
    com, st = s.commit(t)
    r = E.random(rng, 8)
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))]
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    proof = ch.proof_bytes()
    items = [CheckItem(com, 8, evs)]
    verify(s, items, proof)
    assert proof[:2] == bytes([1, 2]) and len(proof) == 2 + 2 * 256  # mode, width, entries
    wide = np.ascontiguousarray(c.astype("<i8").view(np.uint8).reshape(-1, 8)[:, :3])
    rejects(s, items, bytes([1, 3]) + wide.tobytes())
    big = c.astype("<i8").copy()
    big[0] = (P_INT - 1) // 2 + 1
    rejects(s, items, bytes([1, 8]) + big.tobytes())
    for bad in (bytes([1, 0]) + proof[2:], bytes([1, 9]) + proof[2:], bytes([2]) + proof[1:],
                bytes([0]) + proof[1:], flip(proof, 7)):
        rejects(s, items, bad)
    # a table of one entry must be sent (mode 0 is refused for n = 0)
    com0, st0 = s.commit(t[:1])
    ev0 = [Evaluation(np.zeros((0, 2), np.uint64), E.embed(t[0]))]
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st0, ev0)])
    p0 = ch.proof_bytes()
    verify(s, [CheckItem(com0, 0, ev0)], p0)
    rejects(s, [CheckItem(com0, 0, ev0)], bytes([0]) + p0[1:])


def test_grinding_kernel_matches_reference():
    h = merkle.hasher("blake3")
    for bits, prefix in ((0, b""), (1, b"a"), (7, b"zklora/whir/v1/pow" + bytes(32)),
                         (12, bytes(range(200))), (14, b"x" * 1000),
                         # the nonce straddling a block edge, or starting one
                         (6, bytes(range(60))), (6, bytes(range(64))), (5, b"y" * 127),
                         (5, b"z" * 128), (4, b"w" * 1016)):
        nonce = K.grind_blake3(prefix, bits)
        assert nonce == K.grind_ref(prefix, bits, h)
        assert int.from_bytes(h(prefix + nonce.to_bytes(8, "little"))[:8], "little") \
            % (1 << bits) == 0


def test_query_grinding_trades_queries_for_work():
    """``query_pow`` bits of grinding before each round's query indices replace
    bits/(−log2 err) queries; the verifier checks the nonce (`test_grinding_nonces_checked`)
    and a proof made with another ``query_pow`` is rejected."""
    B = security.field_bits(E)
    for regime in W.REGIMES:
        plain = W.plan(20, W.WhirParams(regime=regime, query_pow=0), B)
        ground = W.plan(20, W.WhirParams(regime=regime, query_pow=16), B)
        assert all(r.pow_query == 0 for r in plain.rounds)
        for a, b in zip(plain.rounds, ground.rounds):
            qb = W._query_bits(regime, a.d, a.m)
            assert b.queries == math.ceil((100 - b.pow_query) / qb) < a.queries
        assert min(b for _, b in ground.terms) >= 100
        assert W.opening_bytes(ground) < W.opening_bytes(plain)
    s16, s0 = scheme(regime="conjectured"), scheme(regime="conjectured", query_pow=0)
    items, proof, _, _ = prove(s16, [13], claims=1)
    verify(s16, items, proof)
    rejects(s0, items, proof)


# -- several sizes: one shared continuation (stacked ĥ) ----------------------------------


@pytest.fixture(scope="module", params=["one more round", "two more rounds"])
def mixed(request):
    """A batch of several sizes: [13, 12, 12, 9] stacks ĥ of 10 variables (one more
    round), [15, 13, 11, 13] ĥ of 12 variables (two more rounds)."""
    s = scheme(regime="conjectured")
    sizes = [13, 12, 12, 9] if request.param == "one more round" else [15, 13, 11, 13]
    assert s._merged(sorted(set(sizes)))
    items, proof, spans, tables = prove(s, sizes, claims=2, seed=11)
    verify(s, items, proof)
    return s, items, proof, spans, tables, request.param


MIXED_LABELS = ["whir/modes", "whir/root", "whir/ood", "whir/reduce", "whir/values",
                "whir/sumcheck", "whir/leaves", "whir/paths", "whir/final",
                "whir/pow-query", "whir/pow-comb"]


@pytest.mark.parametrize("label", MIXED_LABELS)
def test_mixed_sizes_tampered_part_rejected(mixed, label):
    """One byte of each message of a batch of several sizes — each commitment's root,
    OOD values and first-round leaves and Merkle nodes, each size's folding messages
    and query nonce, the stacked ĥ's root, OOD values, leaves, paths and its final
    polynomial — is rejected."""
    s, items, proof, spans, _, _ = mixed
    parts = _spans(spans, label)
    if not parts:
        assert label == "whir/pow-comb"  # no grinding needed at these sizes
        return
    for a, b in parts:
        for pos in sorted({a, (a + b) // 2, b - 1}):
            rejects(s, items, flip(proof, pos))


def test_mixed_sizes_leaf_of_each_commitment_checked(mixed):
    """A canonical change (+1) of an opened value of every commitment (each size's
    first round) and of the stacked ĥ's codeword is caught."""
    s, items, proof, spans, _, _ = mixed
    for a, b in _spans(spans, "whir/leaves"):
        for pos in (a, (a + b) // 2 // 8 * 8):
            word = int.from_bytes(proof[pos:pos + 8], "little")
            bad = bytearray(proof)
            bad[pos:pos + 8] = ((word + 1) % P_INT).to_bytes(8, "little")
            rejects(s, items, bytes(bad))


def test_mixed_sizes_claims_and_order_rejected(mixed):
    """A wrong claimed value or point on each commitment, reordered items and truncated
    or extended proofs are rejected."""
    s, items, proof, spans, _, _ = mixed
    for k in range(len(items)):
        for j in range(len(items[k].evals)):
            ev = items[k].evals[j]
            for bad in (Evaluation(ev.point, E.add(ev.value, E.scalar(1))),
                        Evaluation(E.add(ev.point, E.scalar(1)), ev.value)):
                changed = [CheckItem(it.commitment, it.num_vars, list(it.evals))
                           for it in items]
                changed[k].evals[j] = bad
                rejects(s, changed, proof)
    rejects(s, items[::-1], proof)
    for _, a, _ in spans[::7]:
        rejects(s, items, proof[:a])
    rejects(s, items, proof + b"\0")


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_mixed_sizes_wrong_table_rejected(bad):
    """One table (of each size) changed in one entry after its commitment, its true
    evaluations claimed: rejected."""
    s = scheme(regime="conjectured")
    rng = np.random.default_rng(50 + bad)
    items, opens = [], []
    for t, n in enumerate((13, 11, 9)):
        tab = F.random(rng, 1 << n)
        com, st = s.commit(tab)
        if t == bad:
            tab = tab.copy()
            tab[5] = (int(tab[5]) + 1) % P_INT
            _, st = s.commit(tab)
        r = E.random(rng, n)
        ev = [Evaluation(r, mle.evaluate(E, tab, r, base=True))]
        items.append(CheckItem(com, n, ev))
        opens.append(OpenItem(st, ev))
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, opens)
    rejects(s, items, ch.proof_bytes())


def test_mixed_sizes_share_one_continuation():
    """Several sizes cost less than their separate proofs (one later chain instead of
    one per size) when `merge_sizes` says so; when the stack's extra variable costs
    more than the small chains (2^16 with 2^13 under unique decoding) the sizes keep
    their own chains; the stacked layout puts each block at an offset aligned to its
    size."""
    lay = W._layout([9, 5, 8, 0])
    assert lay.m == 10 and lay.blocks == ((0, 9), (768, 5), (512, 8), (800, 0))
    for regime in W.REGIMES:
        s = scheme(regime=regime)
        together = len(prove(s, [15, 14, 13], claims=1, seed=3)[1])
        apart = sum(len(prove(s, [n], claims=1, seed=3)[1]) for n in (15, 14, 13))
        assert s._merged([13, 14, 15]) and together < 0.95 * apart, (together, apart)
    s = scheme()
    assert not s._merged([13, 16])
    together = len(prove(s, [16, 13], claims=1, seed=3)[1])
    apart = sum(len(prove(s, [n], claims=1, seed=3)[1]) for n in (16, 13))
    assert abs(together - apart) < 0.03 * apart
    # a block's point, padded with its selector bits, evaluates the stacked table there
    rng = np.random.default_rng(4)
    tab = rb(rng, 1 << 6)
    for off, mt in ((0, 4), (16, 4), (48, 4), (32, 5)):
        x = re(rng, mt)
        pt = W._selector_points(x[None], off, mt, 6)[0]
        assert np.array_equal(mle.evaluate(E, tab, pt, base=True),
                              mle.evaluate(E, tab[off:off + (1 << mt)], x, base=True))
    assert not s._merged([6, 10])  # a stack sent in the clear is never smaller


@pytest.mark.parametrize("sizes", [[15, 14, 3], [15, 14, 1]])
def test_mixed_sizes_with_a_block_of_one_entry(sizes):
    """A size of at most k variables folds to one value: a block of one entry of ĥ
    (its selector bits are all of ĥ's coordinates); proved, verified, a changed
    opened value of that size rejected."""
    s = scheme(regime="conjectured")
    assert s._merged(sorted(set(sizes)))
    items, proof, spans, _ = prove(s, sizes, claims=2, seed=13)
    verify(s, items, proof)
    a, _ = _spans(spans, "whir/leaves")[0]  # the smallest size's first leaves
    word = int.from_bytes(proof[a:a + 8], "little")
    bad = bytearray(proof)
    bad[a:a + 8] = ((word + 1) % P_INT).to_bytes(8, "little")
    rejects(s, items, bytes(bad))
