"""Linked proofs (zklora.zkcore.chain + llama-train's ``start_step`` / ``resume``): a run
proven in chunks verifies as a chain and ends where one proof of the whole run ends;
a reordered chain, a repeated link or a swapped intermediate state is rejected.

Uses a micro LLaMA written as a HF directory (vocab 16, hidden 8, 1 layer, batch 1 × 4)
so that a proven step takes seconds; the 4-step acceptance run is slow-marked."""

from __future__ import annotations

import json
import shutil

import attrs
import pytest
import torch

from zklora.plugins.models import llama_train as lt
from zklora.plugins.models.tiny import (
    tiny_adapter,
    tiny_arch,
    tiny_lora,
    tiny_weights,
    write_tiny_adapter,
    write_tiny_model,
)
from zklora.zkcore import api, chain, config, published
from zklora.zkcore.errors import ConfigError, VerificationError

from .test_cli import run

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")


@pytest.fixture(scope="module")
def micro_dirs(tmp_path_factory):
    d = tmp_path_factory.mktemp("chain")
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, head_dim=4)
    write_tiny_model(d / "model", tiny_weights(arch))
    write_tiny_adapter(d / "adapter",
                       tiny_adapter(arch, tiny_lora(r=2, alpha=4.0), init="random"))
    rows = torch.randint(0, 16, (4, 4), generator=torch.Generator().manual_seed(3))
    (d / "data.jsonl").write_text("".join(json.dumps({"input_ids": r.tolist()}) + "\n"
                                          for r in rows))
    for name, sl in (("first", slice(0, 2)), ("second", slice(2, 4)), ("one_a", slice(0, 1)),
                     ("one_b", slice(1, 2))):
        (d / f"{name}.jsonl").write_text("".join(json.dumps({"input_ids": r.tolist()}) + "\n"
                                                 for r in rows[sl]))
    return d


def cfg_for(d, data: str, **params):
    base = config.load(None)
    p = {"model": str(d / "model"), "data": str(d / data), "batch": 1, "steps": 2,
         "grad_bits": 4, **params}
    if "resume" not in p:
        p["adapter"] = str(d / "adapter")
    return attrs.evolve(base, model="llama-train", model_params=p)


@pytest.fixture(scope="module")
def linked(micro_dirs):
    """Two linked 1-step proofs (fast): p1 from the initial adapter, p2 resuming p1."""
    d = micro_dirs
    c1 = cfg_for(d, "one_a.jsonl", steps=1)
    p1 = api.prove(c1)
    api.write_trained_adapter(c1, d / "lnk1")
    p2 = api.prove(cfg_for(d, "one_b.jsonl", steps=1, resume=str(d / "lnk1")))
    return p1, p2


@pytest.fixture(scope="module")
def runs(micro_dirs):
    """One 4-step proof, and the same run as two linked 2-step proofs (per-step batches)."""
    d = micro_dirs
    whole = api.prove(cfg_for(d, "data.jsonl", steps=4))
    c1 = cfg_for(d, "first.jsonl")
    p1 = api.prove(c1)
    api.write_trained_adapter(c1, d / "out1")
    c2 = cfg_for(d, "second.jsonl", resume=str(d / "out1"))
    p2 = api.prove(c2)
    api.write_trained_adapter(c2, d / "out2")
    for name, res in (("whole", whole), ("p1", p1), ("p2", p2)):
        (d / f"{name}.zkp").write_bytes(res.data)
    return whole, p1, p2


@pytest.mark.slow
def test_linked_proofs_verify_as_chain_and_match_one_proof(runs, micro_dirs):
    whole, p1, p2 = runs
    assert "start_step" not in p1.statement["params"]  # a fresh run's statement is as before
    assert p2.statement["params"]["start_step"] == 2
    res = chain.verify_chain([p1.data, p2.data], start=0)
    assert (res.start, res.end) == (0, 4)
    model = lt.LlamaTrain()
    one = model.chain_link(whole.statement["params"])
    assert one["start"] == 0 and one["end"] == 4
    # same adapters, m̂ and v̂ after step 4: the same commitments, in the link's order
    # (published groups: those holding the link's final tensors)
    where = published.locate(whole.statement["commitments"])
    assert list(res.final.values()) == [
        whole.statement["commitments"][g]["commitment"]
        for g in dict.fromkeys(where[n][0] for n in one["final"])]
    assert list(res.final) == ["adapters_out", "state_out"]
    assert p2.statement["params"]["losses"] == whole.statement["params"]["losses"][2:]
    # the state file carries the exact integers and the step index
    st = lt.TrainState.load(micro_dirs / "out2")
    assert st.step == 4 and st.optimizer == "adamw"


