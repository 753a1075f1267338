"""The hiding variant of ``whir`` (module doc of `zklora.plugins.commitments.whir`, "Zero
knowledge"; docs/zero-knowledge.md §5.3), switched on by ``whir.HIDING`` inside a
`zklora.zkcore.zk` session: non-ZK bytes unchanged (pinned against the code before the
variant), the padding bound, round trips with claims and sum claims (within one padded
size and across sizes: virtual members), a wrong statement, every message changed,
modes and malformed sum claims refused, two proofs of one table sharing no 8-byte word
outside the grinding nonces, programmed-challenge indistinguishability of two tables
with one sum (the binding variant distinguishes them: control), and the matmul +
rescale + lookup graph with the stack reduction masked."""

from __future__ import annotations

import hashlib
from unittest import mock

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.plugins.commitments.whir import Whir
from zklora.zkcore import mle, zk
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem, SumClaim, SumTerm
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .test_zk import _distinguishable, _profile, programmed, recorded

F = registry().field("goldilocks")
E = F.ext
REJECT = (VerificationError, ProofFormatError)


@pytest.fixture
def hiding():
    with mock.patch.object(W, "HIDING", True):
        yield


@pytest.fixture(scope="module")
def scheme():
    return Whir(F)


# -- non-ZK bytes ------------------------------------------------------------------------

#: sha256 of (commitments ‖ proof) made by whir.py at 73a9eff, before the hiding variant
PINNED = [
    (([10], [2], None), "b16a9e4aba4efd4cd7c856b665d55337f1c5e6cfb28200f6b6315d05046a5b3b"),
    (([9, 9], [1, 2], None), "7e08cda22a1f06706ca6904f262f7a4d25c3e8b8e15a802111d8f7551f283d07"),
    (([6, 9, 12], [1, 1, 2], None),
     "8a98e14a3052e49a8f5466cbcec0d76f0df4894a31f2f6dd5a9a887bdf4c2591"),
    (([3, 11], [1, 1], {"regime": "conjectured"}),
     "2e2ce042dd8f7600ae9a0459ba6855c3aa83bc5952114a32d632f2d102146c80"),
    (([12, 12, 10], [1, 1, 1], {"direct_vars": 0}),
     "49629a3fe2d9ac947b2d7063c9d1ce1b511b43132a25b74f2411e3e3de60c4c4"),
]


@pytest.mark.parametrize("case,digest", PINNED, ids=[str(c[0][0]) for c in PINNED])
def test_non_zk_bytes_unchanged(case, digest):
    """Outside a session, and inside one with the flag off, whir is byte for byte the
    binding scheme (in a session the conjectured regime's OOD points differ: their
    transcript is a session's, tagged, as before this variant)."""
    ns, claims, params = case
    for on in (False, True) if "regime" not in (params or {}) else (False,):
        s = Whir(F, params or {})
        rng = np.random.default_rng(sum(ns) * 7 + sum(claims))
        tabs = [F.random(rng, 1 << n) for n in ns]
        ch = ProverChannel(Transcript("pin"))   # made outside: a session tags its own
        with zk.session(on):
            assert not s.hiding and not s.sum_claims
            cs = [s.commit(t) for t in tabs]
            evs = [[Evaluation(p, mle.evaluate(E, t, p, base=True))
                    for p in [E.random(rng, n) for _ in range(k)]]
                   for t, n, k in zip(tabs, ns, claims)]
            s.open(ch, [OpenItem(st, e) for (_, st), e in zip(cs, evs)])
        got = hashlib.sha256(b"".join(c for c, _ in cs) + ch.proof_bytes()).hexdigest()
        assert got == digest


# -- the padding bound ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 8, 13, 16, 20, 24])
def test_padding_above_revealed_functionals(scheme, n):
    """The pad (2^m − 2^n uniform entries) exceeds every functional of the committed
    codeword an opening reveals, the mask (2^m entries) every functional of the
    opening; m is the least such size."""
    m = scheme.hiding_vars(n)
    first, total = scheme.revealed(m)
    assert m > n
    assert (1 << m) - (1 << n) >= first + W.HIDING_MARGIN
    assert (1 << m) >= total + W.HIDING_MARGIN
    if m > n + 1:
        f2, t2 = scheme.revealed(m - 1)
        assert (1 << (m - 1)) - (1 << n) < f2 + W.HIDING_MARGIN or \
            (1 << (m - 1)) < t2 + W.HIDING_MARGIN
    # the first round's leaves alone: at most queries × 2^k base values
    r0 = scheme.plan(m).rounds[0]
    assert first >= min(r0.queries, r0.leaves) << r0.k
    assert scheme.hiding_vars(W.MAX_VARS) is None


