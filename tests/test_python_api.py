"""The Python API: zklora.commit_model → prove → verify → inspect, its errors, the
adapter it writes, and the runnable example of docs/python-api.md."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import zklora
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

ROOT = Path(__file__).resolve().parents[1]
MM = {"profile": "debug", "model": {"m": 8, "k": 8, "n": 4, "bound": 100, "seed": 1}}
TRAIN = {"task": {"model": "llama-train"}, "model": {"batch": 1, "seq": 4}}


def test_matmul_round_trip(tmp_path):
    res = zklora.prove(config=MM, out=tmp_path / "m.zkp")
    assert isinstance(res, zklora.ProveResult)
    assert res.model == "matmul-example" and res.losses == []
    assert res.path == tmp_path / "m.zkp" and res.proof_size == len(res.data)
    assert (tmp_path / "m.zkp").read_bytes() == res.data
    assert {"commitments", "prove", "lookups", "openings"} <= set(res.timings)
    assert res.peak_rss > 0 and res.total_seconds >= res.prove_seconds > 0
    v = zklora.verify(tmp_path / "m.zkp")
    assert v.ok and v.statement == res.statement
    assert v.statement_digest == res.statement_digest == zklora.statement_digest(v.statement)
    assert zklora.verify(res.data).statement_digest == res.statement_digest
    info = zklora.inspect(tmp_path / "m.zkp")
    assert info.size == res.proof_size and "stream" in info.sections
    assert json.dumps(res.as_dict()) and json.dumps(v.as_dict()) and json.dumps(info.as_dict())
    assert zklora.prove(config=MM).path is None  # in memory only


def test_errors_are_project_errors(tmp_path):
    with pytest.raises(ConfigError, match="steps"):
        zklora.prove(steps=0)
    with pytest.raises(ConfigError, match="train task"):
        zklora.prove(task="forward", steps=1)
    with pytest.raises(ConfigError, match="betas"):
        zklora.prove(steps=1, betas="0.9")
    with pytest.raises(ConfigError, match="profile"):
        zklora.prove(config=MM, profile="nope")
    with pytest.raises(ProofFormatError):
        zklora.verify(b"not a proof")
    with pytest.raises(ConfigError, match="cannot read"):
        zklora.verify(tmp_path / "missing.zkp")
    res = zklora.prove(config=MM)
    with pytest.raises(VerificationError, match="params.m"):
        zklora.verify(res.data, expect={"params": {"m": 16}})
    assert issubclass(VerificationError, zklora.ZkLoraError)


def test_tiny_training_round_trip(tmp_path):
    """commit_model → prove (1 step, batch 1×4, --adapter-out) → verify with the model
    commitment, an expectation and the delivered adapter → inspect."""
    mc = zklora.commit_model("tiny", out=tmp_path / "model.commit")
    assert len(mc.digest) == 64 and mc.tensors > 0
    res = zklora.prove(model="tiny", steps=1, lr=2e-3, betas=(0.9, 0.99), config=TRAIN,
                       model_commitment=tmp_path / "model.commit", out=tmp_path / "run.zkp",
                       adapter_out=tmp_path / "adapter")
    assert res.model == "llama-train" and len(res.losses) == 1
    assert isinstance(res.losses[0], float) and 0 < res.losses[0] < 20
    assert res.statement["model_commitment"] == mc.digest
    v = zklora.verify(tmp_path / "run.zkp", model_commitment=tmp_path / "model.commit",
                      expect={"params": {"steps": 1, "optim": {"lr": 2e-3}}},
                      adapter_out=tmp_path / "adapter")
    assert v.adapters == {"out": 8} and v.losses == res.losses
    info = zklora.inspect(tmp_path / "run.zkp")
    assert info.statement == v.statement and "model" in info.sections

    # the adapter directory: peft files, ordinary permissions, a model card with the digest
    ad = tmp_path / "adapter"
    assert {p.name for p in ad.iterdir()} >= {"adapter_config.json",
                                              "adapter_model.safetensors", "README.md"}
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(ad.stat().st_mode) == 0o777 & ~umask
    for f in ad.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f
    card = (ad / "README.md").read_text()
    assert res.statement_digest in card and "zklora verify" in card
    cfg = json.loads((ad / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] is None  # the built-in tiny model has no directory

    # another adapter is rejected, naming its published group (peft names of the first
    # members): the adapter tensors are committed together, one commitment per group
    from zklora.plugins.models.hf import load_adapter, save_adapter
    from zklora.plugins.models.tiny import tiny_arch

    other = load_adapter(ad, tiny_arch())
    other.pairs[(1, "v")].B[0, 0] += 0.01
    save_adapter(tmp_path / "other", other)
    with pytest.raises(VerificationError,
                       match=r"tensor group adapters_out \(base_model\.model\.model\.layers"
                             r"\.0\.self_attn\.q_proj\.lora_A\.weight.*is not the one the "
                             r"proof commits to"):
        zklora.verify(res.data, adapter_out=tmp_path / "other")


def test_adapter_base_model_from_input_adapter(tmp_path):
    """base_model_name_or_path is taken from the input adapter's config."""
    from zklora.plugins.models.tiny import write_tiny_adapter

    src = write_tiny_adapter(tmp_path / "in")
    cfg = json.loads((src / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "some-org/tiny-llama"
    (src / "adapter_config.json").write_text(json.dumps(cfg))
    zklora.prove(model="tiny", adapter=src, steps=1, config=TRAIN,
                 adapter_out=tmp_path / "out")
    out = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert out["base_model_name_or_path"] == "some-org/tiny-llama"


def test_adapter_out_checked_before_proving(tmp_path, monkeypatch):
    from zklora.zkcore import api

    monkeypatch.setattr(api, "prove", lambda *a, **k: pytest.fail("proving started"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        zklora.prove(steps=1, adapter_out=tmp_path / "full", out=tmp_path / "p.zkp")
    assert not (tmp_path / "p.zkp").exists()


def test_docs_example_runs(tmp_path):
    """The example of docs/python-api.md, as written, in a fresh interpreter."""
    doc = (ROOT / "docs" / "python-api.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    assert "rejected as expected" in p.stdout and "bad input" in p.stdout
    assert (tmp_path / "run.zkp").exists() and (tmp_path / "adapter-out" / "README.md").exists()


@pytest.mark.slow
def test_trained_adapter_loads_with_auto_peft(tmp_path):
    """With a base-model directory, the written adapter loads with
    AutoPeftModelForCausalLM (base_model_name_or_path points at it)."""
    pytest.importorskip("peft")
    from peft import AutoPeftModelForCausalLM

    from zklora.plugins.models.tiny import write_tiny_adapter, write_tiny_model

    model = write_tiny_model(tmp_path / "base")
    adapter = write_tiny_adapter(tmp_path / "in")
    zklora.prove(model=model, adapter=adapter, steps=1, config=TRAIN,
                 adapter_out=tmp_path / "out")
    cfg = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(model.resolve())
    m = AutoPeftModelForCausalLM.from_pretrained(str(tmp_path / "out"))
    assert m.peft_config["default"].r == 4
