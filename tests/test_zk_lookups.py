"""Hidden lookups (issue 15, acceptance 1 for the lookup argument; docs/zero-knowledge.md
§5.1 "LogUp-GKR"): with zero knowledge and `graph.HIDE_LOOKUPS`, LogUp-GKR sends no
root, no multiplicity value and no looked-up column value in the clear.

* layer ``top`` (the roots) is never sent: the LogUp identity on it is a hidden
  sumcheck over s·(P + μ·Q) with a committed random scaling s; only Q' = s·Q is sent
  (`logup_gkr._hidden_roots`); ``lookups/m`` and the ``…/columns`` are masked reveals
  (T̃(z) + ν) whose blinds join the leaf checks' claims on the masks;
* a graph with static lookups into several tables (two lookup trees, a two-column
  function table, tagged rows; one and four challenge sets) verifies, under plain and
  hiding ligero;
* **simulator** (statement only): programmed challenges; the real prover on two
  witnesses of one statement (other looked-up rows, other multiplicities) and a
  simulator that knows only the statement (the tables and the requests' sizes) and
  proves the one witness every statement has — every row table row 0 — are all
  accepted, and no element of any lookup message distinguishes the three families;
  without `HIDE_LOOKUPS` the roots, m and the columns do (control);
* tamper: each new message (one element changed and absorbed), one advice value (a
  multiplicity moved, a looked-up value outside its table), one proof byte anywhere in
  the lookup section: rejected;
* reused masks: two proofs drawing the same mask stream give away the difference of
  the two witnesses' column evaluations (and the ratio of their layer-top
  denominators), which fresh masks hide.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from unittest import mock

import numpy as np
import pytest
import torch

from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck, zk
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Backend, Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import Op
from zklora.zkcore.plugins import registry_with
from zklora.zkcore.range import range_table
from zklora.zkcore.transcript import ProverChannel

from .test_zk import _distinguishable, _profile, programmed, recorded

REJECT = (VerificationError, ProofFormatError)
STATEMENT = {"suite": "zk-lookups"}
TABLES: dict = {}


class StaticProbe(Op):
    """Z = D (a fixed input, so Z says nothing about the looked-up columns); every
    request of node.params['lookups'] is a *static* lookup (`Op.lookups`): its
    multiplicities are committed with the witness, in the masks' stack."""

    name = "zk_static_probe"

    def forward(self, node, inputs):
        return [inputs[0].clone()]

    def relations(self, ctx, node, out_claims):
        (c,) = out_claims.values()
        return [ctx.claim(node.inputs[0], c.point, c.value)]

    def lookups(self, node, params, specs):
        return [LookupRequest(TABLES[name], tuple(cols), f"{node.name}/t{t}/req{g}")
                for t, (name, groups) in enumerate(node.params["lookups"])
                for g, cols in enumerate(groups)]


@hookimpl
def zk_ops():
    return [StaticProbe()]


@lru_cache(maxsize=1)
def _registry():
    return registry_with(sys.modules[__name__])


def _backend(field="goldilocks", scheme="plain", reps=None) -> Backend:
    reg = _registry()
    F = reg.field(field)
    arg = LogUpGKR()
    arg.test_repetitions = reps
    return Backend(F, reg.commitment(scheme)(F), arg, reg)


#: the statement: tables and request sizes (two lookup trees: 32 + 32 and 16 rows)
SPEC = [(range_table(3), (8, 2)), (range_table(5), (32,)), (silu_table(4, 6, 6), (16, 4))]


def _graph() -> Graph:
    g = Graph()
    g.tensor("D", (4,), "committed")
    params = []
    cols = []
    for t, (table, sizes) in enumerate(SPEC):
        TABLES[table.name] = table
        groups = []
        for q, n in enumerate(sizes):
            groups.append([g.tensor(f"t{t}c{q}_{k}", (n,), "committed")
                           for k in range(table.width)])
            cols += groups[-1]
        params.append((table.name, groups))
    g.tensor("Z", (4,), "committed")
    g.op("zk_static_probe", "probe", ["D"] + cols, ["Z"], lookups=params)
    g.outputs = ["Z"]
    return g


def _witness(which) -> dict:
    """Witness ``which`` (an int: random table rows of that seed; "sim": the rows the
    simulator picks from the statement alone — table row 0 everywhere)."""
    rng = np.random.default_rng(which if which != "sim" else 0)
    out = {"D": torch.zeros(4, dtype=torch.int64)}
    for t, (table, sizes) in enumerate(SPEC):
        tcols = table.columns()
        for q, n in enumerate(sizes):
            idx = np.zeros(n, np.int64) if which == "sim" else rng.integers(0, table.size, n)
            for k, c in enumerate(tcols):
                out[f"t{t}c{q}_{k}"] = torch.from_numpy(np.ascontiguousarray(c[idx]))
    return out


