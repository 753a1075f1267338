"""Published tensors committed in groups (`zklora.zkcore.published`): the grouping rule,
the graph proof with grouped published tensors under every scheme, and tampering with
the statement's groups, a claim on a grouped tensor, a model commitment's groups and a
chain link — each rejected."""

from __future__ import annotations

import json

import pytest
import torch

from zklora.zkcore import api, chain, config, modelcommit, proof
from zklora.zkcore import graph as graphlib
from zklora.zkcore import published as publib
from zklora.zkcore.errors import (
    ProofFormatError,
    ProverError,
    VerificationError,
    ZkLoraError,
)
from zklora.zkcore.graph import Graph

from .conftest import backend_for

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

# -- the grouping rule -------------------------------------------------------------------


def test_plan_small_tensors_share_one_group():
    gs = publib.plan("data", [("a", 3), ("b", 6), ("c", 3)])
    assert len(gs) == 1 and gs[0].name == "data"
    assert gs[0].names == ("a", "b", "c")       # member order kept
    assert gs[0].members() == [["a", 64, 3], ["b", 0, 6], ["c", 72, 3]]
    assert gs[0].num_vars == 7                  # 80 entries, padded to 128


def test_plan_large_tensors_alone_and_bins_exact():
    big = 22
    sizes = [("w1", big + 2), ("n1", 4), ("w2", 21), ("w3", 21), ("w4", 21), ("w5", big)]
    gs = publib.plan("frozen", sizes)
    # 2^21 × 3 + 2^4: one exactly full bin of 2^22 (two 2^21), one last bin; the 2^22 and
    # 2^24 tensors alone
    assert [g.name for g in gs] == [f"frozen.{k}" for k in range(4)]
    assert [g.names for g in gs] == [("w2", "w3"), ("n1", "w4"), ("w1",), ("w5",)]
    assert gs[0].layout.padding == 0 and gs[0].num_vars == 22
    assert gs[1].num_vars == 22                 # 2^21 + 2^4, padded below 2^22
    assert gs[2].num_vars == big + 2 and gs[2].layout.padding == 0
    # decided from names and sizes alone
    assert [g.members() for g in publib.plan("frozen", sizes)] == [g.members() for g in gs]


def test_plan_categories_first_category_wins():
    gs = publib.plan_categories({"a": ["x", "y"], "b": ["y", "z"], "c": ["x"]},
                                lambda n: 2)
    assert [(g.name, g.names) for g in gs] == [("a", ("x", "y")), ("b", ("z",))]


# -- the graph proof with grouped published tensors, every scheme ------------------------


def _graph():
    g = Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("W", (8, 4), "committed")    # same size as X: a swap of names matters
    g.tensor("Y", (4, 4), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    return g


def _wit(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"X": torch.randint(-99, 100, (4, 8), generator=gen),
            "W": torch.randint(-99, 100, (8, 4), generator=gen)}


SCHEMES = [("goldilocks", "plain"), ("goldilocks", "ligero"), ("goldilocks", "whir"),
           ("bls12-381-fr", "hyrax")]


def _setup(reg, field, scheme, seed=0):
    be = backend_for(reg, field, scheme)
    g = _graph()
    wit = _wit(seed)
    values = graphlib.forward(g, wit, be.registry)
    plan = publib.plan_categories({"in": ["X", "W"], "out": ["Y"]},
                                  lambda n: g.tensors[n].num_vars)
    states: dict = {}
    groups = publib.commit_groups(be.scheme, be.field, plan, lambda n: values[n], states)
    return be, g, wit, groups, states


@pytest.fixture(scope="module", params=SCHEMES, ids=lambda s: s[1])
def grouped(request):
    from zklora.zkcore.plugins import registry

    reg = registry()
    be, g, wit, groups, states = _setup(reg, *request.param)
    stream, sections = graphlib.prove(g, wit, be, {}, published=publib.members(groups),
                                      published_states=states)
    return reg, request.param, be, g, wit, groups, states, stream, sections


def test_grouped_proof_verifies(grouped):
    _, _, be, g, wit, groups, _, stream, sections = grouped
    assert [gr.names for gr in groups] == [("X", "W"), ("Y",)]
    graphlib.verify(g, stream, be, {}, sections, published=publib.members(groups))
    # without the prover states the members' tables are stacked as they come
    s2, sec2 = graphlib.prove(g, wit, be, {}, published=publib.members(groups))
    graphlib.verify(g, s2, be, {}, sec2, published=publib.members(groups))


def test_group_commitment_of_other_tensors_rejected(grouped):
    reg, (field, scheme), be, g, wit, groups, _, stream, sections = grouped
    _, _, _, other, _ = _setup(reg, field, scheme, seed=5)
    bad = [other[0], groups[1]]   # another X, W
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, be, {}, sections, published=publib.members(bad))
    # the prover refuses a group commitment its tensors do not match
    with pytest.raises(ProverError, match="do not match"):
        graphlib.prove(g, wit, be, {}, published=publib.members(bad))


