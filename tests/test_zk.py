"""Zero knowledge (issue 15, `zklora.zkcore.zk`, docs/zero-knowledge.md).

* the switch: ZK proofs of a matmul + rescale + lookup graph verify (both fields, both
  lookup arguments), differ run to run, are refused by a non-ZK verifier (and a non-ZK
  proof by a ZK one); non-ZK proofs are unchanged (the pinned format tests elsewhere);
* tamper tests with ZK on (witness, proof bytes);
* the simulator (acceptance 1, for the masked sumcheck): with the verifier's challenges
  programmed, a simulator that knows only the statement and the sumcheck's final
  evaluations (the leakage the tensor masks of docs/zero-knowledge.md §2.3 are to remove)
  produces transcripts the verifier accepts, and no revealed element's distribution
  tells the real prover on witness A, on witness B (same statement) and the simulator
  apart; on the graph, with programmed challenges, no masked message distinguishes two
  witnesses of one statement, and with the evaluations and the lookups hidden
  (`graph.HIDE_LOOKUPS`) no revealed element at all does
  (`test_graph_finals_indistinguishable`; the lookup argument's own simulator:
  tests/test_zk_lookups.py);
* reused masks (acceptance 3): two proofs sharing the mask randomness give away a
  witness element.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from unittest import mock

import blake3
import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle, selfcheck, sumcheck, zk
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.op import ProverContext, VerifierContext
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for
from .test_rescale_op import S, rescale_graph, wit

REJECT = (VerificationError, ProofFormatError)


# -- programmed random oracle and message recorder ---------------------------------------


def _xof(seed: bytes):
    counter = [0]

    def read(n: int) -> bytes:
        out = blake3.blake3(seed + counter[0].to_bytes(8, "little")).digest(length=n)
        counter[0] += 1
        return out

    return read


def oracle(seed: bytes, label: str, count: int):
    """The programmed oracle's answer stream for the ``count``-th squeeze of ``label``."""
    return _xof(seed + b"|" + label.encode() + b"|" + count.to_bytes(8, "little"))


@contextmanager
def programmed(seed: bytes = b"simulator"):
    """Every challenge depends only on (seed, label, how many times the label was
    squeezed by this transcript): the simulator chooses the verifier's challenges."""

    def _reader(self, label):
        counts = self.__dict__.setdefault("_programmed", {})
        counts[label] = counts.get(label, 0) + 1
        return oracle(seed, label, counts[label])

    with mock.patch.object(Transcript, "_reader", _reader):
        yield


@contextmanager
def recorded():
    """Record every (label, field, values) the prover sends with `send_field`."""
    log: list[tuple[str, object, np.ndarray]] = []
    orig = ProverChannel.send_field

    def send_field(self, label, field, a):
        log.append((label, field, np.array(a, copy=True)))
        return orig(self, label, field, a)

    with mock.patch.object(ProverChannel, "send_field", send_field):
        yield log


# -- the switch on a small graph ----------------------------------------------------------

BACKENDS = [("goldilocks", "logup-gkr"), ("bls12-381-fr", "logup-gkr"),
            ("goldilocks", "tlookup")]


@pytest.fixture(params=BACKENDS, ids=["-".join(b) for b in BACKENDS])
def be(request, reg):
    return backend_for(reg, request.param[0], "plain", request.param[1])


def test_zk_proof_verifies_and_is_randomised(be):
    g = rescale_graph()
    with zk.session():
        a, sa = graphlib.prove(g, wit(), be, {})
        b, sb = graphlib.prove(g, wit(), be, {})
        graphlib.verify(g, a, be, {}, sa)
        graphlib.verify(g, b, be, {}, sb)
    assert a != b
    plain, sp = graphlib.prove(g, wit(), be, {})
    assert plain == graphlib.prove(g, wit(), be, {})[0]     # non-ZK: deterministic
    with pytest.raises(REJECT):          # a ZK proof is not a non-ZK proof ...
        graphlib.verify(g, a, be, {}, sa)
    with zk.session(), pytest.raises(REJECT):   # ... nor the reverse
        graphlib.verify(g, plain, be, {}, sp)


