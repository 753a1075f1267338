"""The zklora command line, end to end on the matmul example."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zklora.zkcore.cli import main

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")


@pytest.fixture(scope="module")
def small_cfg(tmp_path_factory):
    p = tmp_path_factory.mktemp("cfg") / "mm.toml"
    p.write_text('profile = "debug"\n'
                 "[model]\nm = 8\nk = 8\nn = 4\nbound = 100\nseed = 1\n")
    return p


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_prove_verify_inspect(tmp_path, small_cfg):
    out = tmp_path / "m.zkp"
    r = run("prove", "--config", small_cfg, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert out.exists()
    r = run("verify", out)
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "matmul-example" in r.output
    r = run("inspect", out)
    assert r.exit_code == 0 and "op:matmul" in r.output and "openings" in r.output


def test_verify_rejects_altered_proof_and_statement(tmp_path, small_cfg):
    out = tmp_path / "m.zkp"
    assert run("prove", "--config", small_cfg, "--out", out, "--quiet").exit_code == 0
    data = out.read_bytes()
    bad = bytearray(data)
    bad[-40] ^= 4
    (tmp_path / "bad.zkp").write_bytes(bytes(bad))
    r = run("verify", tmp_path / "bad.zkp")
    assert r.exit_code != 0 and "REJECTED" in r.output
    stmt = data.replace(b'"bound":100', b'"bound":101')
    assert stmt != data
    (tmp_path / "stmt.zkp").write_bytes(stmt)
    r = run("verify", tmp_path / "stmt.zkp")
    assert r.exit_code != 0 and "REJECTED" in r.output


def test_expect_statement(tmp_path, small_cfg):
    out = tmp_path / "m.zkp"
    assert run("prove", "--config", small_cfg, "--out", out, "--quiet").exit_code == 0
    good = tmp_path / "good.toml"
    good.write_text('model = "matmul-example"\n[params]\nm = 8\n')
    assert run("verify", out, "--expect", good).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("[params]\nm = 16\n")
    r = run("verify", out, "--expect", bad)
    assert r.exit_code != 0 and "params.m" in r.output


def test_profile_flag_and_bad_config(tmp_path, small_cfg):
    r = run("prove", "--config", small_cfg, "--profile", "nope", "--out", tmp_path / "x.zkp")
    assert r.exit_code != 0 and "allowed: fast, paper, debug" in r.output
    assert not (tmp_path / "x.zkp").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nm = 3\n")
    r = run("prove", "--config", bad, "--out", tmp_path / "y.zkp")
    assert r.exit_code != 0 and "model.m" in r.output
    assert list(tmp_path.glob("*.part")) == [] and not (tmp_path / "y.zkp").exists()


def test_verify_garbage_and_missing(tmp_path):
    g = tmp_path / "g.zkp"
    g.write_bytes(b"hello")
    r = run("verify", g)
    assert r.exit_code != 0 and "REJECTED" in r.output
    r = run("verify", tmp_path / "missing.zkp")
    assert r.exit_code != 0 and "cannot read" in r.output
    r = run("inspect", g)
    assert r.exit_code != 0 and "error" in r.output


def test_plugins_lists_kinds():
    r = run("plugins")
    assert r.exit_code == 0
    assert "field" in r.output and "goldilocks" in r.output and "matmul" in r.output


def test_commit_model_and_forward_binding(tmp_path):
    """commit-model once; a forward proof verifies against it and not against another
    model's commitment."""
    mc = tmp_path / "tiny.commit"
    r = run("commit-model", "--model", "tiny", "--out", mc)
    assert r.exit_code == 0, r.output
    cfg = tmp_path / "fwd.toml"
    cfg.write_text('[task]\nmodel = "llama"\n[model]\nbatch = 1\nseq = 4\n')
    out = tmp_path / "f.zkp"
    r = run("prove", "--task", "forward", "--config", cfg, "--model-commitment", mc,
            "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert "loss =" in r.output
    r = run("verify", out, "--model-commitment", mc)
    assert r.exit_code == 0 and "OK" in r.output, r.output
    other = tmp_path / "gqa.commit"
    other_cfg = tmp_path / "gqa.toml"
    other_cfg.write_text('[task]\nmodel = "llama"\n[model]\nkv_heads = 2\n')
    from zklora.zkcore import api, config, proof

    doc = api.commit_model(config.load(other_cfg))
    proof.write_atomic(other, doc.to_bytes())
    r = run("verify", out, "--model-commitment", other)
    assert r.exit_code != 0 and "another base model" in r.output
    r = run("prove", "--task", "forward", "--config", cfg, "--model-commitment", other,
            "--out", tmp_path / "g.zkp", "--quiet")
    assert r.exit_code != 0 and "do not match" in r.output
    assert not (tmp_path / "g.zkp").exists()