def test_group_commitment_byte_or_length_rejected(grouped):
    _, _, be, g, _, groups, _, stream, sections = grouped
    com = bytearray(groups[0].commitment)
    com[len(com) // 2] ^= 1
    bad = [groups[0].with_commitment(bytes(com)), groups[1]]
    with pytest.raises(ZkLoraError):
        graphlib.verify(g, stream, be, {}, sections, published=publib.members(bad))
    short = [groups[0].with_commitment(groups[0].commitment[:-1]), groups[1]]
    with pytest.raises(VerificationError, match="bytes"):
        graphlib.verify(g, stream, be, {}, sections, published=publib.members(short))


def test_swapped_members_rejected(grouped):
    """X and W (same size) exchanged inside their group: each claim lands on the other's
    block, and the layout description absorbed differs."""
    _, _, be, g, _, groups, _, stream, sections = grouped
    gi = groups[0]
    swapped = publib.Group(gi.name, ("W", "X"), gi.nvars, gi.commitment)
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, be, {}, sections,
                        published=publib.members([swapped, groups[1]]))
    # a member handed with the wrong index
    pub = publib.members(groups)
    pub["X"] = publib.Member(gi, 1)
    with pytest.raises(VerificationError, match="member"):
        graphlib.verify(g, stream, be, {}, sections, published=pub)


def test_tampered_claim_on_grouped_tensor_rejected(grouped):
    """The output claim on Y (a grouped published tensor) changed in the proof stream."""
    _, _, be, g, _, groups, _, stream, sections = grouped
    where = {n: (a, b) for n, a, b in sections}
    a, b = where["outputs"]
    assert b > a
    for pos in (a, b - 1):
        bad = bytearray(stream)
        bad[pos] ^= 1
        with pytest.raises(ZkLoraError):
            graphlib.verify(g, bytes(bad), be, {}, sections,
                            published=publib.members(groups))


# -- the statement's groups (matmul example; statement tensors X, W | Y) ----------------

PARAMS = {"m": 8, "k": 16, "n": 4, "bound": 100, "seed": 3}


@pytest.fixture(scope="module")
def mm_proof():
    return api.prove(config.from_dict({"profile": "debug", "model": PARAMS}))


def _with_commitments(res, change) -> bytes:
    pf = proof.decode(res.data)
    st = json.loads(json.dumps(pf.statement))
    change(st["commitments"])
    return proof.encode(st, pf.sections)


def test_statement_groups(mm_proof):
    st = api.verify(mm_proof.data)
    assert st["zklora"] == 2
    coms = st["commitments"]
    assert sorted(coms) == ["inputs", "outputs"]
    assert coms["inputs"]["tensors"] == [["W", 128, 6], ["X", 0, 7]]
    assert coms["inputs"]["num_vars"] == 8


def _flip_hex(h: str) -> str:
    return h[:10] + ("0" if h[10] != "0" else "1") + h[11:]


@pytest.mark.parametrize("what", [
    "commitment byte", "commitment length", "offset", "member name", "swap members",
    "num_vars", "extra key", "group renamed", "group missing", "extra group",
    "float offset", "uppercase hex"])
