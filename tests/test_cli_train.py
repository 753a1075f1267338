"""The training workflow from the command line: commit-model, prove --steps with
--adapter-out, verify --model-commitment / --expect, inspect, and bad input."""

from __future__ import annotations

import json

import pytest

from zklora.plugins.models.hf import load_adapter
from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, write_tiny_adapter

from .test_cli import run

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

SMALL = '[task]\nmodel = "llama-train"\n[model]\nbatch = 1\nseq = 4\n'


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    (d / "small.toml").write_text(SMALL)
    r = run("commit-model", "--model", "tiny", "--out", d / "model.commit")
    assert r.exit_code == 0, r.output
    r = run("prove", "--config", d / "small.toml", "--steps", "2", "--lr", "0.002",
            "--model-commitment", d / "model.commit", "--out", d / "run.zkp",
            "--adapter-out", d / "adapter-out", "--quiet")
    assert r.exit_code == 0, r.output
    return d


def test_prove_writes_proof_and_peft_adapter(trained):
    assert (trained / "run.zkp").stat().st_size > 0
    ad = load_adapter(trained / "adapter-out", tiny_arch())
    assert ad.spec.r == 4
    cfg = json.loads((trained / "adapter-out" / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "LORA" and cfg["lora_dropout"] == 0.0


def test_verify_against_model_commitment_and_expectations(trained):
    r = run("verify", trained / "run.zkp", "--model-commitment", trained / "model.commit")
    assert r.exit_code == 0 and "OK" in r.output, r.output
    exp = trained / "expect.toml"
    exp.write_text('model = "llama-train"\n[params]\nsteps = 2\n[params.optim]\nlr = 0.002\n')
    assert run("verify", trained / "run.zkp", "--expect", exp).exit_code == 0
    exp.write_text("[params.optim]\nlr = 0.001\n")
    r = run("verify", trained / "run.zkp", "--expect", exp)
    assert r.exit_code != 0 and "params.optim.lr" in r.output
    r = run("inspect", trained / "run.zkp")
    assert r.exit_code == 0 and "openings" in r.output and "llama-train" in r.output


def test_proof_for_another_base_model_rejected(trained, tmp_path):
    other = tmp_path / "gqa.toml"
    other.write_text('[model]\nkv_heads = 2\n')
    from zklora.zkcore import api, config, proof

    cfg = config.load(other)
    cfg = config.Config(cfg.profile, cfg.stack, "llama", {"model": "tiny", "kv_heads": 2})
    proof.write_atomic(tmp_path / "gqa.commit", api.commit_model(cfg).to_bytes())
    r = run("verify", trained / "run.zkp", "--model-commitment", tmp_path / "gqa.commit")
    assert r.exit_code != 0 and "another base model" in r.output


def test_adapter_out_must_be_new(trained):
    r = run("prove", "--config", trained / "small.toml", "--steps", "1",
            "--out", trained / "x.zkp", "--adapter-out", trained / "adapter-out", "--quiet")
    assert r.exit_code != 0 and "not empty" in r.output


def test_bad_training_input(tmp_path):
    (tmp_path / "small.toml").write_text(SMALL)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = run("prove", "--config", tmp_path / "small.toml", "--data", empty, "--out",
            tmp_path / "a.zkp")
    assert r.exit_code != 0 and "no input_ids" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input_ids": [1, 2, "x"]}\n')
    r = run("prove", "--config", tmp_path / "small.toml", "--data", bad, "--out",
            tmp_path / "b.zkp")
    assert r.exit_code != 0 and "input_ids" in r.output
    gqa_adapter = write_tiny_adapter(tmp_path / "gqa-adapter",
                                     tiny_adapter(tiny_arch(num_kv_heads=2)))
    r = run("prove", "--config", tmp_path / "small.toml", "--adapter", gqa_adapter,
            "--out", tmp_path / "c.zkp")
    assert r.exit_code != 0 and "adapter" in r.output
    cfg = json.loads((gqa_adapter / "adapter_config.json").read_text())
    cfg["lora_dropout"] = 0.1
    (gqa_adapter / "adapter_config.json").write_text(json.dumps(cfg))
    r = run("prove", "--config", tmp_path / "small.toml", "--adapter", gqa_adapter,
            "--out", tmp_path / "d.zkp")
    assert r.exit_code != 0 and "dropout" in r.output
    r = run("prove", "--steps", "1", "--optimizer", "adamw", "--lr", "-1",
            "--config", tmp_path / "small.toml", "--out", tmp_path / "e.zkp")
    assert r.exit_code != 0
    assert not list(tmp_path.glob("*.zkp")) and not list(tmp_path.glob("*.part"))


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    import os

    from zklora.zkcore import proof

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        proof.write_atomic(tmp_path / "p.zkp", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_statement_carries_chain_commitments(trained):
    """Batch, initial adapters and the adapters/state after every step are committed in
    the statement; changing one commitment there makes verification fail."""
    from zklora.zkcore import api, proof, published
    from zklora.zkcore.errors import ZkLoraError

    data = (trained / "run.zkp").read_bytes()
    pf = proof.decode(data)
    coms = pf.statement["commitments"]
    where = published.locate(coms)          # tensor → (group, offset, num_vars)
    assert "ids" in where and "l0.q.A" in where
    assert any(n.startswith("s0/opt/") and n.endswith("/theta") for n in where)
    assert any(n.startswith("s1/opt/") and n.endswith("/v") for n in where)
    assert where["ids"][0] == "data" and where["l0.q.A"][0] == "adapters_in"
    for name in ("ids", "l0.q.A", sorted(n for n in where if n.startswith("s1/"))[0]):
        other = json.loads(json.dumps(coms))
        g = other[where[name][0]]
        g["commitment"] = g["commitment"][:-1] + ("0" if g["commitment"][-1] != "0" else "1")
        st = dict(pf.statement, commitments=other)
        with pytest.raises(ZkLoraError):
            api.verify(proof.encode(st, pf.sections))
    st = dict(pf.statement, commitments={k: v for k, v in coms.items() if k != "data"})
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))


def test_verify_checks_delivered_adapters(trained, tmp_path):
    """The trained adapter written by --adapter-out (and the initial tiny adapter) match
    the statement's commitments; a modified adapter does not."""
    init = write_tiny_adapter(tmp_path / "init")
    r = run("verify", trained / "run.zkp", "--adapter-in", init,
            "--adapter-out", trained / "adapter-out")
    assert r.exit_code == 0 and "adapter-out" in r.output, r.output
    r = run("verify", trained / "run.zkp", "--adapter-out", init)
    assert r.exit_code != 0 and "not the one the proof commits to" in r.output
    ad = load_adapter(trained / "adapter-out", tiny_arch())
    ad.pairs[(0, "q")].A[0, 0] += 1e-3
    from zklora.plugins.models.hf import save_adapter

    save_adapter(tmp_path / "bad", ad)
    r = run("verify", trained / "run.zkp", "--adapter-out", tmp_path / "bad")
    assert r.exit_code != 0 and "REJECTED" in r.output
