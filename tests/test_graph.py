"""Graph scheduler: end-to-end matmul proofs, tamper rejection, undischarged claims."""

from __future__ import annotations

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError, ZkLoraError
from zklora.zkcore.graph import Graph


def matmul_graph(shape_x=(2, 8, 16), shape_w=(16, 4)):
    g = Graph()
    out = tuple(shape_x[:-1]) + (shape_w[-1],)
    g.tensor("X", shape_x, "committed")
    g.tensor("W", shape_w, "committed")
    g.tensor("Y", out, "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    return g


def witness(shape_x=(2, 8, 16), shape_w=(16, 4), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"X": torch.randint(-99, 100, shape_x, generator=gen),
            "W": torch.randint(-99, 100, shape_w, generator=gen)}


@pytest.mark.parametrize("shapes", [((4, 8), (8, 2)), ((2, 8, 16), (16, 4)),
                                    ((2, 4, 8), (2, 8, 4)), ((1, 1), (1, 1))])
def test_matmul_complete(plain_backend, shapes):
    g = matmul_graph(*shapes)
    st = {"t": 1}
    stream, sections = graphlib.prove(g, witness(*shapes), plain_backend, st)
    graphlib.verify(g, stream, plain_backend, st, sections)


@pytest.mark.parametrize("ta,tb,batched", [(a, b, c) for a in (0, 1) for b in (0, 1)
                                            for c in (0, 1)])
def test_matmul_transposes(plain_backend, ta, tb, batched):
    """Stored-transposed operands: claims land on the stored layouts; tamper ⇒ reject."""
    from zklora.zkcore.testing.tamper import assert_rejected, bump

    B, m, k, n = 2, 4, 8, 2
    xs = (B, k, m) if ta else (B, m, k)
    ws = (n, k) if tb else (k, n)
    if batched:
        ws = (B,) + ws
    g = Graph()
    g.tensor("X", xs, "committed")
    g.tensor("W", ws, "committed")
    g.tensor("Y", (B, m, n), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"], transpose_a=bool(ta), transpose_b=bool(tb))
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(ta + 2 * tb + 4 * batched)
    wit = {"X": torch.randint(-50, 50, xs, generator=gen),
           "W": torch.randint(-50, 50, ws, generator=gen)}
    stream, sections = graphlib.prove(g, wit, plain_backend, {})
    graphlib.verify(g, stream, plain_backend, {}, sections)
    for t in ("X", "W", "Y"):
        msg = assert_rejected(g, wit, plain_backend, {}, bump(t, 3))
        assert "could not" not in msg


@pytest.mark.parametrize("tb", [0, 1])
def test_matmul_grouped_query(plain_backend, tb):
    """group=G: X (B, H, m, k) with W (B, H/G, k, n); head h uses W head h // G."""
    from zklora.zkcore.testing.tamper import assert_rejected, bump

    B, H, G, m, k, n = 2, 4, 2, 4, 8, 2
    ws = (B, H // G, n, k) if tb else (B, H // G, k, n)
    g = Graph()
    g.tensor("X", (B, H, m, k), "committed")
    g.tensor("W", ws, "committed")
    g.tensor("Y", (B, H, m, n), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"], transpose_b=bool(tb), group=G)
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(7 + tb)
    wit = {"X": torch.randint(-50, 50, (B, H, m, k), generator=gen),
           "W": torch.randint(-50, 50, ws, generator=gen)}
    w = wit["W"].transpose(-1, -2) if tb else wit["W"]
    want = torch.matmul(wit["X"], w.repeat_interleave(G, dim=1))
    assert torch.equal(graphlib.forward(g, wit, plain_backend.registry)["Y"], want)
    stream, sections = graphlib.prove(g, wit, plain_backend, {})
    graphlib.verify(g, stream, plain_backend, {}, sections)
    for t in ("X", "W", "Y"):
        assert_rejected(g, wit, plain_backend, {}, bump(t, 5))


def test_matmul_rejects_tampered_output(plain_backend, reg, monkeypatch):
    """The prover commits a Y with one element off by one: the matmul sumcheck fails."""
    g = matmul_graph()
    op = reg.op("matmul")
    real = op.forward

    def bad_forward(node, inputs):
        (y,) = real(node, inputs)
        y = y.clone()
        y[0, 0, 0] += 1
        return [y]

    monkeypatch.setattr(op, "forward", bad_forward)
    st = {"t": 1}
    with pytest.raises(ProverError):  # the honest prover notices the bad witness
        graphlib.prove(g, witness(), plain_backend, st)


def test_matmul_rejects_stream_flips(plain_backend):
    g = matmul_graph((4, 8), (8, 2))
    st = {"t": 1}
    stream, sections = graphlib.prove(g, witness((4, 8), (8, 2)), plain_backend, st)
    step = max(1, len(stream) // 97)
    for pos in range(0, len(stream), step):
        bad = bytearray(stream)
        bad[pos] ^= 0x01
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), plain_backend, st, sections)


def test_statement_is_bound(plain_backend):
    g = matmul_graph((4, 8), (8, 2))
    stream, sections = graphlib.prove(g, witness((4, 8), (8, 2)), plain_backend, {"t": 1})
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, plain_backend, {"t": 2}, sections)


def test_truncated_and_trailing(plain_backend):
    g = matmul_graph((4, 8), (8, 2))
    stream, sections = graphlib.prove(g, witness((4, 8), (8, 2)), plain_backend, {"t": 1})
    with pytest.raises(ProofFormatError):
        graphlib.verify(g, stream[:-1], plain_backend, {"t": 1})
    with pytest.raises(ProofFormatError):
        graphlib.verify(g, stream + b"\0", plain_backend, {"t": 1})


def test_section_index_checked(plain_backend):
    g = matmul_graph((4, 8), (8, 2))
    stream, sections = graphlib.prove(g, witness((4, 8), (8, 2)), plain_backend, {"t": 1})
    bad = list(sections)
    bad[0] = (bad[0][0], bad[0][1], bad[0][2] + 1)
    with pytest.raises(ProofFormatError):
        graphlib.verify(g, stream, plain_backend, {"t": 1}, bad)


def test_undischarged_claim_fails(plain_backend, reg):
    """A virtual tensor without a producer can never have its claims discharged."""
    g = Graph()
    g.tensor("X", (4, 4), "virtual")
    g.tensor("W", (4, 4), "committed")
    g.tensor("Y", (4, 4), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    with pytest.raises(ValueError, match="no producer"):
        g.check()


def test_dangling_claim_rejected_by_kernel(plain_backend, reg, monkeypatch):
    """A claim on a virtual tensor whose producer was already proven is never discharged:
    the prover refuses and the verifier rejects."""
    from zklora.zkcore.claims import Claim

    g = Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("W", (8, 4), "committed")
    g.tensor("T", (4, 4), "virtual")
    g.tensor("W2", (4, 2), "committed")
    g.tensor("Y", (4, 2), "committed")
    g.op("matmul", "mm1", ["X", "W"], ["T"])
    g.op("matmul", "mm2", ["T", "W2"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(1)
    wit = {"X": torch.randint(-9, 9, (4, 8), generator=gen),
           "W": torch.randint(-9, 9, (8, 4), generator=gen),
           "W2": torch.randint(-9, 9, (4, 2), generator=gen)}
    stream, sections = graphlib.prove(g, wit, plain_backend, {})
    graphlib.verify(g, stream, plain_backend, {}, sections)

    op = reg.op("matmul")
    real = op.relations

    def extra(ctx, node):
        return [Claim("T", ctx.E.zeros(4), ctx.E.scalar(0))] if node.name == "mm1" else []

    monkeypatch.setattr(op, "relations", lambda c, n, oc: real(c, n, oc) + extra(c, n))
    with pytest.raises(ProverError, match="undischarged"):
        graphlib.prove(g, wit, plain_backend, {})
    with pytest.raises(VerificationError, match="undischarged"):
        graphlib.verify(g, stream, plain_backend, {}, sections)


def test_input_bounds_and_shapes(plain_backend):
    g = Graph()
    g.tensor("X", (2, 2), "committed", (-1, 1))
    g.tensor("W", (2, 2), "committed")
    g.tensor("Y", (2, 2), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    with pytest.raises(ProverError, match="outside its declared range"):
        graphlib.prove(g, {"X": torch.full((2, 2), 5), "W": torch.ones(2, 2)}, plain_backend, {})
    with pytest.raises(ProverError, match="shape"):
        graphlib.prove(g, {"X": torch.ones(2, 4), "W": torch.ones(2, 2)}, plain_backend, {})
    with pytest.raises(ZkLoraError, match="missing input"):
        graphlib.prove(g, {"X": torch.ones(2, 2)}, plain_backend, {})


def test_published_commitments(reg):
    """Commitments made beforehand (statement) are checked, not sent; another tensor's
    commitment makes the proof fail."""
    from .conftest import backend_for

    be = backend_for(reg, "goldilocks", "ligero")
    g = matmul_graph((4, 8), (8, 2))
    wit = witness((4, 8), (8, 2))
    com_w, _ = be.scheme.commit(be.field.from_ints(wit["W"].reshape(-1)))
    stream, sections = graphlib.prove(g, wit, be, {}, published={"W": com_w})
    graphlib.verify(g, stream, be, {}, sections, published={"W": com_w})
    other = witness((4, 8), (8, 2), seed=5)["W"]
    com_o, _ = be.scheme.commit(be.field.from_ints(other.reshape(-1)))
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, be, {}, sections, published={"W": com_o})
    with pytest.raises(ProverError, match="published commitment"):
        graphlib.prove(g, wit, be, {}, published={"W": com_o})
    with pytest.raises(VerificationError, match="bytes"):
        graphlib.verify(g, stream, be, {}, sections, published={"W": com_w[:-1]})


# -- stacked commitments ---------------------------------------------------------------

STACK_SIZES = (1, 2, 8, 64)


def stack_graph():
    """Y_s = A_s ⊙ B_s for tensors of 1, 2, 8 and 64 elements, all committed (one stack)."""
    g = Graph()
    for s in STACK_SIZES:
        for t in ("A", "B", "Y"):
            g.tensor(f"{t}{s}", (s,), "committed")
        g.op("hadamard", f"h{s}", [f"A{s}", f"B{s}"], [f"Y{s}"])
    g.outputs = [f"Y{s}" for s in STACK_SIZES]
    return g


def stack_witness(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {f"{t}{s}": torch.randint(-99, 100, (s,), generator=gen)
            for s in STACK_SIZES for t in ("A", "B")}


@pytest.mark.parametrize("field,scheme", [("goldilocks", "plain"), ("goldilocks", "ligero"),
                                          ("bls12-381-fr", "plain"),
                                          ("bls12-381-fr", "hyrax")])
def test_stack_of_many_sizes(reg, field, scheme):
    """Tensors of 1, 2, 8 and 64 elements share one stacked commitment and one opening;
    a tampered element of any one of them is rejected."""
    from zklora.zkcore.testing.tamper import assert_rejected, bump

    from .conftest import backend_for

    be = backend_for(reg, field, scheme)
    g = stack_graph()
    wit = stack_witness()
    stream, sections = graphlib.prove(g, wit, be, {})
    graphlib.verify(g, stream, be, {}, sections)
    com = dict((n, (a, b)) for n, a, b in sections)["commitments"]
    assert com[1] - com[0] == be.scheme.commitment_size(8)  # one commitment to 2^8 entries
    for t in ("A1", "B8", "Y64") if scheme != "hyrax" else ("B8",):
        assert_rejected(g, wit, be, {}, bump(t, 0))


def test_stack_rejects_flipped_commitment_and_reduction(reg):
    """A flipped byte of the stacked commitment or of the stack's reduction sumcheck
    (first bytes of the openings section under ``plain``) is rejected."""
    from .conftest import backend_for

    be = backend_for(reg, "goldilocks", "plain")
    g = stack_graph()
    stream, sections = graphlib.prove(g, stack_witness(), be, {})
    where = {n: (a, b) for n, a, b in sections}
    c0, c1 = where["commitments"]
    o0, _ = where["openings"]
    E = be.field.ext
    reduction = (2 * 8 + 1) * E.nbytes  # 8 rounds of (g(0), g(2)) and S̃(r*)
    positions = list(range(c0, c1, 5)) + list(range(o0, o0 + reduction, 7))
    for pos in positions:
        bad = bytearray(stream)
        bad[pos] ^= 0x10
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), be, {}, sections)


def test_stack_layout_and_claim_reduction(reg):
    """StackLayout places blocks aligned, largest first; S̃(r, bits(block)) = T̃(r); the
    reduction of many claims to one is complete and binds each claimed value."""
    import numpy as np

    from zklora.zkcore import mle, stack
    from zklora.zkcore.op import ProverContext, VerifierContext
    from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

    F = reg.field("goldilocks")
    E = F.ext
    sizes = [2, 64, 1, 8, 8]
    lay = stack.StackLayout(sizes)
    assert lay.size == 128 and lay.used == 83
    for b in lay.blocks:
        assert b.offset % (1 << b.num_vars) == 0
    assert sorted((b.offset, b.offset + (1 << b.num_vars)) for b in lay.blocks)[-1][1] == 128
    rng = np.random.default_rng(1)
    tables = [F.from_ints(rng.integers(-50, 50, s)) for s in sizes]
    S = lay.stack(F, tables)
    claims = []
    for i, t in enumerate(tables):
        r = E.random(rng, lay.block(i).num_vars)
        v = mle.evaluate(E, t, r, base=True)
        c = lay.claim(E, i, r, v)
        full = stack._full_point(E, lay.num_vars, c)
        assert E.equal(mle.evaluate(E, S, full, base=True), v)
        claims.append(c)

    def run(cl):
        pch = ProverChannel(Transcript(b"t"))
        ((r, v),) = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None),
                                      [(lay.num_vars, cl, S)], label="x")
        vch = VerifierChannel(Transcript(b"t"), pch.proof_bytes())
        ((r2, v2),) = stack.reduce_many(VerifierContext(F, vch, {}, {}, None),
                                        [(lay.num_vars, cl, None)], label="x")
        vch.finish()
        return r, v, r2, v2

    r, v, r2, v2 = run(claims)
    assert E.equal(r, r2) and E.equal(v, v2)
    assert E.equal(mle.evaluate(E, S, r, base=True), v)
    # a wrong claimed value is caught by the prover's self-check, or by the verifier
    import attrs

    from zklora.zkcore import selfcheck

    bad = list(claims)
    bad[2] = attrs.evolve(bad[2], value=E.add(bad[2].value, E.scalar(1)))
    with pytest.raises(ProverError):
        run(bad)
    with selfcheck.disabled():
        pch = ProverChannel(Transcript(b"t"))
        ((r, v),) = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None),
                                      [(lay.num_vars, bad, S)], label="x")
        vch = VerifierChannel(Transcript(b"t"), pch.proof_bytes())
        try:
            ((r2, v2),) = stack.reduce_many(VerifierContext(F, vch, {}, {}, None),
                                            [(lay.num_vars, bad, None)], label="x")
        except VerificationError:
            pass
        else:  # the verifier's final claim is then false on S
            assert not E.equal(mle.evaluate(E, S, r2, base=True), v2)


