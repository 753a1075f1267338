"""Static lookups (`Op.lookups`, issue 12): lookups known from the graph alone have their
multiplicities counted from the witness and committed in the commitment phase, in the
main stack with the witness, not in a late stack after the ops.  The verifier derives
the layout from the graph.  Tamper tests: a changed multiplicity, a multiplicity moved
to another row, the tables' multiplicities swapped in the stack, a request order the
verifier does not declare, a flipped proof byte in the commitments, lookups or
openings; each is rejected."""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np
import pytest
import torch

from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.plugins.lookups.tlookup import TLookup
from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck
from zklora.zkcore.errors import (
    ProofFormatError,
    ProverError,
    VerificationError,
)
from zklora.zkcore.graph import Backend, Graph, prove, verify
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import Op
from zklora.zkcore.plugins import registry_with
from zklora.zkcore.range import range_table

STATEMENT = {"suite": "static-lookups"}
TABLES = {t.name: t for t in (range_table(4), range_table(6), silu_table(4, 6, 6))}


class StaticProbe(Op):
    """Z = first input (copy); declares (``lookups``) that for every (table name,
    groups) of node.params['lookups'] every group of input tensors is rows of the
    table; with node.params['late'] its relations request the same lookups again
    mid-proof (`ctx.require_lookup`, the late path)."""

    name = "static_probe"
    #: test hook: rewrite the declared requests (prover side only, set by a test)
    rewrite = None

    def lookups(self, node, params, specs):
        out = [LookupRequest(TABLES[name], tuple(cols), f"{node.name}/t{t}/req{g}")
               for t, (name, groups) in enumerate(node.params["lookups"])
               for g, cols in enumerate(groups)]
        return out

    def forward(self, node, inputs):
        return [inputs[0].clone()]

    def relations(self, ctx, node, out_claims):
        (c,) = out_claims.values()
        if node.params.get("late"):
            for t, (name, groups) in enumerate(node.params["lookups"]):
                for g, cols in enumerate(groups):
                    ctx.require_lookup(TABLES[name], cols, f"{node.name}/late{t}/{g}")
        return [ctx.claim(node.inputs[0], c.point, c.value)]


@hookimpl
def zk_ops():
    return [StaticProbe()]


@lru_cache(maxsize=1)
def _registry():
    return registry_with(sys.modules[__name__])


def _backend(arg, field="goldilocks", scheme="plain"):
    reg = _registry()
    F = reg.field(field)
    return Backend(F, reg.commitment(scheme)(F), arg, reg)


def _graph(spec, seed=0, late=False):
    """spec: [(table name, [rows per request, …]), …] -> (graph, inputs)."""
    rng = np.random.default_rng(seed)
    g = Graph()
    inputs, params = {}, []
    for t, (name, sizes) in enumerate(spec):
        table = TABLES[name]
        groups = []
        for q, n in enumerate(sizes):
            idx = rng.integers(0, table.size, size=n)
            grp = []
            for k, col in enumerate(table.columns()):
                nm = g.tensor(f"t{t}r{q}c{k}", (n,), "committed")
                inputs[nm] = torch.from_numpy(np.ascontiguousarray(col[idx]))
                grp.append(nm)
            groups.append(grp)
        params.append((name, groups))
    first = params[0][1][0][0]
    g.tensor("Z", tuple(inputs[first].shape), "committed")
    g.op("static_probe", "probe", [n for _, grps in params for grp in grps for n in grp],
         ["Z"], lookups=params, late=late)
    g.outputs = ["Z"]
    return g, inputs


SPEC = [("range6", [32, 8]), ("silu_4_6_6", [16, 4]), ("range4", [16])]


def _spec():
    names = {t.name for t in TABLES.values()}
    return [(n if n in names else silu_table(4, 6, 6).name, s) for n, s in SPEC]


def _prove(arg, spec=None, seed=0, late=False, scheme="plain"):
    g, inputs = _graph(spec or _spec(), seed, late)
    be = _backend(arg, scheme=scheme)
    proof, sections = prove(g, inputs, be, STATEMENT)
    return g, be, proof, sections


def _rejects(g, be, proof, sections):
    with pytest.raises((VerificationError, ProofFormatError)):
        verify(g, proof, be, STATEMENT, sections)


def _stacks(monkeypatch):
    """Record, per run, the stacks at the end of the commitment phase and at the end."""
    seen: list[dict] = []
    orig_packed = graphlib.Committer.flush_packed
    orig_open = graphlib.Committer.open

    def flush_packed(self, ch, *a, **kw):
        orig_packed(self, ch, *a, **kw)
        seen.append({"phase1": [list(s.names) for s in self.stacks]})

    def open_(self, ctx, opened):
        orig_open(self, ctx, opened)
        seen[-1]["all"] = [list(s.names) for s in self.stacks]

    monkeypatch.setattr(graphlib.Committer, "flush_packed", flush_packed)
    monkeypatch.setattr(graphlib.Committer, "open", open_)
    return seen


@pytest.mark.parametrize("arg", [LogUpGKR, TLookup])
def test_static_multiplicities_in_the_commitment_phase(arg, monkeypatch):
    """Every table's multiplicities are in the commitment phase's stacks, with the
    witness; logup-gkr commits nothing after it (tlookup still commits its inverses,
    which depend on β, late)."""
    seen = _stacks(monkeypatch)
    g, be, proof, sections = _prove(arg())
    verify(g, proof, be, STATEMENT, sections)
    assert len(seen) == 2                     # prover, verifier
    for run in seen:
        phase1 = [n for s in run["phase1"] for n in s]
        for t in ("range6", "range4", silu_table(4, 6, 6).name):
            assert f"lookup:{t}/m" in phase1
        assert "t0r0c0" in phase1
        if arg is LogUpGKR:
            assert run["all"] == run["phase1"]
    assert seen[0] == seen[1]