def _lookup_messages(log):
    return [x for x in log if x[0].startswith("lookup")]


def _run(be, which, hide=True, log_filter=_lookup_messages):
    """Prove and verify once (ZK on); returns the lookup messages' profile."""
    g = _graph()
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", hide):
        with zk.session(), recorded() as log:
            data, sec = graphlib.prove(g, _witness(which), be, STATEMENT)
        with zk.session():
            graphlib.verify(g, data, be, STATEMENT, sec)
    return _profile(be.field.ext, log_filter(log), skip=())


@pytest.mark.parametrize("field,scheme,reps", [("goldilocks", "plain", None),
                                               ("goldilocks", "plain", 4),
                                               ("goldilocks", "ligero", None),
                                               ("bls12-381-fr", "plain", None)])
def test_hidden_lookups_verify(field, scheme, reps):
    """Several tables, two lookup trees, a function table, tagged rows, one or four
    challenge sets: the hidden argument verifies; nothing of layer top is sent but Q',
    and m and every column go masked (their claims blinded)."""
    be = _backend(field, scheme, reps)
    prof = _run(be, 1)
    labels = {k[0] for k in prof}
    assert "lookups/gkr/roots" not in labels
    assert {"lookups/gkr/zk/roots", "lookups/gkr/root/zk/sum", "lookups/gkr/root/finals",
            "lookups/m", "lookup:range3/columns", "lookup:range5/columns",
            "lookup:silu[in=4,out=6,d=6]/columns"} <= labels
    k = sum(1 for lab, _ in prof if lab == "lookups/gkr/zk/roots")
    assert k == (reps or 1)
    # the layer-top identity: eq·s·q_T·(p_k Π q_j) terms over 2 lookup trees: degree 5,
    # hidden degree 1 + 2·4 = 9 in its last round (round top − 1; one dummy variable at 0)
    last = max((reps or 1).bit_length() - 1, 1) - 1
    assert sum(1 for lab, _ in prof if lab == f"lookups/gkr/root/round{last}") == 9


RUNS = 8


def test_simulator_statement_only():
    """Acceptance 1 for the lookup argument: programmed challenges; real transcripts on
    witnesses 1 and 2 of one statement and the simulator's (statement only: the tables,
    the sizes; it proves table row 0 everywhere) are all accepted, and no element of any
    lookup message tells the three families apart.  Without `HIDE_LOOKUPS` the same test
    tells them apart by the roots, m and the columns (control: the test can fail)."""
    be = _backend()
    fams: dict = {1: [], 2: [], "sim": []}
    with programmed(b"zk-lookups"):
        for _ in range(RUNS):
            for which in fams:
                fams[which].append(_run(be, which))
    assert set(fams[1][0]) == set(fams["sim"][0]) == set(fams[2][0])
    assert ("lookups/m", 0) in fams[1][0]
    assert _distinguishable(fams[1], fams[2]) == []
    assert _distinguishable(fams[1], fams["sim"]) == []
    with programmed(b"zk-lookups"):
        ctrl = {w: [_run(be, w, hide=False) for _ in range(3)] for w in (1, "sim")}
    shown = {k[0] for k, _ in _distinguishable(ctrl[1], ctrl["sim"])}
    assert {"lookups/gkr/roots", "lookups/m", "lookup:range5/columns"} <= shown


# -- tamper --------------------------------------------------------------------------------

NEW = ["lookups/gkr/zk/roots", "lookups/gkr/root/zk/sum", "lookups/gkr/root/round0",
       "lookups/gkr/root/finals", "lookups/m", "lookup:range3/columns",
       "lookup:silu[in=4,out=6,d=6]/columns", "lookups/gkr/l0/finals"]


def _prove_verify(be, witness, send_field=None, **patches):
    g = _graph()
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        if send_field is not None:
            with mock.patch.object(ProverChannel, "send_field", send_field), \
                    selfcheck.disabled():
                data, sec = graphlib.prove(g, witness, be, STATEMENT)
        else:
            with selfcheck.disabled():
                data, sec = graphlib.prove(g, witness, be, STATEMENT)
        return g, data, sec


def _verify(be, g, data, sec):
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        graphlib.verify(g, data, be, STATEMENT, sec)


