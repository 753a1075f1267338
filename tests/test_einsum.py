"""The kernel's einsum relation (`zklora.zkcore.einsum`): claims against brute force for
every shape kind (matmul, transpose, batched, grouped broadcast, Hadamard, row sum,
public factors), the same code on both sides, and tampering (a wrong output element, a
wrong operand element, a changed proof message) rejected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.zkcore import mle, selfcheck
from zklora.zkcore.einsum import Public, broadcast, einsum, letter_sizes, parse, sub_point
from zklora.zkcore.errors import ConfigError, ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Backend, Graph, forward, prove, verify
from zklora.zkcore.op import ProverContext, TensorSpec, VerifierContext
from zklora.zkcore.plugins import registry
from zklora.zkcore.relations import vanishes
from zklora.zkcore.testing import op_suite
from zklora.zkcore.testing.op_suite import REMOVE, OpHarness
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

STATEMENT = {"test": "einsum"}

# (spec, operand shapes, sizes, output shape): one per shape kind
CASES = {
    "matmul": ("mk,kn->mn", [(4, 8), (8, 2)], None, (4, 2)),
    "transpose_b": ("mk,nk->mn", [(4, 8), (2, 8)], None, (4, 2)),
    "transpose": ("ab->ba", [(4, 8)], None, (8, 4)),
    "reshape_transpose": ("abc->cab", [(8, 4)], {"a": 2, "b": 4, "c": 4}, (4, 2, 4)),
    "batched": ("bhtd,bhsd->bhts", [(2, 2, 4, 8), (2, 2, 4, 8)], None, (2, 2, 4, 4)),
    "grouped": ("wgmk,wkn->wgmn", [(4, 2, 4), (2, 4, 2)],
                {"w": 2, "g": 2, "m": 2, "k": 4, "n": 2}, (2, 2, 2, 2)),
    "hadamard": ("nd,nd->nd", [(4, 8), (4, 8)], None, (4, 8)),
    "broadcast": ("nd,d->nd", [(4, 8), (8,)], None, (4, 8)),
    "row_sum": ("nd->n", [(4, 8)], None, (4,)),
    "total_sum": ("nd->", [(4, 8)], None, ()),
    "outer": ("a,b->ab", [(4,), (2,)], None, (4, 2)),
    "square": ("n,n->n", [(8,), (8,)], None, (8,)),
    "contract_all": ("ab,ab->", [(4, 2), (4, 2)], None, ()),
    "out_broadcast": ("a->ab", [(4,)], {"b": 4}, (4, 4)),
}


def _ints(shape, seed):
    return torch.randint(-50, 50, tuple(shape), generator=torch.Generator().manual_seed(seed))


def _brute(spec, xs, sizes):
    ins, out = parse(spec)
    sz = letter_sizes([(t, x.shape) for t, x in zip(ins, xs)], sizes)
    have = "".join(c for c in out if c in "".join(ins))  # output letters from the inputs
    y = torch.einsum(f"{','.join(ins)}->{have}",
                     *(x.reshape([sz[c] for c in t]) for t, x in zip(ins, xs)))
    y = y.reshape([sz[c] if c in have else 1 for c in out])
    return y.expand([sz[c] for c in out])


def _contexts(F, names, xs, out_shape):
    specs = {n: TensorSpec(n, tuple(x.shape), "committed") for n, x in zip(names, xs)}
    values = dict(zip(names, xs))
    pc = ProverContext(F, ProverChannel(Transcript("t")), dict(specs), {}, values, None)
    return pc, specs


def _run(F, case, *, tamper_value=False, tamper_operand=False, flip_byte=None, seed=0):
    """Prove a claim on the case's output at a random point with einsum, verify it, and
    return (prover claims, verifier claims, operand tensors)."""
    spec, shapes, sizes, out_shape = case
    E = F.ext
    names = [f"X{i}" for i in range(len(shapes))]
    xs = [_ints(s, seed + i) for i, s in enumerate(shapes)]
    y = _brute(spec, xs, sizes).reshape(out_shape)
    rng = np.random.default_rng(seed)
    r = E.random(rng, mle.num_vars(out_shape))
    v = mle.evaluate(E, F.from_ints(y.reshape(-1)), r, base=True)
    if tamper_value:
        v = E.add(v, E.scalar(1))
    witness = list(xs)
    if tamper_operand:
        w = witness[0].clone().reshape(-1)
        w[3] += 1
        witness[0] = w.reshape(xs[0].shape)
    pc, specs = _contexts(F, names, witness, out_shape)
    pclaims = einsum(pc, "n", spec, names, r, v, sizes=sizes)
    proof = pc.ch.proof_bytes()
    if flip_byte is not None:
        b = bytearray(proof)
        b[flip_byte % len(b)] ^= 1
        proof = bytes(b)
    vc = VerifierContext(F, VerifierChannel(Transcript("t"), proof), dict(specs), {}, None)
    vclaims = einsum(vc, "n", spec, names, r, v, sizes=sizes)
    vc.ch.finish()
    return pclaims, vclaims, dict(zip(names, xs))


def _true(F, claim, xs):
    return mle.evaluate(F.ext, F.from_ints(xs[claim.tensor].reshape(-1)), claim.point, base=True)


@pytest.fixture(params=["goldilocks", "bls12-381-fr"])
def field(request):
    return registry().field(request.param)


@pytest.mark.parametrize("kind", list(CASES))
def test_claims_match_brute_force(field, kind):
    pcl, vcl, xs = _run(field, CASES[kind])
    E = field.ext
    assert len(pcl) == len(vcl) == len(CASES[kind][1])
    for p, v in zip(pcl, vcl):
        assert p.tensor == v.tensor
        assert E.equal(p.point, v.point) and E.equal(p.value, v.value)
        assert E.equal(p.value, _true(field, p, xs)), (kind, p.tensor)


@pytest.mark.parametrize("kind", list(CASES))
def test_wrong_output_value_rejected(field, kind):
    """A claimed output value off by one: the verifier's sumcheck rejects, or (no
    sumcheck) the derived operand claim is false, so its opening rejects."""
    E = field.ext
    try:
        with selfcheck.disabled():
            _, vcl, xs = _run(field, CASES[kind], tamper_value=True)
    except VerificationError:
        return
    assert any(not E.equal(c.value, _true(field, c, xs)) for c in vcl), kind


@pytest.mark.parametrize("kind", ["matmul", "batched", "grouped", "hadamard", "broadcast"])
def test_wrong_operand_rejected(field, kind):
    """The prover uses a witness with one operand element off by one (the honest claim on
    the output): the sumcheck fails on the verifier side or an operand claim is false
    against the committed (true) operand, which its opening catches."""
    E = field.ext
    try:
        with selfcheck.disabled():
            _, vcl, xs = _run(field, CASES[kind], tamper_operand=True)
    except (VerificationError, ProverError):
        return
    assert any(not E.equal(c.value, _true(field, c, xs)) for c in vcl), kind


@pytest.mark.parametrize("kind", ["matmul", "batched", "grouped", "hadamard", "outer"])
def test_changed_message_rejected(field, kind):
    rejected = 0
    for pos in (0, 7, 40, 100, -3):
        try:
            _, vcl, xs = _run(field, CASES[kind], flip_byte=pos)
        except (VerificationError, ProofFormatError):
            rejected += 1
            continue
        assert any(not field.ext.equal(c.value, _true(field, c, xs)) for c in vcl)
        rejected += 1
    assert rejected == 5


def test_public_operand_is_evaluated_not_claimed(field):
    """A `Public` factor: the verifier evaluates it, no claim on it; a wrong evaluation
    function is rejected."""
    F, E = field, field.ext
    x = _ints((4, 8), 3)
    k = _ints((8,), 4)
    kt = mle.lift(E, F.from_ints(k), base=True)
    y = x @ k
    r = E.random(np.random.default_rng(1), 2)
    v = mle.evaluate(E, F.from_ints(y), r, base=True)
    pub = Public(lambda: kt, lambda p: mle.evaluate(E, kt, p))
    pc, specs = _contexts(F, ["X"], [x], (4,))
    (c,) = einsum(pc, "n", "nd,d->n", ["X", pub], r, v)
    assert E.equal(c.value, _true(F, c, {"X": x}))
    proof = pc.ch.proof_bytes()
    vc = VerifierContext(F, VerifierChannel(Transcript("t"), proof), dict(specs), {}, None)
    (cv,) = einsum(vc, "n", "nd,d->n", ["X", pub], r, v)
    assert E.equal(cv.value, c.value)
    bad = Public(lambda: kt, lambda p: E.add(mle.evaluate(E, kt, p), E.scalar(1)))
    vc = VerifierContext(F, VerifierChannel(Transcript("t"), proof), dict(specs), {}, None)
    with pytest.raises(VerificationError):
        einsum(vc, "n", "nd,d->n", ["X", bad], r, v)


def test_labels_derived_and_unique(field):
    pc, _ = _contexts(field, [], [], ())
    assert [pc.label("n", "einsum") for _ in range(3)] == ["n/einsum", "n/einsum#2",
                                                          "n/einsum#3"]


def test_malformed_calls_are_the_sides_errors(field):
    pc, specs = _contexts(field, ["X"], [_ints((4, 8), 0)], (4,))
    vc = VerifierContext(field, VerifierChannel(Transcript("t"), b""), dict(specs), {}, None)
    E = field.ext
    for spec, sizes in [("nd", None), ("nn->n", None), ("nd,d->n", None), ("abc->a", None),
                        ("nd->nd", None),
                        ("nd->n", {"n": 8})]:
        with pytest.raises(ProverError, match="einsum"):
            einsum(pc, "n", spec, ["X"], E.zeros(2), E.scalar(0), sizes=sizes)
        with pytest.raises(VerificationError, match="einsum"):
            einsum(vc, "n", spec, ["X"], E.zeros(2), E.scalar(0), sizes=sizes)


def test_broadcast_letters_and_sub_point():
    ins, out, sz = broadcast([(4, 1, 8), (8,), (2, 1, 1, 1)], (2, 4, 4, 8))
    assert (ins, out, sz) == (["bd", "d", "a"], "abcd", {"a": 2, "b": 4, "c": 4, "d": 8})
    with pytest.raises(ValueError):
        broadcast([(3, 8)], (4, 8))
    F = registry().field("goldilocks")
    E = F.ext
    x = _ints((4, 8), 5)
    ins, out, sz = broadcast([(4, 1, 8)], (2, 4, 2, 8))
    r = E.random(np.random.default_rng(0), mle.num_vars((2, 4, 2, 8)))
    y = x.reshape(1, 4, 1, 8).expand(2, 4, 2, 8)
    want = mle.evaluate(E, F.from_ints(y.reshape(-1)), r, base=True)
    got = mle.evaluate(E, F.from_ints(x.reshape(-1)), sub_point(r, out, ins[0], sz), base=True)
    assert E.equal(want, got)


# -- the ``einsum`` op through the whole graph ----------------------------------------------


def _backend():
    reg = registry()
    F = reg.field("goldilocks")
    return Backend(F, reg.commitment("plain")(F), None, reg)


def _graph(kind):
    spec, shapes, sizes, out_shape = CASES[kind]
    g = Graph()
    names = []
    for i, s in enumerate(shapes):
        names.append(g.tensor(f"X{i}", s, "committed"))
    g.tensor("Y", out_shape, "committed")
    g.op("einsum", "e", names, ["Y"], spec=spec, **({"sizes": sizes} if sizes else {}))
    g.outputs = ["Y"]
    return g, {n: _ints(s, i) for i, (n, s) in enumerate(zip(names, shapes))}


@pytest.mark.parametrize("kind", ["matmul", "transpose", "batched", "grouped", "broadcast",
                                  "row_sum"])
def test_einsum_op_proves_and_rejects_a_wrong_output(kind):
    be = _backend()
    g, inputs = _graph(kind)
    values = forward(g, inputs, be.registry)
    assert torch.equal(values["Y"], _brute(CASES[kind][0], list(inputs.values()),
                                           CASES[kind][2]).reshape(values["Y"].shape))
    proof, sec = prove(g, inputs, be, STATEMENT)
    verify(g, proof, be, STATEMENT, sec)
    bad = dict(values)
    y = bad["Y"].clone().reshape(-1)
    y[1] += 1
    bad["Y"] = y.reshape(values["Y"].shape)
    with selfcheck.disabled():
        proof, sec = prove(g, inputs, be, STATEMENT, values=bad)
    with pytest.raises(VerificationError):
        verify(g, proof, be, STATEMENT, sec)


def test_einsum_op_refuses_bad_specs():
    be = _backend()
    for spec, sizes in [("mk,kn->mn", {"k": 4}), ("mk,kn", {}), ("mk,kn->mz", {}),
                        ("mk,kn->nm", {}), ("mk->mn", {})]:
        g = Graph()
        g.tensor("A", (4, 8), "committed")
        g.tensor("B", (8, 2), "committed")
        g.tensor("Y", (4, 2), "committed")
        g.op("einsum", "e", ["A", "B"], ["Y"], spec=spec, sizes=sizes)
        g.outputs = ["Y"]
        with pytest.raises(ConfigError):
            g.check(be.registry)


# -- the op conformance suite on the ``einsum`` op -------------------------------------------


def _grouped_graph():
    g = Graph()
    g.tensor("X0", (4, 2, 4), "committed", (-50, 50))
    g.tensor("X1", (2, 4, 2), "committed", (-50, 50))
    g.tensor("Y", (2, 2, 2, 2), "committed")
    g.op("einsum", "e", ["X0", "X1"], ["Y"], spec="wgmk,wkn->wgmn",
         sizes={"w": 2, "g": 2, "m": 2, "k": 4, "n": 2})
    g.outputs = ["Y"]
    return g


EINSUM = OpHarness("einsum", _grouped_graph,
                   lambda s: {"X0": _ints((4, 2, 4), s), "X1": _ints((2, 4, 2), s + 1)},
                   profiles=("debug",),
                   bad_params=[{"spec": REMOVE}, {"spec": "wgmk,wkn->wgm"},
                               {"spec": "wgmk,wkn"}, {"spec": 3}, {"sizes": {"g": 4}},
                               {"sizes": "w=2"}, {"sizes": REMOVE}])


@op_suite.parametrize(EINSUM, checks=["complete", "tamper_outputs", "bad_params", "malformed"])
def test_einsum_op_conforms(harness, check):
    check(harness)


# -- relations.vanishes (the zero-check einsum-based ops pair with) --------------------------


def _vanishes_run(F, y_off=0, checks=True):
    """P·u − Y = 0 at every entry, u (rows,) broadcast along each row of P (rows, L)."""
    p, u = _ints((4, 8), 1), _ints((4,), 2)
    y = p * u[:, None]
    yw = y.clone().reshape(-1)
    yw[5] += y_off
    specs = {n: TensorSpec(n, tuple(t.shape), "committed") for n, t in
             (("P", p), ("u", u), ("Y", y))}
    rels = [[(1, ("P", "u")), (-1, ("Y",))]]
    pc = ProverContext(F, ProverChannel(Transcript("t")), dict(specs), {},
                       {"P": p, "u": u, "Y": yw.reshape(y.shape)}, None)
    if checks:
        pclaims = vanishes(pc, "n", rels)
    else:
        with selfcheck.disabled():
            pclaims = vanishes(pc, "n", rels)
    vc = VerifierContext(F, VerifierChannel(Transcript("t"), pc.ch.proof_bytes()), dict(specs),
                         {}, None)
    vclaims = vanishes(vc, "n", rels)
    return pclaims, vclaims, {"P": p, "u": u, "Y": y}


def test_vanishes_broadcast_claims_and_tamper(field):
    E = field.ext
    pcl, vcl, xs = _vanishes_run(field)
    assert [c.tensor for c in vcl] == ["P", "u", "Y"]
    assert E.shape(vcl[1].point)[0] == 2 and E.shape(vcl[0].point)[0] == 5
    for p, v in zip(pcl, vcl):
        assert E.equal(p.value, v.value) and E.equal(v.value, _true(field, v, xs))
    with pytest.raises(ProverError, match="relation 0 fails at flat index 5"):
        _vanishes_run(field, y_off=1)
    try:  # a cheating prover: the sumcheck or the claim on Y (its opening) rejects
        _, vcl, xs = _vanishes_run(field, y_off=1, checks=False)
    except VerificationError:
        return
    assert any(not E.equal(c.value, _true(field, c, xs)) for c in vcl)


def test_einsum_op_refuses_overflow():
    g, _ = _graph("matmul")
    big = {"X0": torch.full((4, 8), 1 << 30), "X1": torch.full((8, 2), 1 << 30)}
    with pytest.raises(ProverError, match="safe integer range"):
        forward(g, big, _backend().registry)
