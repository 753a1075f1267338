"""The matmul example states something (issue 9, point 6): the statement publishes the
commitments of X, W and Y, and the proof range-checks X and W to [−bound, bound]."""

from __future__ import annotations

import json

import pytest

from zklora.zkcore import api, config, proof, selfcheck
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProverError, VerificationError, ZkLoraError

PARAMS = {"m": 8, "k": 16, "n": 4, "bound": 100, "seed": 3}


def _cfg(**over):
    return config.from_dict({"profile": "debug", "model": {**PARAMS, **over}})


@pytest.fixture(scope="module")
def honest():
    return api.prove(_cfg())


def _commit(be, group: dict, values) -> str:
    """Recommit a published group (statement description) from the tensors' values."""
    from zklora.zkcore import published

    g = published.Group("g", tuple(n for n, _, _ in group["tensors"]),
                        tuple(v for _, _, v in group["tensors"]))
    (g,) = published.commit_groups(be.scheme, be.field, [g], lambda n: values[n])
    return g.commitment.hex()


def test_statement_publishes_commitments(honest, reg):
    st = api.verify(honest.data)
    coms = st["commitments"]
    assert sorted(coms) == ["inputs", "outputs"]     # the model's categories, one group each
    assert [n for n, _, _ in coms["inputs"]["tensors"]] == ["W", "X"]
    assert [n for n, _, _ in coms["outputs"]["tensors"]] == ["Y"]
    model = reg.model("matmul-example")
    wit = model.witness(PARAMS)
    wit["Y"] = wit["X"] @ wit["W"]
    be = config.resolve(config.PROFILES["debug"], reg)
    # anyone holding X, W (or Y) can recommit them and compare with the statement
    assert coms["inputs"]["commitment"] == _commit(be, coms["inputs"], wit)
    assert coms["outputs"]["commitment"] == _commit(be, coms["outputs"], wit)
    g = model.build(st["params"])
    assert g.proven_bounds == ["X", "W"]
    assert g.tensors["X"].bound == (-100, 100) == g.tensors["W"].bound


@pytest.mark.parametrize("group", ["inputs", "outputs"])
def test_swapped_published_commitment_rejected(honest, reg, group):
    """The statement's commitment of X, W (Y) replaced by that of other matrices of the
    same shapes: rejected."""
    pf = proof.decode(honest.data)
    st = json.loads(json.dumps(pf.statement))
    be = config.resolve(config.PROFILES["debug"], reg)
    other = reg.model("matmul-example").witness({**PARAMS, "seed": 4})
    other["Y"] = other["X"] @ other["W"]
    st["commitments"][group]["commitment"] = _commit(be, st["commitments"][group], other)
    assert st["commitments"] != pf.statement["commitments"]
    with pytest.raises(VerificationError):
        api.verify(proof.encode(st, pf.sections))
    # two published members exchanged
    st = json.loads(json.dumps(pf.statement))
    ts = st["commitments"]["inputs"]["tensors"]
    ts[0][0], ts[1][0] = ts[1][0], ts[0][0]
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))


@pytest.mark.parametrize("name,value", [("X", 101), ("X", -101), ("W", 101)])
def test_out_of_range_input_rejected(reg, monkeypatch, name, value):
    """A witness with one entry of X (W) outside [−bound, bound], proven with the
    prover's self-checks off: the verifier rejects (the range table's lookup fails);
    without the proven bound the same proof would be accepted."""
    model = reg.model("matmul-example")
    real = model.witness

    def bad_witness(params):
        w = {k: v.clone() for k, v in real(params).items()}
        w[name][1, 2] = value
        return w

    monkeypatch.setattr(model, "witness", bad_witness)
    with pytest.raises(ProverError, match="outside its declared range"):
        api.prove(_cfg(), registry=reg)
    with selfcheck.disabled():
        res = api.prove(_cfg(), registry=reg)
    # X, W are committed and the width fits one table: the check is a direct lookup
    # into [−100, 155] (lo side) or [−155, 100] (hi side), which the argument rejects
    # (both sides' tables are proven in one batched LogUp-GKR: the message names none)
    with pytest.raises(VerificationError,
                       match="(lookup:range8@-(100|155)|lookups): LogUp sums differ"):
        api.verify(res.data, registry=reg)
    # the same cheat against a graph without the proven bounds goes through
    be = config.resolve(config.PROFILES["debug"], reg)
    g = model.build(res.statement["params"])
    g.proven_bounds.clear()
    with selfcheck.disabled():
        stream, sections = graphlib.prove(g, bad_witness(PARAMS), be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_needs_a_lookup_argument():
    cfg = config.from_dict({"profile": "debug", "proof": {"lookup": ""}, "model": PARAMS})
    with pytest.raises(ProverError, match="no lookup argument"):
        api.prove(cfg)