def test_statement_group_tampering_rejected(mm_proof, what):
    def change(c):
        gi = c["inputs"]
        if what == "commitment byte":
            gi["commitment"] = _flip_hex(gi["commitment"])
        elif what == "commitment length":
            gi["commitment"] = gi["commitment"][:-2]
        elif what == "offset":
            gi["tensors"][0][1] = 0
        elif what == "member name":
            gi["tensors"][0][0] = "Y"
        elif what == "swap members":
            gi["tensors"][0][0], gi["tensors"][1][0] = "X", "W"
        elif what == "num_vars":
            gi["num_vars"] += 1
        elif what == "extra key":
            gi["note"] = 1
        elif what == "group renamed":
            c["input"] = c.pop("inputs")
        elif what == "group missing":
            del c["outputs"]
        elif what == "extra group":
            c["more"] = dict(c["outputs"])
        elif what == "float offset":
            gi["tensors"][1][1] = 0.0
        elif what == "uppercase hex":
            gi["commitment"] = gi["commitment"].upper()

    with pytest.raises(ZkLoraError):
        api.verify(_with_commitments(mm_proof, change))


def test_statement_groups_exchanged_rejected(mm_proof):
    """The two groups' commitments exchanged (lengths fit under `plain` only when the
    sizes do; either way rejected)."""
    def change(c):
        c["inputs"]["commitment"], c["outputs"]["commitment"] = \
            c["outputs"]["commitment"], c["inputs"]["commitment"]

    with pytest.raises(ZkLoraError):
        api.verify(_with_commitments(mm_proof, change))


def test_old_statement_version_rejected(mm_proof):
    pf = proof.decode(mm_proof.data)
    st = dict(pf.statement, zklora=1)
    with pytest.raises(ProofFormatError, match="version"):
        api.verify(proof.encode(st, pf.sections))


@pytest.mark.parametrize("profile", ["fast", "paper"])
def test_statement_groups_other_profiles(profile):
    res = api.prove(config.from_dict({"profile": profile, "model": PARAMS}))
    st = api.verify(res.data)
    assert sorted(st["commitments"]) == ["inputs", "outputs"]

    def change(c):
        c["outputs"]["commitment"] = _flip_hex(c["outputs"]["commitment"])

    with pytest.raises(ZkLoraError):
        api.verify(_with_commitments(res, change))


# -- the model commitment's groups ----------------------------------------------------------

LLAMA = {"task": {"model": "llama"}, "model": {"batch": 1, "seq": 4}}


@pytest.fixture(scope="module")
def bound():
    cfg = config.from_dict(LLAMA)
    return api.prove(cfg).data, api.commit_model(cfg)


def _rebound(data: bytes, doc: dict) -> bytes:
    """The proof with its model document replaced by ``doc`` (canonical) and the
    statement's digest pointing at it: only the group checks (or the proof) can fail."""
    pf = proof.decode(data)
    raw = graphlib.canonical_json(doc)
    mc = modelcommit.parse(raw)
    st = dict(pf.statement, model_commitment=mc.digest())
    return proof.encode(st, {**pf.sections, "model": raw})


def test_model_commitment_groups(bound):
    data, mc = bound
    doc = mc.to_json()
    assert doc["zklora_model_commitment"] == 2 and set(doc["groups"]) == {"frozen"}
    members = doc["groups"]["frozen"]["tensors"]
    assert [m[0] for m in members] == sorted(m[0] for m in members)
    assert len(members) == len(mc.tensors) > 10
    assert api.verify(data, trusted_model=mc)["model_commitment"] == mc.digest()


def _doc(mc):
    return json.loads(mc.to_bytes())


def test_model_document_parse_strict(bound):
    _, mc = bound
    for change in ("offset", "num_vars", "two groups", "float", "empty"):
        doc = _doc(mc)
        gr = doc["groups"]["frozen"]
        if change == "offset":
            gr["tensors"][0][1] += 1
        elif change == "num_vars":
            gr["num_vars"] += 1
        elif change == "two groups":
            doc["groups"]["frozen.1"] = dict(gr, tensors=[gr["tensors"][0]])
        elif change == "float":
            gr["tensors"][0][2] = float(gr["tensors"][0][2])
        elif change == "empty":
            gr["tensors"] = []
        with pytest.raises(ProofFormatError):
            modelcommit.parse(graphlib.canonical_json(doc))


