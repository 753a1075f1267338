"""The `fast` profile's stack: WHIR in the conjectured regime with ``first_fold = 5`` from
2^23, ``first_shrink = 4`` and ``later_shrink = 2`` by default (the config's own keys win),
hiding Ligero when zero knowledge is asked for without naming a scheme, and the defaults
land in the statement the verifier checks."""

from __future__ import annotations

import pytest

from zklora.zkcore import api, config
from zklora.zkcore.errors import ConfigError

# the ZK-off defaults (WHIR under `fast`) are what this file pins (conftest.zk_off)
pytestmark = pytest.mark.usefixtures("zk_off")

MM = {"m": 4, "k": 4, "n": 4, "bound": 100, "seed": 3}
FAST = {"regime": "conjectured", "first_fold": 5, "first_shrink": 4, "later_shrink": 2,
        "first_fold_from": 23}


def test_fast_defaults_to_conjectured_whir():
    c = config.from_dict({})
    assert c.profile == "fast" and c.stack.commitment == "whir"
    assert c.commitment_params == {"whir": FAST}


def test_config_keys_win_over_the_profile_defaults():
    c = config.from_dict({"commitment": {"whir": {"regime": "unique", "security_bits": 110}}})
    assert c.commitment_params["whir"] == {**FAST, "regime": "unique", "security_bits": 110}
    c = config.from_dict({"commitment": {"whir": {"security_bits": 110, "first_shrink": 2}}})
    assert c.commitment_params["whir"] == {**FAST, "first_shrink": 2, "security_bits": 110}
    c = config.from_dict({"proof": {"commitment": "ligero"},
                          "commitment": {"ligero": {"rate_log": 3}}})
    assert c.stack.commitment == "ligero" and c.commitment_params["ligero"] == {"rate_log": 3}


def test_other_profiles_have_no_defaults():
    for prof in ("paper", "debug"):
        c = config.from_dict({"profile": prof})
        assert c.commitment_params == {}
    assert config.from_dict({"profile": "debug"}).stack.commitment == "plain"


def test_zero_knowledge_takes_hiding_ligero_unless_a_scheme_is_named():
    c = config.from_dict({"proof": {"zero_knowledge": True}})
    assert c.zero_knowledge and c.stack.commitment == "ligero"
    c = config.from_dict({"proof": {"zero_knowledge": True, "commitment": "whir"}})
    assert c.stack.commitment == "whir"
    assert config.from_dict({"profile": "paper", "proof": {"zero_knowledge": True}}) \
        .stack.commitment == "hyrax"
    with pytest.raises(ConfigError):
        config.from_dict({"proof": {"zero_knowledge": "yes"}})


def test_statement_records_the_profile_default_and_verifies():
    res = api.prove(config.from_dict({"model": dict(MM)}))
    st = res.statement
    assert st["stack"]["commitment"] == "whir"
    assert st["commitment_params"] == FAST
    assert api.verify(res.data)["commitment_params"] == FAST
    assert api.security_bits(st)["bits"] >= 100