@pytest.mark.slow
def test_cli_verifies_chain_and_final_adapter(runs, micro_dirs):
    d = micro_dirs
    r = run("verify", d / "p1.zkp", d / "p2.zkp", "--adapter-in", d / "adapter",
            "--adapter-out", d / "out2")
    assert r.exit_code == 0, r.output
    assert "OK: 2 linked proofs, optimiser steps 1–4 (from a fresh optimiser" in r.output
    r = run("verify", d / "whole.zkp", "--adapter-out", d / "out2")
    assert r.exit_code == 0, r.output  # the chain's adapter is the one-proof run's


def test_reordered_or_repeated_chain_rejected(linked):
    p1, p2 = linked
    res = chain.verify_chain([p1.data, p2.data], start=0)
    assert (res.start, res.end) == (0, 2)
    with pytest.raises(VerificationError, match="starts at step 0, but the previous proof "
                                                "ends at step 2"):
        chain.verify_chain([p2.data, p1.data])
    with pytest.raises(VerificationError, match="starts at step 0, but the previous proof "
                                                "ends at step 1"):
        chain.verify_chain([p1.data, p1.data])
    with pytest.raises(VerificationError, match="the chain starts at step 1, expected 0"):
        chain.verify_chain([p2.data], start=0)
    assert chain.verify_chain([p2.data]).start == 1  # a chain may resume a committed state


def test_swapped_intermediate_state_rejected(linked, micro_dirs, tmp_path):
    """The second chunk resumes from a state other than the one the first ended with: it
    is a valid proof on its own, but not a link of the chain."""
    p1, _ = linked
    d = micro_dirs
    swapped = tmp_path / "swapped"
    shutil.copytree(d / "lnk1", swapped)
    st = lt.TrainState.load(swapped)
    key = sorted(st.m)[0]
    m = dict(st.m)
    m[key] = m[key].clone()
    m[key].view(-1)[0] += 1
    attrs.evolve(st, m=m).save(swapped)
    p2x = api.prove(cfg_for(d, "one_b.jsonl", steps=1, resume=str(swapped)))
    api.verify(p2x.data)
    with pytest.raises(VerificationError, match="is not the previous proof's final"):
        chain.verify_chain([p1.data, p2x.data])
    r = run("verify", _write(tmp_path / "p1.zkp", p1.data), _write(tmp_path / "p2x.zkp", p2x.data))
    assert r.exit_code != 0 and "REJECTED" in r.output and "/m" in r.output


def _write(path, data):
    path.write_bytes(data)
    return path


def test_changed_hyper_parameters(linked, micro_dirs):
    p1, _ = linked
    d = micro_dirs
    # a second chunk with other Adam betas cannot resume the state at all …
    with pytest.raises(ConfigError, match="betas"):
        api.prove(cfg_for(d, "one_b.jsonl", steps=1, resume=str(d / "lnk1"),
                          betas=[0.8, 0.999]))
    # … while the lr may change (a schedule): that chain verifies
    p2 = api.prove(cfg_for(d, "one_b.jsonl", steps=1, resume=str(d / "lnk1"), lr=5e-4))
    assert chain.verify_chain([p1.data, p2.data]).end == 2


def test_resume_errors(linked, micro_dirs, tmp_path):
    d = micro_dirs
    with pytest.raises(ConfigError, match="optimizer_state.safetensors not found"):
        api.prove(cfg_for(d, "second.jsonl", resume=str(d / "adapter")))
    with pytest.raises(ConfigError, match="do not also give model.adapter"):
        api.prove(cfg_for(d, "second.jsonl", resume=str(d / "lnk1"),
                          adapter=str(d / "adapter")))
    bad = tmp_path / "bad"
    shutil.copytree(d / "lnk1", bad)
    (bad / lt.STATE_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="cannot read"):
        api.prove(cfg_for(d, "second.jsonl", resume=str(bad)))
    st = lt.TrainState.load(d / "lnk1")
    with pytest.raises(ConfigError, match="optimizer, master_scale"):
        api.prove(cfg_for(d, "second.jsonl", resume=str(d / "lnk1"), optimizer="sgd"))
    assert st.step == 1


def test_empty_chain_and_model_without_links(reg, small_matmul_proof):
    with pytest.raises(VerificationError, match="empty chain"):
        chain.verify_chain([])
    with pytest.raises(VerificationError, match="no linked proofs"):
        chain.verify_chain([small_matmul_proof, small_matmul_proof])


@pytest.fixture(scope="module")
def small_matmul_proof():
    return api.prove(config.load(None)).data