def test_model_document_group_tampering_rejected(bound):
    data, mc = bound
    doc = _doc(mc)
    gr = doc["groups"]["frozen"]
    ts = gr["tensors"]
    # two members of the same size exchanged (offsets stay the layout's)
    i, j = next((i, j) for i in range(len(ts)) for j in range(i + 1, len(ts))
                if ts[i][2] == ts[j][2])
    swapped = json.loads(json.dumps(doc))
    st = swapped["groups"]["frozen"]["tensors"]
    st[i][0], st[j][0] = st[j][0], st[i][0]
    # a member moved to a group of its own (a valid layout, not the model's grouping)
    split = json.loads(json.dumps(doc))
    last = split["groups"]["frozen"]["tensors"].pop()
    rest = publib.Group("frozen", tuple(m[0] for m in split["groups"]["frozen"]["tensors"]),
                        tuple(m[2] for m in split["groups"]["frozen"]["tensors"]))
    split["groups"]["frozen"] = dict(rest.describe(), commitment=gr["commitment"])
    split["groups"]["frozen.1"] = {"commitment": gr["commitment"], "num_vars": last[2],
                                   "tensors": [[last[0], 0, last[2]]]}
    # the group renamed
    renamed = json.loads(json.dumps(doc))
    renamed["groups"]["base"] = renamed["groups"].pop("frozen")
    # one commitment byte
    flipped = json.loads(json.dumps(doc))
    flipped["groups"]["frozen"]["commitment"] = _flip_hex(gr["commitment"])
    for bad in (swapped, split, renamed, flipped):
        with pytest.raises(ZkLoraError):
            api.verify(_rebound(data, bad))
    with pytest.raises(ZkLoraError, match="groups"):
        api.verify(_rebound(data, swapped))


# -- chain links over groups -------------------------------------------------------------------


def _st(group: str, names, com="ab" * 4, offsets=(0, 4), nv=3):
    return {"model": "m", "stack": {}, "commitment_params": {}, "lookup_params": {},
            "model_commitment": None,
            "commitments": {group: {"commitment": com, "num_vars": nv,
                                    "tensors": [[n, o, 2] for n, o in zip(names, offsets)]}}}


def _link(initial, final):
    return chain.Link(0, 1, list(initial), list(final), None)


def test_chain_link_compares_groups():
    prev = _st("adapters_out", ["o1", "o2"])
    a = _link([], ["o1", "o2"])
    b = chain.Link(1, 2, ["i1", "i2"], [], None)
    chain.check_link(prev, _st("adapters_in", ["i1", "i2"]), a, b, "q")
    bad = {
        "commitment": _st("adapters_in", ["i1", "i2"], com="ab" * 3 + "ac"),
        "offsets swapped": _st("adapters_in", ["i1", "i2"], offsets=(4, 0)),
        "names swapped": _st("adapters_in", ["i2", "i1"]),
        "num_vars": _st("adapters_in", ["i1", "i2"], nv=4),
        "extra member": _st("adapters_in", ["i1", "i2", "i3"], offsets=(0, 4, 8), nv=4),
    }
    for what, nxt in bad.items():
        with pytest.raises(VerificationError, match="is not the previous proof's final"):
            chain.check_link(prev, nxt, a, b, what)


def test_hostile_group_descriptions_rejected(mm_proof):
    """Huge or odd descriptions are refused by comparing with the graph's grouping
    (key sets first, then each expected group), before any of them is used; the
    statement's own size is bounded by the file format."""
    def many_groups(c):
        for k in range(10_000):
            c[f"g{k}"] = {"commitment": "00", "num_vars": 60, "tensors": []}

    def many_members(c):
        c["inputs"]["tensors"] = [[f"t{k}", k, 0] for k in range(10_000)]

    def huge_num_vars(c):
        c["inputs"]["num_vars"] = 1 << 62

    def not_a_list(c):
        c["inputs"]["tensors"] = {"W": 0}

    def not_an_object(c):
        c["inputs"] = ["W", "X"]

    for change, msg in ((many_groups, "groups must be exactly"),
                        (many_members, "members, offsets or sizes"),
                        (huge_num_vars, "num_vars"), (not_a_list, "members, offsets"),
                        (not_an_object, "exactly the keys")):
        with pytest.raises(ProofFormatError, match=msg):
            api.verify(_with_commitments(mm_proof, change))