def test_late_requests_get_their_own_multiplicities(monkeypatch):
    """The same lookups requested again mid-proof are proven by a second argument
    instance (``lookup:{table}/late``) whose multiplicities are one late stack."""
    seen = _stacks(monkeypatch)
    g, be, proof, sections = _prove(LogUpGKR(), late=True)
    verify(g, proof, be, STATEMENT, sections)
    late = [n for s in seen[0]["all"][len(seen[0]["phase1"]):] for n in s]
    assert sorted(late) == sorted(f"lookup:{t}/late/m" for t in
                                  ("range6", "range4", silu_table(4, 6, 6).name))


def test_ligero_static_lookups_verify():
    g, be, proof, sections = _prove(LogUpGKR(), scheme="ligero")
    verify(g, proof, be, STATEMENT, sections)


def _malicious(tamper):
    arg = LogUpGKR()
    arg.test_tamper_multiplicities = tamper
    with selfcheck.disabled():
        return _prove(arg)


def test_changed_multiplicity_rejected():
    def tamper(m):
        m[1] += 1
        return m
    _rejects(*_malicious(tamper))


def test_multiplicity_moved_to_another_row_rejected():
    def tamper(m):
        i = int(np.flatnonzero(m)[0])
        m[i] -= 1
        m[(i + 1) % len(m)] += 1
        return m
    _rejects(*_malicious(tamper))


def test_tables_multiplicities_swapped_in_the_stack_rejected(monkeypatch):
    """The prover commits the tables' multiplicities in another order than the graph's:
    the verifier's stack layout (from the graph) differs."""
    orig = graphlib._commit_lookups

    def swapped(ctx, backend, requests):
        out = orig(ctx, backend, requests)
        if ctx.prover:
            pend = ctx.committer._pending
            ms = [k for k, (s, _) in enumerate(pend) if s.name.endswith("/m")]
            a, b = ms[0], ms[-1]
            pend[a], pend[b] = pend[b], pend[a]
        return out

    monkeypatch.setattr(graphlib, "_commit_lookups", swapped)
    g, be, proof, sections = _prove(LogUpGKR())
    monkeypatch.setattr(graphlib, "_commit_lookups", orig)
    _rejects(g, be, proof, sections)


def test_requests_in_another_order_rejected(monkeypatch):
    """The prover lays out one table's requests in another order than the graph
    declares (its multiplicities unchanged): rejected."""
    orig = StaticProbe.lookups

    def reordered(self, node, params, specs):
        out = orig(self, node, params, specs)
        return [out[1], out[0]] + out[2:]

    monkeypatch.setattr(StaticProbe, "lookups", reordered)
    g, be, proof, sections = _prove(LogUpGKR())
    monkeypatch.setattr(StaticProbe, "lookups", orig)
    _rejects(g, be, proof, sections)


@pytest.mark.parametrize("section", ["commitments", "lookups", "openings"])
def test_proof_bytes_flipped_rejected(section):
    g, be, proof, sections = _prove(LogUpGKR())
    (start, end), = [(s, e) for n, s, e in sections if n == section]
    assert end > start
    for pos in np.unique(np.linspace(start, end - 1, 8).astype(int)):
        bad = bytearray(proof)
        bad[pos] ^= 0x01
        _rejects(g, be, bytes(bad), sections)


def test_bad_declaration_refused_on_both_sides(monkeypatch):
    """A declared lookup with the wrong column count, or on a tensor that is not
    committed: a `ProverError` for the prover, a `VerificationError` for the
    verifier."""
    g, inputs = _graph(_spec())
    be = _backend(LogUpGKR())
    proof, sections = prove(g, inputs, be, STATEMENT)

    def bad(self, node, params, specs):
        return [LookupRequest(TABLES["range6"], ("t0r0c0", "t0r1c0"), "bad")]

    monkeypatch.setattr(StaticProbe, "lookups", bad)
    with pytest.raises(ProverError, match="columns"):
        prove(g, inputs, be, STATEMENT)
    with pytest.raises(VerificationError, match="columns"):
        verify(g, proof, be, STATEMENT, sections)

    def public(self, node, params, specs):
        return [LookupRequest(TABLES["range6"], ("nope",), "bad")]

    monkeypatch.setattr(StaticProbe, "lookups", public)
    with pytest.raises(ProverError, match="committed"):
        prove(g, inputs, be, STATEMENT)
    with pytest.raises(VerificationError, match="committed"):
        verify(g, proof, be, STATEMENT, sections)


def test_value_outside_declared_table_is_a_prover_error():
    g, inputs = _graph(_spec())
    inputs["t0r0c0"] = inputs["t0r0c0"].clone()
    inputs["t0r0c0"][3] = 64
    with pytest.raises(ProverError, match="t0r0c0"):
        prove(g, inputs, _backend(LogUpGKR()), STATEMENT)


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_selectors_match_the_one_block_reference(field):
    """`lookup.selectors` (all blocks at once) equals `stack.selector` block by block,
    for a layout of mixed block sizes, a padding-only layout and K = 0."""
    from zklora.zkcore.lookup import selectors
    from zklora.zkcore.stack import StackLayout, selector

    E = _registry().field(field).ext
    rng = np.random.default_rng(5)
    for sizes in ([64, 16, 16, 8, 2, 1], [4], [1]):
        lay = StackLayout(sizes)
        K = lay.num_vars
        z = E.random(rng, K)
        blocks = [(b.num_vars, b.offset) for b in lay.blocks]
        got = selectors(E, z, blocks)
        for k, (n, o) in enumerate(blocks):
            assert E.equal(got[k], selector(E, z[n:], o >> n)), (sizes, k)