# -- helpers ---------------------------------------------------------------------------------


def _value(tabs, terms):
    v = E.scalar(0)
    for t in terms:
        v = E.add(v, E.mul(t.coefficient, mle.evaluate(E, tabs[t.item], t.point, base=True)))
    return v


NS = [6, 6, 14]   # padded to 2^14, 2^14, 2^15


def _setup(s, seed=0, tabs=None):
    """Three hiding commitments; an ordinary claim on the third, a sum claim within one
    padded size (items 0, 1) and one across sizes (items 1, 2)."""
    rng = np.random.default_rng(seed)
    if tabs is None:
        tabs = [F.random(rng, 1 << n) for n in NS]
    cs = [s.commit(t) for t in tabs]
    c = [E.random(rng, 1)[0] for _ in range(4)]
    within = [SumTerm(0, E.random(rng, 6), c[0]), SumTerm(1, E.random(rng, 6), c[1])]
    across = [SumTerm(1, E.random(rng, 6), c[2]), SumTerm(2, E.random(rng, 14), c[3])]
    sums = [SumClaim(within, _value(tabs, within)), SumClaim(across, _value(tabs, across))]
    p = E.random(rng, 14)
    evs = [[], [], [Evaluation(p, mle.evaluate(E, tabs[2], p, base=True))]]
    return tabs, [x for x, _ in cs], [y for _, y in cs], evs, sums


def _open(s, states, evs, sums, label="whir-zk-test"):
    ch = ProverChannel(Transcript(label))
    s.open(ch, [OpenItem(st, list(e)) for st, e in zip(states, evs)], sums=sums)
    return ch.proof_bytes()


def _check(s, coms, evs, sums, proof, ns=NS, label="whir-zk-test"):
    ch = VerifierChannel(Transcript(label), proof)
    s.verify(ch, [CheckItem(c, n, list(e)) for c, n, e in zip(coms, ns, evs)], sums=sums)
    ch.finish()


def _sent():
    log: list[tuple[str, int, int]] = []
    orig = ProverChannel.send_bytes

    def send_bytes(self, label, data):
        log.append((label, len(self.buf), len(data)))
        return orig(self, label, data)

    return log, mock.patch.object(ProverChannel, "send_bytes", send_bytes)


@pytest.fixture(scope="module")
def honest(scheme):
    log, patch = _sent()
    with mock.patch.object(W, "HIDING", True), zk.session():
        tabs, coms, states, evs, sums = _setup(scheme)
        with patch:
            proof = _open(scheme, states, evs, sums)
    return tabs, coms, states, evs, sums, proof, log


# -- round trips, statement, tampering --------------------------------------------------------


def test_roundtrip(scheme, honest, hiding):
    tabs, coms, states, evs, sums, proof, log = honest
    with zk.session():
        assert scheme.hiding and scheme.sum_claims
        _check(scheme, coms, evs, sums, proof)
        none = [[], [], []]          # sum claims alone
        _check(scheme, coms, none, sums, _open(scheme, states, none, sums))
        _check(scheme, coms, evs, [], _open(scheme, states, evs, []))   # claims alone
        c0, s0 = scheme.commit(tabs[0])
        assert c0 != coms[0] and isinstance(s0, W.HidingState)   # randomised
    labels = {lab for lab, _, _ in log}
    assert {"whir/zk/mask", "whir/zk/value", "whir/zk/virtual",
            "whir/reduce", "whir/values"} <= labels
    assert "whir/modes" not in labels and "whir/tensor" not in labels   # nothing sent


