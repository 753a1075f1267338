"""Config loading: profiles, overrides, and errors that name the key and allowed values."""

from __future__ import annotations

import attrs
import pytest

from zklora.zkcore import config
from zklora.zkcore.errors import ConfigError


def test_defaults():
    cfg = config.from_dict({})
    assert cfg.profile == "fast"
    # the profile's stack; under its zero-knowledge default, its hiding commitment
    assert cfg.zero_knowledge is config.ZERO_KNOWLEDGE["fast"]
    assert cfg.stack == (attrs.evolve(config.PROFILES["fast"],
                                      commitment=config.ZK_COMMITMENT["fast"])
                         if cfg.zero_knowledge else config.PROFILES["fast"])
    assert cfg.model == "matmul-example"


def test_profile_override_and_proof_overrides():
    cfg = config.from_dict({"profile": "fast", "proof": {"commitment": "plain"}}, profile="paper")
    assert cfg.profile == "paper"
    assert cfg.stack.field == "bls12-381-fr"
    assert cfg.stack.commitment == "plain"


@pytest.mark.parametrize("doc,match", [
    ({"profil": "fast"}, r"unknown key 'profil'; allowed: profile"),
    ({"profile": "quick"}, r"'quick' is not a profile; allowed: fast, paper, debug"),
    ({"proof": {"feld": "x"}}, r"proof: unknown key 'feld'; allowed: field"),
    ({"proof": {"hash": "md5"}}, r"proof.hash: 'md5' not allowed; allowed: blake3, sha256"),
    ({"task": {"model": 3}}, r"task.model"),
    ({"task": {"modle": "x"}}, r"task: unknown key 'modle'"),
    ({"model": 3}, r"model: expected a table"),
])
def test_errors_name_key_and_allowed(doc, match):
    with pytest.raises(ConfigError, match=match):
        config.from_dict(doc)


def test_incompatible_stack_rejected(reg):
    stack = config.Stack("goldilocks", "plain", "", "blake3")
    config.resolve(stack, reg)
    with pytest.raises(ConfigError, match="unknown commitment 'nope'"):
        config.resolve(config.Stack("goldilocks", "nope", "", "blake3"), reg)
    with pytest.raises(ConfigError, match="extension field"):
        config.resolve(config.Stack("goldilocks-ext2", "plain", "", "blake3"), reg)
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        config.resolve(stack, reg, {"plain": {"bogus": 1}})


def test_hyrax_needs_bls_field(reg):
    if "hyrax" not in reg.names("commitment"):
        pytest.skip("hyrax not registered")
    with pytest.raises(ConfigError, match="does not support field 'goldilocks'"):
        config.resolve(config.Stack("goldilocks", "hyrax", "", "blake3"), reg)


def test_load_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("profile = [")
    with pytest.raises(ConfigError, match="invalid TOML"):
        config.load(bad)
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(tmp_path / "missing.toml")
    good = tmp_path / "ok.toml"
    good.write_text('profile = "paper"\n[model]\nm = 8\n')
    cfg = config.load(good, profile="debug")
    assert cfg.profile == "debug" and cfg.model_params == {"m": 8}