# -- unreached ops (issue 9, point 7) ---------------------------------------------------


def unreached_graph():
    """Y = X·W (the output) and a rescale of X ⊙ X whose outputs nothing reads: the
    scheduler would never prove that rescale, its advice R or its range checks."""
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-255, 255))
    g.tensor("W", (8, 2), "committed")
    g.tensor("Y", (4, 2), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.tensor("XX", (4, 8), "virtual")
    g.op("hadamard", "xx", ["X", "X"], ["XX"])
    g.tensor("Z", (4, 8), "committed", (-8, 7))
    g.tensor("Z_R", (4, 8), "committed", (0, (1 << 13) - 1))
    g.op("rescale", "z", ["XX"], ["Z", "Z_R"], shift=13)
    g.outputs = ["Y"]
    return g


def test_unreached_op_refused_on_both_sides(gold):
    g = unreached_graph()
    assert [n.name for n in g.unreached()] == ["xx", "z"]
    with pytest.raises(ValueError, match="'xx' .* unreached \\(and 1 more\\)"):
        g.check()
    wit = witness((4, 8), (8, 2))
    with pytest.raises(ProverError, match="unreached"):
        graphlib.prove(g, wit, gold, {})
    # the verifier refuses the graph before reading any proof byte
    good = matmul_graph((4, 8), (8, 2))
    stream, sections = graphlib.prove(good, wit, gold, {})
    with pytest.raises(VerificationError, match="'xx' \\(hadamard\\) is unreached"):
        graphlib.verify(g, stream, gold, {}, sections)
    # a proven bound on the committed Z does not prove how Z was made: still refused
    g.prove_bound("Z")
    with pytest.raises(ValueError, match="unreached"):
        g.check()
    # a range-checked virtual tensor is claimed before the ops run: its producer is
    # reached (and proven); so is everything once Z is a graph output
    g.proven_bounds.remove("Z")
    g.prove_bound("XX", (0, 255 * 255))
    assert [n.name for n in g.unreached()] == ["z"]
    g.outputs.append("Z")
    g.check()
    stream, sections = graphlib.prove(g, wit, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


def test_discard_removes_dead_branch():
    g = unreached_graph()
    with pytest.raises(ValueError, match="still used"):
        g.discard("Y")
    g.discard("Z_R")
    assert [n.name for n in g.nodes] == ["mm"]
    assert "XX" not in g.tensors and "Z" not in g.tensors and "X" in g.tensors
    g.check()
    with pytest.raises(ValueError, match="no producer"):
        g.discard("X")


def test_node_order_checked():
    g = Graph()
    g.tensor("X", (4, 4), "committed")
    g.tensor("T", (4, 4), "virtual")
    g.tensor("Y", (4, 4), "committed")
    g.op("matmul", "mm2", ["T", "X"], ["Y"])
    g.op("matmul", "mm1", ["X", "X"], ["T"])
    g.outputs = ["Y"]
    with pytest.raises(ValueError, match="topological"):
        g.check()


def test_op_without_claims_refused_at_run_time(gold, reg, monkeypatch):
    """A reached op that still gets no claim (its consumer dropped the claim on its
    input) is refused by the scheduler on both sides, not skipped."""
    g = Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("W", (8, 4), "committed")
    g.tensor("T", (4, 4), "virtual")
    g.tensor("W2", (4, 2), "committed")
    g.tensor("Y", (4, 2), "committed")
    g.op("matmul", "mm1", ["X", "W"], ["T"])
    g.op("matmul", "mm2", ["T", "W2"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(1)
    wit = {"X": torch.randint(-9, 9, (4, 8), generator=gen),
           "W": torch.randint(-9, 9, (8, 4), generator=gen),
           "W2": torch.randint(-9, 9, (4, 2), generator=gen)}
    stream, sections = graphlib.prove(g, wit, gold, {})
    op = reg.op("matmul")
    real = op.relations

    def drop(ctx, node, claims):
        if node.name == "mm2":
            ctx.new_claims = [c for c in ctx.new_claims if c.tensor != "T"]
            return [c for c in claims if c.tensor != "T"]
        return claims

    monkeypatch.setattr(op, "relations", lambda c, n, oc: drop(c, n, real(c, n, oc)))
    with pytest.raises(ProverError, match="'mm1' \\(matmul\\) received no claim"):
        graphlib.prove(g, wit, gold, {})
    with pytest.raises(VerificationError, match="'mm1' \\(matmul\\) received no claim"):
        graphlib.verify(g, stream, gold, {}, sections)


def test_static_range_limbs_committed_in_first_stack(gold, monkeypatch):
    """An op's declared range checks (`Op.range_checks`) and the proven bounds are
    de-duplicated (same tensor, same [lo, hi]) and their limbs and the limbs' lookup
    multiplicities join the commitment phase's stacks, committed before the first
    challenge — not a late stack of their own."""
    g = Graph()
    g.tensor("X", (4, 8), "committed", (-(1 << 12), 1 << 12))
    g.tensor("W", (8, 4), "committed", (-(1 << 12), 1 << 12))
    g.tensor("T", (4, 4), "virtual")
    g.tensor("Y", (4, 4), "committed", (-(1 << 23), (1 << 23) - 1))
    g.tensor("R", (4, 4), "committed", (0, 15))
    g.op("matmul", "mm", ["X", "W"], ["T"])
    g.op("rescale", "rs", ["T"], ["Y", "R"], shift=4)
    g.outputs = ["Y"]
    g.prove_bound("Y")                        # the same check as the rescale's rs/Y
    checks = graphlib.static_range_checks(g, gold.registry)
    assert [(c.label, c.tensor) for c in checks] == [("bound:Y", "Y"), ("rs/R", "R")]
    where: dict = {}
    orig = graphlib.Committer.flush

    def flush(self, ch):
        orig(self, ch)
        where.update(self.where)

    phase1: list[int] = []
    orig_packed = graphlib.Committer.flush_packed

    def flush_packed(self, ch, *a, **kw):
        orig_packed(self, ch, *a, **kw)
        phase1.append(len(self.stacks))

    monkeypatch.setattr(graphlib.Committer, "flush", flush)
    monkeypatch.setattr(graphlib.Committer, "flush_packed", flush_packed)
    gen = torch.Generator().manual_seed(3)
    w = {"X": torch.randint(-(1 << 12), (1 << 12) + 1, (4, 8), generator=gen),
         "W": torch.randint(-(1 << 12), (1 << 12) + 1, (8, 4), generator=gen)}
    stream, sections = graphlib.prove(g, w, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)
    limbs = sorted(n for n in where if "/limb" in n)
    # 16 + 8 bits, the 8-bit top limb split 4 + 4 by cost (`range._split_tops`)
    assert limbs == ["bound:Y/lo/limb0", "bound:Y/lo/limb1", "bound:Y/lo/limb2"]
    assert phase1 and phase1[0] <= 2
    late = {n: k for n, (k, _) in where.items() if k >= phase1[0]}
    assert not late, late
    assert "lookup:range16/m" in where


@pytest.mark.parametrize("sizes,stacks", [([64, 16, 8], [(64,), (16, 8)]),
                                          ([64, 32, 16, 16], [(64, 32, 16, 16)]),
                                          ([8, 64, 2], [(64,), (8, 2)]),
                                          ([32, 8, 64, 2], [(32, 8, 64, 2)])])
def test_flush_packed_pads_less(gold, sizes, stacks):
    """The commitment phase's stacks: one, or two when that pads less (the second from
    the total's lower bits), the same on both sides; every tensor committed once."""
    import numpy as np

    from zklora.zkcore.op import TensorSpec
    from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

    F, scheme = gold.field, gold.scheme
    specs = [TensorSpec(f"t{i}", (s,), "committed") for i, s in enumerate(sizes)]
    pch = ProverChannel(Transcript(b"t"))
    pc = graphlib.Committer(scheme, True)
    for sp in specs:
        pc.commit(pch, sp, F.from_ints(np.arange(sp.size)))
    pc.flush_packed(pch)
    got = [tuple(sizes[int(n[1:])] for n in st.names) for st in pc.stacks]
    assert sorted(map(sorted, got)) == sorted(map(sorted, stacks))
    vch = VerifierChannel(Transcript(b"t"), pch.proof_bytes())
    vc = graphlib.Committer(scheme, False)
    for sp in specs:
        vc.commit(vch, sp)
    vc.flush_packed(vch)
    vch.finish()
    assert vc.where == pc.where and len(vc.where) == len(sizes)