@pytest.mark.parametrize("label", NEW)
@pytest.mark.parametrize("index", [0, -1])
def test_new_message_element_changed(label, index):
    """One element of a new message changed (and absorbed): rejected."""
    orig = ProverChannel.send_field
    hit = []

    def send_field(self, lab, field, a):
        if lab == label and not hit:
            hit.append(lab)
            a = np.array(a, copy=True)
            flat = a.reshape((-1,) + field.elem_shape)
            flat[index] = field.add(flat[index], field.scalar(1))
        return orig(self, lab, field, a)

    be = _backend()
    g, data, sec = _prove_verify(be, _witness(1), send_field)
    assert hit, label
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


def test_advice_value_changed():
    """A multiplicity moved to another row (same total), and a looked-up value outside
    its table (the prover's self-checks off): rejected; the honest proof verifies."""
    be = _backend()
    g, data, sec = _prove_verify(be, _witness(1))
    _verify(be, g, data, sec)

    def shift(m):
        a = int(np.argmax(m))
        m[a] -= 1
        m[(a + 1) % len(m)] += 1
        return m

    be.lookup.test_tamper_multiplicities = shift
    g, data, sec = _prove_verify(be, _witness(1))
    be.lookup.test_tamper_multiplicities = None
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)
    w = _witness(1)
    w["t1c0_0"][5] = 32          # range5 holds 0 … 31
    g, data, sec = _prove_verify(be, w)
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


def test_proof_bytes_flipped_in_lookups():
    be = _backend()
    g, data, sec = _prove_verify(be, _witness(1))
    (start, end), = [(s, e) for n, s, e in sec if n == "lookups"]
    for pos in np.unique(np.linspace(start, end - 1, 12).astype(int)):
        bad = bytearray(data)
        bad[pos] ^= 0x04
        with pytest.raises(REJECT):
            _verify(be, g, bytes(bad), sec)


# -- reused masks ----------------------------------------------------------------------------


def _values(be, which, rng):
    g = _graph()
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
            zk.session(rng=rng), recorded() as log:
        graphlib.prove(g, _witness(which), be, STATEMENT)
    return {lab: v for lab, _, v in log if lab.startswith("lookup")}


def test_reused_masks_leak():
    """Two proofs (witnesses 1 and 2, programmed challenges) drawing the same mask
    stream: the masked column values' difference is col̃_1(z) − col̃_2(z) whatever the
    stream (the ν cancel), and Q'_1/Q'_2 = Q_1/Q_2 (the scaling cancels) — functions of
    the witnesses alone, the same for two different reused streams.  With fresh masks
    both vary."""
    be = _backend()
    E = be.field.ext
    lab = "lookup:range5/columns"
    diffs, ratios = [], []
    with programmed(b"zk-lookups-reuse"):
        for seed in (b"stream-1", b"stream-2", None):
            vs = []
            for which in (1, 2):
                rng = zk.MaskRng.seeded(seed) if seed else None
                vs.append(_values(be, which, rng))
            diffs.append(E.sub(vs[0][lab], vs[1][lab]))
            ratios.append(E.mul(vs[0]["lookups/gkr/zk/roots"],
                                E.inv(vs[1]["lookups/gkr/zk/roots"])))
    assert np.array_equal(diffs[0], diffs[1]) and not np.array_equal(diffs[0], diffs[2])
    assert not np.array_equal(diffs[0], np.zeros_like(diffs[0]))
    assert np.array_equal(ratios[0], ratios[1]) and not np.array_equal(ratios[0], ratios[2])


# -- the fast layer kernel for hidden layers ---------------------------------------------------


@pytest.mark.parametrize("graph", ["probe", "rescale"])
def test_fast_hidden_layers_match_generic(graph):
    """Hidden layers of ≥ 2 variables proven by the fast layer kernel (rounds 0 … n−2)
    and the last round from the folded pairs (`logup_gkr._hidden_layer_fast`) send the
    bytes the generic `zk.run_hidden` sends (same seeded masks); the proof verifies."""
    from zklora.plugins.lookups import logup_gkr

    from .test_rescale_op import rescale_graph, wit

    if graph == "probe":
        g, inputs, st = _graph(), _witness(1), STATEMENT
        be = _backend()
    else:
        from zklora.zkcore.plugins import registry

        from .conftest import backend_for

        g, inputs, st = rescale_graph(), wit(), {}
        be = backend_for(registry(), "goldilocks", "plain", "logup-gkr")
    out = []
    calls = []
    orig = logup_gkr._hidden_layer_fast

    def spy(*a, **k):
        calls.append(a[1])
        return orig(*a, **k)

    for fast in (True, False):
        with mock.patch.object(logup_gkr, "FAST_HIDDEN", fast), \
                mock.patch.object(logup_gkr, "_hidden_layer_fast", spy), \
                mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
                zk.session(rng=zk.MaskRng.seeded(b"same masks")):
            out.append(graphlib.prove(g, inputs, be, st))
        if fast:
            assert calls and all("/l" in c for c in calls)
            n_fast = len(calls)
    assert len(calls) == n_fast
    assert out[0][0] == out[1][0]
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        graphlib.verify(g, out[0][0], be, st, out[0][1])


