"""Whole proofs under the real profiles: fast (goldilocks/ligero/logup-gkr) and paper
(bls12-381-fr/hyrax/tlookup), through the public API and the proof file."""

from __future__ import annotations

import pytest

from zklora.zkcore import api, config
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ZkLoraError
from zklora.zkcore.testing.tamper import assert_rejected, bump

from .test_rescale_op import rescale_graph, wit

PROFILES = ["fast", "paper"]


@pytest.mark.parametrize("profile", PROFILES)
def test_matmul_example_under_profile(profile):
    cfg = config.from_dict({"model": {"m": 16, "k": 32, "n": 8, "seed": 2}}, profile=profile)
    res = api.prove(cfg)
    st = api.verify(res.data)
    # the profile's stack, with its hiding scheme under its zero-knowledge default
    assert st["zero_knowledge"] is config.ZERO_KNOWLEDGE[profile] is cfg.zero_knowledge
    zk_scheme = config.ZK_COMMITMENT.get(profile) if cfg.zero_knowledge else None
    assert st["stack"] == {**config.PROFILES[profile].as_dict(),
                           **({"commitment": zk_scheme} if zk_scheme else {})}
    for pos in (len(res.data) - 1, len(res.data) // 2, len(res.data) - 200):
        bad = bytearray(res.data)
        bad[pos] ^= 0x40
        with pytest.raises(ZkLoraError):
            api.verify(bytes(bad))


@pytest.mark.parametrize("profile", PROFILES)
def test_lookups_and_openings_under_profile(profile, reg):
    be = config.resolve(config.PROFILES[profile], reg)
    g = rescale_graph()
    stream, sections = graphlib.prove(g, wit(), be, {"p": profile})
    graphlib.verify(g, stream, be, {"p": profile}, sections)
    for t in ("X", "Y", "R"):
        assert_rejected(g, wit(), be, {"p": profile}, bump(t, 5))


def test_proof_of_one_profile_does_not_verify_under_another():
    res = api.prove(config.from_dict({"model": {"m": 8, "k": 8, "n": 8}}, profile="fast"))
    from zklora.zkcore import proof

    pf = proof.decode(res.data)
    st = dict(pf.statement)
    st["stack"] = dict(st["stack"], hash="sha256")
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))