def test_zk_session_off_is_plain(be):
    g = rescale_graph()
    with zk.session(False):
        off, _ = graphlib.prove(g, wit(), be, {})
    assert off == graphlib.prove(g, wit(), be, {})[0]


@pytest.mark.parametrize("which", ["Y", "R", "Y+R"])
def test_zk_tampered_witness_rejected(be, which):
    """The rescale tamper tests with ZK on."""

    def tamper(values):
        if which in ("Y", "Y+R"):
            values["Y"].reshape(-1)[3] += 1
        if which == "R":
            values["R"].reshape(-1)[3] += 1
        if which == "Y+R":
            values["R"].reshape(-1)[3] -= 1 << S

    with zk.session():
        msg = assert_rejected(rescale_graph(), wit(), be, {}, tamper)
    assert msg


def test_zk_tampered_proof_bytes_rejected(be):
    g = rescale_graph()
    with zk.session():
        stream, sections = graphlib.prove(g, wit(), be, {})
        for pos in range(0, len(stream), max(1, len(stream) // 20)):
            bad = bytearray(stream)
            bad[pos] ^= 0x10
            with pytest.raises(REJECT):
                graphlib.verify(g, bytes(bad), be, {}, sections)


def test_zk_tampered_mask_messages_rejected(gold):
    """Each ZK message kind (mask sum G, mask evaluations u, a round) changed by the
    prover before it is sent (absorbed as changed): the verifier rejects.  (With the
    evaluations hidden no u is sent on this graph: that kind with `HIDE_FINALS` off.)"""
    g = rescale_graph()
    for kind, hide in (("/zk/sum", True), ("/round0", True), ("/finals", True),
                       ("/zk/mask", False)):
        orig = ProverChannel.send_field
        hit = []

        def send_field(self, label, field, a, kind=kind, hit=hit, orig=orig):
            if kind in label and not hit:
                hit.append(label)
                a = np.array(a, copy=True)
                a.reshape(-1)[0] ^= 1
            return orig(self, label, field, a)

        with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
                mock.patch.object(graphlib, "HIDE_FINALS", hide), selfcheck.disabled():
            stream, sections = graphlib.prove(g, wit(), gold, {})
        assert hit
        with zk.session(), pytest.raises(REJECT), \
                mock.patch.object(graphlib, "HIDE_FINALS", hide):
            graphlib.verify(g, stream, gold, {}, sections)


# -- one masked sumcheck: real prover, simulator, verifier --------------------------------

N_VARS = 3
TERMS = [(1, (0, 1))]


def _ctx(be, prover: bool, data: bytes = b""):
    F = be.field
    t = Transcript(b"zklora/test/zk-sumcheck", "blake3")
    com = Committer(be.scheme, prover)
    if prover:
        ch = ProverChannel(t)
        ctx = ProverContext(F, ch, {}, {}, {}, com)
    else:
        ch = VerifierChannel(t, data)
        ctx = VerifierContext(F, ch, {}, {}, com)
    ch.before_challenge = lambda: com.flush(ch)
    return ctx


def _open(ctx):
    opened = defaultdict(list)
    for c in ctx.new_claims:
        opened[c.tensor].append(c)
    ctx.committer.open(ctx, opened)


def _witness(E, which: int):
    """f, h with Σ f·h the same for both witnesses (one statement)."""
    f = E.from_ints(np.arange(1, 9, dtype=np.int64) * 3)
    h = E.from_ints(np.array([2, 7, 1, 8, 2, 8, 1, 8], np.int64))
    if which == 1:  # move weight between two entries: Σ f·h unchanged
        f = E.from_ints(np.array([3 + 7, 6 - 2, 9, 12, 15, 18, 21, 24], np.int64))
    return f, h


def _claim(E, f, h):
    return E.dot(f, h)


def prove_one(be, which: int):
    E = be.field.ext
    f, h = _witness(E, which)
    ctx = _ctx(be, True)
    pt, finals = ctx.run_sumcheck("sc", N_VARS, TERMS, _claim(E, f, h), lambda: [f, h])
    _open(ctx)
    return ctx.ch.proof_bytes(), finals


def verify_one(be, data: bytes, claim) -> list:
    ctx = _ctx(be, False, data)
    _, finals = ctx.run_sumcheck("sc", N_VARS, TERMS, claim)
    _open(ctx)
    ctx.ch.finish()
    return finals


def simulate_one(be, claim, finals, seed: bytes):
    """The simulator: sees the statement (n, terms, claim) and the finals only, and
    knows the programmed challenges (``oracle``).  It commits a random mask chunk as
    the prover does, sends G, then uniform round messages with the right sums, the last
    one solved so that the final check holds, and the mask evaluations of its chunk."""
    E = be.field.ext
    ctx = _ctx(be, True)
    ch = ctx.ch
    d = sumcheck.degree_of(TERMS)
    reg = ctx.zk_pool.allocate(ctx, N_VARS, d)
    c = zk.coefficients(E, ctx.F, reg, ctx._tables[reg.name])
    G = zk.mask_sum(E, c, N_VARS)
    ctx.exchange("sc/zk/sum", 1, lambda: [G])
    rho = ctx.challenge("sc/zk/rho")
    running = E.add(claim, E.mul(rho, G))
    rs = [E.sample(oracle(seed, f"sc/r{j}", 1)) for j in range(N_VARS)]
    # g(r) from the chunk, as the verifier will compute it
    gr = E.scalar(0)
    for i in range(N_VARS):
        gr = E.add(gr, zk._poly(E, c[i], rs[i]))
    target = E.add(sumcheck.combine(E, TERMS, finals), E.mul(rho, gr))
    rng = zk.MaskRng()
    point = E.zeros(N_VARS)
    for j in range(N_VARS):
        vals = E.zeros(d + 1)
        free = rng.elements(E, d)
        vals[0] = free[0]
        vals[1] = E.sub(running, free[0])
        vals[2:] = free[1:]
        if j == N_VARS - 1:   # solve g(0) so that g(r) hits the target
            w = sumcheck._lagrange_weights(E, d, rs[j])
            rest = E.dot(vals[2:], w[2:]) if d >= 2 else E.scalar(0)
            x = E.mul(E.sub(E.sub(target, E.mul(w[1], running)), rest),
                      E.inv(E.sub(w[0], w[1])))
            vals[0] = x
            vals[1] = E.sub(running, x)
        ch.send_field(f"sc/round{j}", E, np.concatenate([vals[:1], vals[2:]], axis=0))
        r = ch.challenge(f"sc/r{j}", E)
        assert E.equal(r, rs[j])
        point[j] = r
        running = sumcheck._interpolate(E, vals, r)
    assert E.equal(running, target)
    ch.send_field("sc/finals", E, np.stack(finals))
    zk.finish(ctx, reg, "sc", point, c)
    _open(ctx)
    return ch.proof_bytes()


def _ones(E, v) -> int:
    return int(sum(bin(int(x)).count("1") for x in np.asarray(v, dtype=object).reshape(-1)))


def _profile(E, log, skip=("/finals",)):
    """{(label, index): element} of one run, finals left out."""
    out = {}
    for label, field, vals in log:
        if any(s in label for s in skip):
            continue
        for k, v in enumerate(np.asarray(vals).reshape((-1,) + field.elem_shape)):
            out[(label, k)] = (field, v)
    return out


def _distinguishable(runs_a, runs_b, skip=("commit", "ligero", "plain")) -> list:
    """Positions whose values tell two families of runs apart: a value repeated within
    a family (a uniform element of a ≥ 2^64 field never repeats), or bit counts whose
    means differ by more than 6 standard deviations.  Labels containing a ``skip``
    string are left out (the commitment scheme's messages: tested on their own)."""
    bad = []
    for key in runs_a[0]:
        if any(x in key[0] for x in skip):
            continue
        E = runs_a[0][key][0]
        va = [r[key][1] for r in runs_a]
        vb = [r[key][1] for r in runs_b]
        bits = E.nbytes * 8
        for vs in (va, vb):
            if len({np.asarray(v).tobytes() for v in vs}) != len(vs):
                bad.append((key, "repeats"))
        ma = sum(_ones(E, v) for v in va) / len(va)
        mb = sum(_ones(E, v) for v in vb) / len(vb)
        sd = (bits / 4 * (1 / len(va) + 1 / len(vb))) ** 0.5
        if abs(ma - mb) > 6 * sd:
            bad.append((key, f"bit means {ma:.1f} vs {mb:.1f}"))
    return bad


RUNS = 24


def test_simulator_accepted_and_indistinguishable(gold):
    """Acceptance 1 for the masked sumcheck: programmed challenges; real transcripts on
    witnesses A and B (same claim) and simulated ones (statement + finals only) are all
    accepted, and no revealed element but the finals tells them apart.  Without zero
    knowledge the same test finds the round messages distinguishable (the test can
    fail)."""
    E = gold.field.ext
    seed = b"simulator"
    claim = _claim(E, *_witness(E, 0))
    assert E.equal(claim, _claim(E, *_witness(E, 1)))
    fams = {"A": [], "B": [], "sim": []}
    with programmed(seed), zk.session():
        for _ in range(RUNS):
            for which, name in ((0, "A"), (1, "B")):
                with recorded() as log:
                    data, finals = prove_one(gold, which)
                verify_one(gold, data, claim)
                fams[name].append(_profile(E, log))
            # the simulator gets witness A's finals (the leakage)
            with recorded() as log:
                data = simulate_one(gold, claim, finals_a(gold), seed)
            verify_one(gold, data, claim)
            fams["sim"].append(_profile(E, log))
    assert set(fams["A"][0]) == set(fams["sim"][0])
    assert _distinguishable(fams["A"], fams["B"]) == []
    assert _distinguishable(fams["A"], fams["sim"]) == []
    # control: no zero knowledge, same programmed challenges -> distinguishable
    with programmed(seed):
        plain = {}
        for which in (0, 1):
            runs = []
            for _ in range(3):
                with recorded() as log:
                    prove_one(gold, which)
                runs.append(_profile(E, log))
            plain[which] = runs
    assert any(k[0].startswith("sc/round") for k, _ in _distinguishable(plain[0], plain[1]))


def finals_a(be):
    E = be.field.ext
    f, h = _witness(E, 0)
    rs = E.zeros(N_VARS)
    for j in range(N_VARS):
        rs[j] = E.sample(oracle(b"simulator", f"sc/r{j}", 1))
    return [mle.evaluate(E, f, rs), mle.evaluate(E, h, rs)]


def test_reused_masks_reveal_a_witness_element(gold):
    """Acceptance 3: a prover that draws its masks from the same stream for two proofs
    of one witness whose transcripts differ (different challenges): from the two first
    round messages anyone solves for the unmasked one, hence for f(0)·h(0) + … and, with
    one variable, for a witness entry."""
    E = gold.field.ext
    f = E.from_ints(np.array([1234567, 42], np.int64))
    h = E.from_ints(np.array([5, 9], np.int64))
    claim = E.dot(f, h)
    msgs, rhos = [], []
    for seed in (b"oracle-1", b"oracle-2"):
        with programmed(seed), zk.session(rng=zk.MaskRng.seeded(b"reused")), \
                recorded() as log:
            ctx = _ctx(gold, True)
            ctx.run_sumcheck("sc", 1, TERMS, claim, lambda: [f, h])
        msgs.append(next(v for lab, _, v in log if lab == "sc/round0"))
        rhos.append(E.sample(oracle(seed, "sc/zk/rho", 1)))
    # m_k = F + ρ_k·M at each node (same F, same mask M): F = (ρ2·m1 − ρ1·m2)/(ρ2 − ρ1)
    F0 = E.mul(E.sub(E.mul(rhos[1], msgs[0][0]), E.mul(rhos[0], msgs[1][0])),
               E.inv(E.sub(rhos[1], rhos[0])))
    # F(0) = f(0)·h(0), h public here: the witness element f(0)
    rec = E.mul(F0, E.inv(h[0]))
    assert E.equal(rec, E.embed(f[0:1])[0] if f.ndim == 1 else f[0])
    assert int(rec[0]) == 1234567
    # fresh masks: the same algebra gives garbage
    msgs2 = []
    for seed in (b"oracle-1", b"oracle-2"):
        with programmed(seed), zk.session(), recorded() as log:
            ctx = _ctx(gold, True)
            ctx.run_sumcheck("sc", 1, TERMS, claim, lambda: [f, h])
        msgs2.append(next(v for lab, _, v in log if lab == "sc/round0"))
    F0 = E.mul(E.sub(E.mul(rhos[1], msgs2[0][0]), E.mul(rhos[0], msgs2[1][0])),
               E.inv(E.sub(rhos[1], rhos[0])))
    assert int(E.mul(F0, E.inv(h[0]))[0]) != 1234567


# -- the graph with programmed challenges -------------------------------------------------


def _graph_runs(be, inputs, n, on=True):
    g = rescale_graph()
    E = be.field.ext
    runs = []
    for _ in range(n):
        with zk.session(on), recorded() as log:
            data, sec = graphlib.prove(g, inputs, be, {})
        with zk.session(on):
            graphlib.verify(g, data, be, {}, sec)
        runs.append(_profile(E, [x for x in log if not x[0].startswith("ligero")], skip=()))
    return runs


def _two_witnesses():
    """Two witnesses of one statement (the rescale graph states nothing about X, W)."""
    a = wit(0)
    b = {k: v.clone() for k, v in a.items()}
    b["X"][0, 0] = -b["X"][0, 0] + 1
    return a, b


def _split(bad):
    finals = [k for k, _ in bad if "finals" in k[0] or "value" in k[0]]
    other = [k for k, _ in bad if k not in finals]
    return finals, other


def test_graph_masked_messages_indistinguishable(gold):
    """Programmed challenges, two witnesses of one statement: no round message, mask sum
    or mask evaluation distinguishes them (without ZK they do)."""
    a, b = _two_witnesses()
    with programmed():
        ra, rb = _graph_runs(gold, a, 12), _graph_runs(gold, b, 12)
        pa, pb = _graph_runs(gold, a, 2, on=False), _graph_runs(gold, b, 2, on=False)
    bad = _distinguishable(ra, rb)
    masked = [k for k, _ in bad if "/round" in k[0] or "/zk/" in k[0]]
    # under plain (not hiding) the stack reduction (`stack/reduce`) is not masked: it
    # is under hiding ligero (tests/test_zk_reduce.py)
    masked = [k for k in masked if not k[0].startswith("stack/")]
    assert masked == []
    control = [k for k, _ in _distinguishable(pa, pb) if "/round" in k[0]]
    assert control


def test_graph_hidden_evaluations_indistinguishable(gold):
    """Programmed challenges, two witnesses of one statement: the evaluations the op
    relations reveal — the matmul's finals (X̃, W̃ at the sumcheck's point), the output
    value Ỹ(r), the rescale's R̃ — are hidden (docs/zero-knowledge.md §5.1: Z·ν in the
    last round, blinded claims, ν offsets): none distinguishes the witnesses.  With the
    hiding off (`graph.HIDE_FINALS`) they do (control).  The lookup argument's finals
    and roots are still revealed (`test_graph_finals_indistinguishable`)."""
    a, b = _two_witnesses()
    hidden = ("mm/einsum/finals", "out:Y/value", "rs/rescale/R")
    with programmed():
        ra, rb = _graph_runs(gold, a, 8), _graph_runs(gold, b, 8)
    for lab in hidden:
        assert (lab, 0) in ra[0]
    bad = {k[0] for k, _ in _distinguishable(ra, rb)}
    assert not bad & set(hidden)
    assert not {x for x in bad if x.startswith("mm/")}
    with programmed(), mock.patch.object(graphlib, "HIDE_FINALS", False):
        ca, cb = _graph_runs(gold, a, 3), _graph_runs(gold, b, 3)
    assert set(hidden) <= {k[0] for k, _ in _distinguishable(ca, cb)}


@pytest.mark.parametrize("kind", ["out:Y/value", "rs/rescale/R", "mm/einsum/finals",
                                  "mm/einsum/round2", "mm/einsum/zk/sum",
                                  "lookups/gkr/l0/finals", "lookups/gkr/l0/round0",
                                  "lookups/gkr/l5/finals", "lookups/gkr/l5/round4",
                                  "lookups/gkr/l5/zk/sum", "lookups/gkr/zk/roots",
                                  "lookups/gkr/root/zk/sum", "lookups/gkr/root/round0",
                                  "lookups/gkr/root/finals", "lookups/m",
                                  "lookup:range12@-2048/columns", "lookup:range8/columns"])
def test_graph_hidden_messages_tampered(gold, kind):
    """Each message of the hidden evaluations changed before it is sent (absorbed as
    changed): the verifier rejects (the lookups' layers hidden: `HIDE_LOOKUPS`)."""
    g = rescale_graph()
    orig = ProverChannel.send_field
    hit = []

    def send_field(self, label, field, a):
        if label == kind and not hit:
            hit.append(label)
            a = np.array(a, copy=True)
            a.reshape(-1)[-1] ^= 1
        return orig(self, label, field, a)

    with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
            mock.patch("zklora.zkcore.selfcheck.enabled", lambda: False), \
            mock.patch.object(graphlib, "HIDE_LOOKUPS", True):
        stream, sections = graphlib.prove(g, wit(), gold, {})
    assert hit
    with zk.session(), pytest.raises(REJECT), \
            mock.patch.object(graphlib, "HIDE_LOOKUPS", True):
        graphlib.verify(g, stream, gold, {}, sections)


def test_graph_hidden_layout(gold):
    """The rescale graph under ZK: the tensors that may carry blinds (X, W, T, Y, R: in
    the masks' stack, produced by no op or by matmul / rescale), one witness stack, and
    the last round of the matmul's sumcheck of degree 4 (X̂·Ŵ)."""
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        out = orig(graph, com, pub)
        seen["hide"] = out
        seen["stacks"] = {k for k, _ in com.where.values()}
        return out

    with zk.session(), recorded() as log, mock.patch.object(graphlib, "_hidden_tensors", spy):
        graphlib.prove(rescale_graph(), wit(), gold, {})
    assert seen["hide"] == {"X", "W", "T", "Y", "R"}
    assert len(seen["stacks"]) == 1
    rounds = {lab: v.shape[0] for lab, _, v in log if lab.startswith("mm/einsum/round")}
    last = max(rounds, key=lambda x: int(x.rsplit("round", 1)[1]))
    assert rounds[last] == 4 and all(v == 2 for k, v in rounds.items() if k != last)
    assert not [lab for lab, _, _ in log if lab.startswith("mm/") and "/zk/mask" in lab]


def test_graph_finals_indistinguishable(gold):
    """Acceptance 1 on the graph (docs/zero-knowledge.md §5.1): programmed challenges,
    two witnesses of one statement, the lookups hidden too (`HIDE_LOOKUPS`, on by
    default); **no** revealed element — the op relations' finals, the outputs', the
    claim reductions', every LogUp-GKR layer's, the masked layer-top message
    (`lookups/gkr/zk/roots`), the multiplicities' and the looked-up columns' masked
    values, any round or mask message — distinguishes them (the commitment's own
    messages are tested on their own: left out, as everywhere here).  Without
    `HIDE_LOOKUPS` the roots, the layers' finals, m and the columns do (control)."""
    a, b = _two_witnesses()
    with programmed(), mock.patch.object(graphlib, "HIDE_LOOKUPS", True):
        ra, rb = _graph_runs(gold, a, 8), _graph_runs(gold, b, 8)
    labels = {k[0] for k in ra[0]}
    assert any("lookups/gkr/l" in x and "finals" in x for x in labels)
    assert HIDDEN_LOOKUP_MESSAGES <= labels, HIDDEN_LOOKUP_MESSAGES - labels
    assert "lookups/gkr/roots" not in labels
    bad = [k for k, _ in _distinguishable(ra, rb) if not k[0].startswith("stack/")]
    assert bad == []
    with programmed(), mock.patch.object(graphlib, "HIDE_LOOKUPS", False):  # control
        ca, cb = _graph_runs(gold, a, 3), _graph_runs(gold, b, 3)
    shown = {k[0] for k, _ in _distinguishable(ca, cb)}
    assert any("lookups/gkr/l" in x for x in shown)
    assert {"lookups/gkr/roots", "lookups/m"} <= shown


#: the messages of the hidden lookup argument on the rescale graph that were revealed in
#: the clear before (roots, m, columns) or are new (the layer-top identity's sumcheck)
HIDDEN_LOOKUP_MESSAGES = {"lookups/gkr/zk/roots", "lookups/gkr/root/zk/sum",
                          "lookups/gkr/root/round0", "lookups/gkr/root/finals",
                          "lookups/m", "lookup:range12@-2048/columns",
                          "lookup:range8/columns"}


def test_two_witness_setup_differs():
    a, b = _two_witnesses()
    assert not torch.equal(a["X"], b["X"])


def test_logup_fast_layers_match_generic_under_zk(gold):
    """The LogUp-GKR layer kernel with masks sends the bytes the generic masked
    sumcheck sends (same seeded masks)."""
    from zklora.plugins.lookups import logup_gkr

    g = rescale_graph()
    out = []
    for fast in (True, False):
        with mock.patch.object(logup_gkr, "FAST_LAYERS", fast), \
                zk.session(rng=zk.MaskRng.seeded(b"same masks")):
            out.append(graphlib.prove(g, wit(), gold, {})[0])
    assert out[0] == out[1]


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_tensor_points_match_the_reference(reg, field):
    """The vectorised mask points and factors (`zk._tensor_points`, one batch
    inversion) equal the per-variable reference `zk._tensor_point`, for every degree's
    weights, several variable counts and chunk offsets; a point hitting 1 + r^w = 0 is
    refused by both."""
    E = reg.field(field).ext
    rng = np.random.default_rng(3)
    nc = E.degree
    for n, d, off in ((1, 2, 0), (5, 3, 0), (12, 3, 3 << zk.region_vars(12, 3, nc)),
                      (7, 4, 0), (3, 2, 5 << zk.region_vars(3, 2, nc))):
        reg_ = zk.Region("m", zk.slot_vars(nc) + 3, off, n, d, nc)
        r = E.random(rng, n)
        pts, fac = zk._tensor_points(E, reg_, r, VerificationError)
        for i in range(n):
            pt, f = zk._tensor_point(E, reg_, i, r[i], VerificationError)
            assert np.array_equal(np.asarray(pts[i]), np.asarray(pt))
            assert np.array_equal(np.asarray(fac[i]), np.asarray(f))
    bad = E.random(rng, 2)
    bad[1] = E.sub(E.scalar(0), E.scalar(1))           # r = −1: 1 + r = 0
    reg_ = zk.Region("m", zk.slot_vars(nc), 0, 2, 2, nc)
    with pytest.raises(VerificationError, match="1 \\+ r\\^w = 0"):
        zk._tensor_points(E, reg_, bad, VerificationError)
    with pytest.raises(VerificationError, match="1 \\+ r\\^w = 0"):
        zk._tensor_point(E, reg_, 1, bad[1], VerificationError)


@pytest.mark.parametrize("field,scheme", [("goldilocks", "ligero"),
                                          ("bls12-381-fr", "plain")])
def test_graph_hidden_lookups_verify_hiding_ligero(reg, field, scheme):
    """The rescale graph with every evaluation hidden, the lookups' layers included
    (`HIDE_LOOKUPS`), under hiding ligero (and plain over bls12-381-fr): verifies (blinded
    claims opened as multi-term
    stack claims through the masked reduction), and the lookup-side and table-side leaf
    checks become claims on the masks (no numeric check left to fail)."""
    be = backend_for(reg, field, scheme, "logup-gkr")
    g = rescale_graph()
    with zk.session(), mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
            recorded() as log:
        data, sec = graphlib.prove(g, wit(), be, {})
        graphlib.verify(g, data, be, {}, sec)
    labels = {lab for lab, _, _ in log}
    assert "lookups/gkr/l0/zk/sum" in labels and "lookups/m" in labels
    assert not [lab for lab in labels if lab.endswith("/zk/mask")]


def test_verify_freezes_the_old_heap_only_within():
    """`graph._old_heap_frozen` (around `graph.verify`): the heap frozen inside the
    block only, unfrozen on an error too, and a caller's own freeze left as it was."""
    import gc

    from zklora.zkcore import graph as graphlib

    if gc.get_freeze_count():
        # a CLI command run in this process froze its heap for good (`cli.py`); start
        # from an unfrozen heap, as a library caller's process is
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with graphlib._old_heap_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), graphlib._old_heap_frozen():
        raise RuntimeError("inside")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        with graphlib._old_heap_frozen():
            pass
        # still frozen (an unfreeze would empty it; the count itself may drop a little:
        # frozen objects can still be freed by reference counting meanwhile)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