@pytest.mark.parametrize("reps", [None, 2])
def test_streamed_hidden_layers_match_generic(monkeypatch, reps):
    """Hidden layers read in chunks by the streamed prover (`_streamed_rounds`, tiny
    `STREAM_BYTES`), then folded into RAM for rounds up to n−2 and the hidden last
    round: the generic `zk.run_hidden`'s bytes (same seeded masks); verifies."""
    from zklora.plugins.lookups import logup_gkr as L

    be = _backend(reps=reps)
    g, inputs = _graph(), _witness(2)

    def prove():
        with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), \
                zk.session(rng=zk.MaskRng.seeded(b"same masks")):
            return graphlib.prove(g, inputs, be, STATEMENT)

    with mock.patch.object(L, "FAST_HIDDEN", False):
        generic = prove()
    monkeypatch.setattr(L, "STREAM_BYTES", 64)
    monkeypatch.setattr(L, "KEEP_LAYERS", 1)
    monkeypatch.setattr(L, "STREAM_CHUNK", 2)
    monkeypatch.setattr(L, "LAYER_CHUNK", 4)
    streamed = []
    orig = L._streamed_rounds

    def spy(*a, **k):
        out = orig(*a, **k)
        streamed.append(out[0])
        return out

    monkeypatch.setattr(L, "_streamed_rounds", spy)
    fast = prove()
    assert any(s > 0 for s in streamed), "no layer was streamed"
    assert fast[0] == generic[0]
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        graphlib.verify(g, fast[0], be, STATEMENT, fast[1])


# -- segmented graphs ------------------------------------------------------------------------


def test_segmented_step_hidden_lookups(monkeypatch):
    """The segmented micro training step with hidden lookups (`graph._run` keeps
    `hide_lookups` off for segmented graphs; forced on here, as the graph would set it
    without its segment clause): proves and verifies under hiding ligero, no layer-top
    value is sent, and no multiplicity or column value is sent in the clear (two proofs
    share none of them)."""
    from zklora.zkcore import op as oplib
    from zklora.zkcore.plugins import registry

    from .conftest import backend_for
    from .test_llama_train import micro

    def get(self):
        return self.__dict__.get("_hl", False)

    def set_(self, v):
        self.__dict__["_hl"] = bool(v) or bool(self.hide)

    monkeypatch.setattr(oplib._Context, "hide_lookups", property(get, set_))
    monkeypatch.setattr(graphlib, "HIDE_LOOKUPS", True)
    be = backend_for(registry(), "goldilocks", "ligero", "logup-gkr")
    _, g, inputs, _, st = micro(1)
    assert g.node_segments
    logs = []
    for _ in range(2):
        with zk.session(), recorded() as log:
            data, sec = graphlib.prove(g, inputs, be, st)
        logs.append({lab: v for lab, _, v in log if lab.startswith("lookup")})
    with zk.session():
        graphlib.verify(g, data, be, st, sec)
    assert "lookups/gkr/roots" not in logs[0] and "lookups/gkr/zk/roots" in logs[0]
    shown = [lab for lab in logs[0] if lab.endswith(("/m", "/columns"))]
    assert len(shown) > 10
    for lab in shown:
        a = logs[0][lab].reshape(-1, 2)
        b = logs[1][lab].reshape(-1, 2)
        assert not any(np.array_equal(x, y) for x, y in zip(a, b)), lab


@pytest.mark.parametrize("spec,reps", [([(range_table(3), (1,))], None),
                                       ([(range_table(3), (1,))], 2),
                                       ([(range_table(3), (1,)), (range_table(4), (1,))],
                                        None)])
def test_one_row_lookups(monkeypatch, spec, reps):
    """A lookup tree whose layer top is its leaves (one row per challenge set: unit
    numerators, public 1 in the layer-top identity), with one and two challenge sets."""
    monkeypatch.setattr(sys.modules[__name__], "SPEC", spec)
    be = _backend(reps=reps)
    g = _graph()
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True), zk.session():
        data, sec = graphlib.prove(g, _witness(1), be, STATEMENT)
        graphlib.verify(g, data, be, STATEMENT, sec)