def test_start_step_in_public_params():
    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, head_dim=4)
    ad = tiny_adapter(arch, tiny_lora(r=2, alpha=4.0))
    from zklora.plugins.models.llama import ForwardSpec
    from zklora.zkcore.quant import QuantConfig

    spec = lt.TrainSpec(ForwardSpec(arch, ad.spec, QuantConfig(), 1, 4), 2, start_step=3)
    pub = spec.to_public()
    assert pub["start_step"] == 3 and lt.TrainSpec.from_public(pub) == spec
    names = lt.statement_tensors(pub)
    assert len(names["state_in"]) == len(names["state_out"]) > 0
    g = lt.build_train_graph(spec, [0, 0])
    assert all(g.tensors[n].kind == "committed" and g.producer(n) is None
               for n in names["state_in"])
    adam = [n for n in g.nodes if n.op == "adamw"]
    assert {n.params["step"] for n in adam} == {4, 5}
    with pytest.raises(ConfigError, match="start_step"):
        lt.TrainSpec(spec.fwd, 1, start_step=-1)
    # a resumed run needs the state, a fresh one must not get one
    with pytest.raises(ConfigError, match="resuming needs"):
        lt.train_inputs(spec, tiny_weights(arch), ad, [torch.zeros((1, 4), dtype=torch.long)])


def _restated(data: bytes, **changes) -> bytes:
    """The proof file with its statement's params changed (the proof bytes kept)."""
    from zklora.zkcore import proof as prooflib

    pf = prooflib.decode(data)
    st = json.loads(json.dumps(pf.statement))
    st["params"].update(changes)
    return prooflib.encode(st, pf.sections)


def test_resumed_statement_is_bound(linked):
    """A resumed proof's start_step and initial m̂ commitment are bound by the proof: a
    statement claiming another start step or another initial state is rejected."""
    from zklora.zkcore import proof as prooflib
    from zklora.zkcore.errors import ZkLoraError

    _, p2 = linked
    assert api.verify(p2.data)["params"]["start_step"] == 1
    with pytest.raises(ZkLoraError):
        api.verify(_restated(p2.data, start_step=2))
    pf = prooflib.decode(p2.data)
    st = json.loads(json.dumps(pf.statement))
    coms = st["commitments"]
    m0 = sorted(n for n in published.locate(coms) if n.startswith("opt0/") and
                n.endswith("/m"))[0]
    grp = coms[published.locate(coms)[m0][0]]
    h = grp["commitment"]
    grp["commitment"] = h[:-1] + ("0" if h[-1] != "0" else "1")
    with pytest.raises(ZkLoraError):
        api.verify(prooflib.encode(st, pf.sections))
    # two initial m̂ tensors (same size) exchanged in their group
    st = json.loads(json.dumps(pf.statement))
    ts = published.locate(st["commitments"])
    grp = st["commitments"][ts[m0][0]]["tensors"]
    i = [n for n, _, _ in grp].index(m0)
    j = next(k for k, (n, _, v) in enumerate(grp) if k != i and v == grp[i][2])
    grp[i][0], grp[j][0] = grp[j][0], grp[i][0]
    with pytest.raises(ZkLoraError):
        api.verify(prooflib.encode(st, pf.sections))


def test_cli_chain_json(linked, tmp_path):
    from click.testing import CliRunner

    from zklora.zkcore.cli import main

    p1, p2 = linked
    f1, f2 = _write(tmp_path / "a.zkp", p1.data), _write(tmp_path / "b.zkp", p2.data)
    r = CliRunner().invoke(main, ["verify", str(f1), str(f2), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["ok"] and (doc["start"], doc["end"]) == (0, 2)
    assert len(doc["statement_digests"]) == 2
    r = CliRunner().invoke(main, ["verify", str(f2), str(f1), "--json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and not doc["ok"] and "starts at step 0" in doc["error"]


def test_sgd_chain(micro_dirs, tmp_path):
    """SGD has no moments: its links are the adapters and the step index."""
    d = micro_dirs
    c1 = cfg_for(d, "one_a.jsonl", steps=1, optimizer="sgd", lr=0.05)
    p1 = api.prove(c1)
    api.write_trained_adapter(c1, tmp_path / "s1")
    st = lt.TrainState.load(tmp_path / "s1")
    assert st.optimizer == "sgd" and not st.m and st.step == 1
    p2 = api.prove(cfg_for(d, "one_b.jsonl", steps=1, optimizer="sgd", lr=0.05,
                           resume=str(tmp_path / "s1")))
    assert not lt.statement_tensors(p2.statement["params"])["state_in"]
    assert chain.verify_chain([p1.data, p2.data], start=0).end == 2
    with pytest.raises(VerificationError):
        chain.verify_chain([p2.data, p1.data])
