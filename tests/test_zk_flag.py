"""`zklora prove --zk/--no-zk` and ``zero_knowledge=`` in the Python API override the
config's ``[proof] zero_knowledge`` exactly as the key itself would."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zklora.zkcore import config, proof, pyapi
from zklora.zkcore.cli import main
from zklora.zkcore.errors import ConfigError

PARAMS = {"m": 8, "k": 4, "n": 4, "bound": 50, "seed": 5}


def test_override_matches_the_key():
    doc = {"profile": "fast", "model": dict(PARAMS)}
    by_key = config.from_dict({**doc, "proof": {"zero_knowledge": True}})
    by_arg = config.from_dict(doc, zero_knowledge=True)
    assert by_arg == by_key and by_arg.zero_knowledge
    assert by_arg.stack.commitment == config.ZK_COMMITMENT["fast"]
    # the argument wins over the file, both ways
    assert not config.from_dict({**doc, "proof": {"zero_knowledge": True}},
                                zero_knowledge=False).zero_knowledge
    # no argument, no key: the profile's default (`config.ZERO_KNOWLEDGE`)
    assert config.from_dict(doc, zero_knowledge=config.ZERO_KNOWLEDGE["fast"]) \
        == config.from_dict(doc)
    # a commitment the file names is kept
    named = config.from_dict({**doc, "proof": {"commitment": "hyrax", "field": "bls12-381-fr"}},
                             zero_knowledge=True)
    assert named.stack.commitment == "hyrax"


def test_python_api_refuses_a_non_bool():
    with pytest.raises(ConfigError, match="zero_knowledge"):
        pyapi.build_config(zero_knowledge="yes")


@pytest.mark.parametrize("flag,on", [("--zk", True), ("--no-zk", False)])
def test_cli_flag(tmp_path, flag, on):
    cfg = tmp_path / "c.toml"
    cfg.write_text("profile = \"fast\"\n[model]\nm = 8\nk = 4\nn = 4\nbound = 50\nseed = 5\n"
                   "[proof]\nzero_knowledge = %s\n" % ("false" if on else "true"))
    out = tmp_path / "p.zkp"
    r = CliRunner().invoke(main, ["prove", "--config", str(cfg), "--out", str(out), "--quiet",
                                  flag])
    assert r.exit_code == 0, r.output
    assert proof.decode(out.read_bytes()).statement["zero_knowledge"] is on
    r = CliRunner().invoke(main, ["verify", str(out)])
    assert r.exit_code == 0, r.output
    assert f"zero knowledge: {'on' if on else 'off'}" in r.output


@pytest.mark.parametrize("commitment", ["whir", "plain"])
def test_zero_knowledge_with_a_binding_only_scheme_is_refused(tmp_path, commitment):
    """A proof marked zero-knowledge must not commit with a scheme that does not hide
    (WHIR without its hiding flag, plain): refused before anything is proven."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("profile = \"fast\"\n[model]\nm = 8\nk = 4\nn = 4\nbound = 50\nseed = 5\n"
                   f"[proof]\ncommitment = \"{commitment}\"\nzero_knowledge = true\n")
    out = tmp_path / "p.zkp"
    r = CliRunner().invoke(main, ["prove", "--config", str(cfg), "--out", str(out), "--quiet"])
    assert r.exit_code != 0
    assert "does not hide" in r.output and "--no-zk" in r.output
    assert not out.exists()
    # the same without zero knowledge proves
    r = CliRunner().invoke(main, ["prove", "--config", str(cfg), "--out", str(out), "--quiet",
                                  "--no-zk"])
    assert r.exit_code == 0, r.output