def test_wrong_statement_rejected(scheme, honest, hiding):
    tabs, coms, states, evs, sums, proof, _ = honest
    one = E.scalar(1)
    within, across = sums
    t0 = within.terms[0]
    bad = [
        [SumClaim(within.terms, E.add(within.value, one)), across],
        [within, SumClaim(across.terms, E.add(across.value, one))],
        [SumClaim([SumTerm(0, t0.point, E.add(t0.coefficient, one))] + within.terms[1:],
                  within.value), across],
        [SumClaim([SumTerm(1, t0.point, t0.coefficient)] + within.terms[1:], within.value),
         across],
        [within],
    ]
    for b in bad:
        with zk.session(), pytest.raises(REJECT):
            _check(scheme, coms, evs, b, proof)
    ev = evs[2][0]
    wrong = [[], [], [Evaluation(ev.point, E.add(ev.value, one))]]
    with zk.session(), pytest.raises(REJECT):
        _check(scheme, coms, wrong, sums, proof)
    with zk.session():   # the prover, asked for a false sum, proves its tables: caught
        lie = _open(scheme, states, evs, bad[1])
    with zk.session(), pytest.raises(REJECT):
        _check(scheme, coms, evs, bad[1], lie)


def test_every_message_changed_rejected(scheme, honest, hiding):
    """One byte changed in the middle of each message (its first and last occurrence
    per label): rejected — the mask commitment and value, the virtual values, the
    reduction, roots, OOD values, leaves, paths, folding messages, nonces, final."""
    tabs, coms, states, evs, sums, proof, log = honest
    first, last = {}, {}
    for lab, off, n in log:
        if n:
            first.setdefault(lab, (off, n))
            last[lab] = (off, n)
    targets = set(first.values()) | set(last.values())
    assert len(first) >= 10
    for off, n in sorted(targets):
        bad = bytearray(proof)
        bad[off + n // 2] ^= 0x10
        with zk.session(), pytest.raises(REJECT):
            _check(scheme, coms, evs, sums, bytes(bad))


def test_modes_and_malformed_refused(scheme, honest):
    tabs, coms, states, evs, sums, proof, _ = honest
    with pytest.raises(ProverError, match="hiding commitment opened outside"):
        _open(scheme, states, evs, [])
    with pytest.raises(ProverError, match="sum claims"):
        _open(scheme, states, evs, sums)
    with pytest.raises(VerificationError, match="sum claims"):
        _check(scheme, coms, evs, sums, proof)
    with pytest.raises(REJECT):   # a hiding proof, a binding verifier
        _check(scheme, coms, evs, [], proof)
    binding = [scheme.commit(t)[1] for t in tabs]
    with mock.patch.object(W, "HIDING", True):
        with zk.session(), pytest.raises(ProverError, match="not a hiding commitment"):
            _open(scheme, binding, evs, [])
        t = sums[0].terms[0]
        malformed = [[SumClaim([SumTerm(7, t.point, t.coefficient)], sums[0].value)],
                     [SumClaim([SumTerm(2, t.point, t.coefficient)], sums[0].value)],
                     [SumClaim([], sums[0].value)]]
        for m in malformed:
            with zk.session(), pytest.raises(VerificationError, match="sum claim 0"):
                _check(scheme, coms, evs, m, proof)
            with zk.session(), pytest.raises(ProverError, match="sum claim 0"):
                _open(scheme, states, evs, m)


def test_two_proofs_share_no_word(scheme, hiding):
    """One table, one claim, two hiding commitments and openings: no aligned 8-byte
    word in common outside the grinding nonces (public work, small integers)."""
    rng = np.random.default_rng(4)
    t = F.random(rng, 1 << 9)
    p = E.random(rng, 9)
    evs = [[Evaluation(p, mle.evaluate(E, t, p, base=True))]]
    words = []
    for _ in range(2):
        log, patch = _sent()
        with zk.session():
            com, st = scheme.commit(t)
            with patch:
                proof = _open(scheme, [st], evs, [])
            _check(scheme, [com], evs, [], proof, ns=[9])
        skip = [(o, o + n) for lab, o, n in log if "/pow" in lab]
        ws = set()
        for i in range(0, len(proof) - 7, 8):
            if not any(a < i + 8 and i < b for a, b in skip):
                ws.add(proof[i:i + 8])
        ws.add(com[:8])
        words.append(ws)
    assert len(words[0]) > 1000
    assert not words[0] & words[1]


def test_terms_not_revealed(scheme, hiding):
    """Programmed challenges, one statement Σ = t_0[i] + t_1[j] (boolean points, two
    padded sizes) of two table pairs: B moves one unit from t_1[j] to t_0[i]; no field
    element of the opening repeats within a family or tells A from B by its bit count;
    the binding opening of t_0[i] alone (control) tells them apart."""
    rng = np.random.default_rng(9)
    ns = [5, 14]
    ta = [F.random(rng, 1 << n) for n in ns]
    tb = [ta[0].copy(), ta[1].copy()]
    i, j = 20, 7777
    tb[0][i] = F.add(ta[0][i], F.scalar(1))
    tb[1][j] = F.sub(ta[1][j], F.scalar(1))

    def bits(k, n):
        return E.from_ints(np.array([(k >> b) & 1 for b in range(n)], np.int64))

    one = E.scalar(1)
    terms = [SumTerm(0, bits(i, 5), one), SumTerm(1, bits(j, 14), one)]
    value = _value(ta, terms)
    assert E.equal(value, _value(tb, terms))

    binding = Whir(F, {"direct_vars": 0})   # the control: every table WHIR-opened

    def runs(tabs, count, on=True):
        out = []
        for _ in range(count):
            with mock.patch.object(W, "HIDING", on), zk.session(), recorded() as log:
                sch = scheme if on else binding
                coms, states = zip(*(sch.commit(t) for t in tabs))
                if on:
                    sums, evs = [SumClaim(terms, value)], [[], []]
                else:
                    sums = []
                    evs = [[Evaluation(t.point, mle.evaluate(E, tab, t.point, base=True))]
                           for t, tab in zip(terms, tabs)]
                _check(sch, coms, evs, sums, _open(sch, states, evs, sums), ns=ns)
            out.append(_profile(E, log, skip=()))
        return out

    with programmed():
        ra, rb = runs(ta, 10), runs(tb, 10)
        ca, cb = runs(ta, 2, on=False), runs(tb, 2, on=False)
    assert len(ra[0]) > 100
    # the stacked continuation's codeword has structural all-zero leaves (its empty
    # block; binding proofs of random tables have them too): zero in every run of both
    # families, they are public; every other element is compared
    zero = [k for k in ra[0] if all(not np.asarray(r[k][1]).any() for r in ra + rb)]
    assert len(zero) < len(ra[0]) // 20
    for r in ra + rb:
        for k in zero:
            del r[k]
    assert _distinguishable(ra, rb, skip=("/pow",)) == []
    assert _distinguishable(ca, cb, skip=("/pow",)) != []


# -- a small graph -------------------------------------------------------------------------------


def test_graph_reduction_masked_with_whir(reg, hiding):
    """matmul + rescale + lookup, hiding whir: the stack reduction runs masked and its
    final check goes to whir as sum claims (across stack sizes); the proof verifies, two
    proofs differ, a non-ZK verifier refuses it, a reduction message changed and flipped
    opening bytes are rejected."""
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import stack

    from .conftest import backend_for
    from .test_rescale_op import rescale_graph, wit

    be = backend_for(reg, "goldilocks", "whir", "logup-gkr")
    g = rescale_graph()
    calls, seen = [], []
    orig_red, orig_open = stack._reduce_masked, Whir.open

    def spy(*a, **k):
        calls.append(a[1])
        return orig_red(*a, **k)

    def open_spy(self, ch, items, sums=()):
        seen.append(len(sums))
        return orig_open(self, ch, items, sums=sums)

    log, patch = _sent()
    with zk.session(), patch, mock.patch.object(stack, "_reduce_masked", spy), \
            mock.patch.object(Whir, "open", open_spy):
        stream, sections = graphlib.prove(g, wit(), be, {})
    assert calls and seen and seen[-1] >= 1
    with zk.session():
        graphlib.verify(g, stream, be, {}, sections)
        other, _ = graphlib.prove(g, wit(), be, {})
    assert other != stream
    with pytest.raises(REJECT):
        graphlib.verify(g, stream, be, {}, sections)
    red = [(o, n) for lab, o, n in log if lab.startswith("stack/reduce/")
           and ("/zk/sum" in lab or "/round" in lab)]
    opening = [s for s in sections if s[0] == "openings"][0]
    targets = red[:3] + [(opening[1], 1), ((opening[1] + opening[2]) // 2, 1),
                         (opening[2] - 1, 1)]
    assert red
    for off, n in targets:
        bad = bytearray(stream)
        bad[off + n // 2] ^= 4
        with zk.session(), pytest.raises(REJECT):
            graphlib.verify(g, bytes(bad), be, {}, sections)
