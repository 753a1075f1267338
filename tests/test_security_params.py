"""Security parameters are the verifier's (issue 9, point 3): the verifier computes the
soundness level from the statement's commitment and lookup parameters and the challenge
field, and rejects below `security.MIN_SECURITY_BITS`, naming the parameter and the
bits; the prover refuses a weakened configuration before doing any work."""

from __future__ import annotations

import copy
import time

import pytest
from click.testing import CliRunner

from zklora.zkcore import api, config, proof, security
from zklora.zkcore.cli import main
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.plugins import registry

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

MM = {"m": 8, "k": 8, "n": 4, "bound": 100, "seed": 1}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _prove(profile: str = "fast", scheme: str | None = None, **commitment) -> bytes:
    d: dict = {"profile": profile, "model": dict(MM)}
    if scheme:
        d["proof"] = {"commitment": scheme}
    if commitment:
        d["commitment"] = commitment
    return api.prove(config.from_dict(d)).data


@pytest.fixture(scope="module")
def fast_proof() -> bytes:
    return _prove(scheme="ligero")  # the tests below weaken ligero's parameters


def _with_params(data: bytes, key: str, params: dict) -> bytes:
    pf = proof.decode(data)
    st = copy.deepcopy(dict(pf.statement))
    st[key] = params
    return proof.encode(st, pf.sections)


# -- the verifier rejects weakened statements (plain `zklora verify`, no flags) ------------

@pytest.mark.parametrize("params, named, bits", [
    ({"num_queries": 1, "rate_log": 1, "security_bits": 1}, "ligero num_queries = 1 (rate 1/2)",
     0.4),
    ({"security_bits": 1}, "ligero security_bits = 1 (num_queries = 3, rate 1/4)", 2.0),
    ({"num_queries": 149, "rate_log": 1}, "ligero num_queries = 149 (rate 1/2)", 61.8),
    ({"num_queries": 147}, "ligero num_queries = 147 (rate 1/4)", 99.7),
])
def test_weakened_ligero_statement_rejected(fast_proof, tmp_path, params, named, bits):
    path = tmp_path / "weak.zkp"
    path.write_bytes(_with_params(fast_proof, "commitment_params", params))
    t0 = time.perf_counter()
    r = run("verify", path)
    assert r.exit_code != 0
    assert (f"REJECTED: {named} gives {bits:.1f} bits of soundness "
            f"(< {security.MIN_SECURITY_BITS} required)") in r.output, r.output
    assert time.perf_counter() - t0 < 5  # refused before any proof work
    # the same through the Python API: the security check, not a transcript mismatch
    with pytest.raises(VerificationError, match="bits of soundness") as e:
        api.verify(path.read_bytes())
    assert "sumcheck" not in str(e.value) and "does not match" not in str(e.value)


def test_floor_is_not_read_from_the_statement(fast_proof):
    pf = proof.decode(fast_proof)
    st = copy.deepcopy(dict(pf.statement))
    st["min_security_bits"] = 1
    st["commitment_params"] = {"num_queries": 1}
    with pytest.raises(ProofFormatError, match="unexpected or missing fields"):
        api.verify(proof.encode(st, pf.sections))


def test_stronger_custom_value_accepted_and_shown(tmp_path):
    data = _prove(scheme="ligero", ligero={"num_queries": 200})
    st = api.verify(data)
    assert st["commitment_params"] == {"num_queries": 200}
    rep = api.security_bits(st)
    terms = {t["parameter"]: t["bits"] for t in rep["terms"]}
    q = terms["ligero num_queries = 200 (rate 1/4)"]
    assert q == pytest.approx(200 * 0.678, abs=0.1)
    assert rep["bits"] == min(terms.values()) >= security.MIN_SECURITY_BITS
    path = tmp_path / "strong.zkp"
    path.write_bytes(data)
    r = run("verify", path)
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and f"soundness {rep['bits']:.0f} bits" in r.output


def test_default_profiles_meet_the_floor():
    for profile in ("fast", "paper", "debug"):
        data = _prove(profile)
        rep = api.security_bits(api.verify(data))
        assert rep["bits"] >= security.MIN_SECURITY_BITS, (profile, rep)
        names = " ".join(t["parameter"] for t in rep["terms"])
        assert "challenge field" in names and "hash" in names


# -- the prover refuses a weakened config early ------------------------------------------

@pytest.mark.parametrize("params, named", [
    ({"num_queries": 1}, "ligero num_queries = 1"),
    ({"security_bits": 50}, "ligero security_bits = 50"),
    ({"rate_log": 4, "num_queries": 80}, "ligero num_queries = 80 (rate 1/16)"),
])
def test_prove_with_weakened_config_fails_early(params, named, monkeypatch):
    from zklora.zkcore import graph as graphlib

    def no_work(*a, **k):
        raise AssertionError("proof work started")

    monkeypatch.setattr(graphlib, "prove", no_work)
    monkeypatch.setattr(graphlib, "forward", no_work)
    cfg = config.from_dict({"profile": "fast", "model": dict(MM),
                            "proof": {"commitment": "ligero"},
                            "commitment": {"ligero": params}})
    with pytest.raises(ConfigError, match="bits of soundness") as e:
        api.prove(cfg)
    assert named in str(e.value)


def test_cli_prove_with_weakened_config(tmp_path):
    cfg = tmp_path / "weak.toml"
    cfg.write_text('profile = "fast"\n[model]\nm = 4\nk = 4\nn = 4\n'
                   '[proof]\ncommitment = "ligero"\n'
                   "[commitment.ligero]\nnum_queries = 1\nrate_log = 1\nsecurity_bits = 1\n")
    r = run("prove", "--config", cfg, "--out", tmp_path / "x.zkp", "--quiet")
    assert r.exit_code != 0
    assert "ligero num_queries = 1 (rate 1/2) gives 0.4 bits of soundness" in r.output
    assert not (tmp_path / "x.zkp").exists()


def test_ligero_parameter_caps():
    F = registry().field("goldilocks")
    Ligero = registry().commitment("ligero")
    for bad in ({"num_queries": 513}, {"security_bits": 193}):
        with pytest.raises(ConfigError):
            Ligero(F, bad)
    for rate_log in (1, 2, 3, 4):  # the largest security_bits stays within the query cap
        Ligero(F, {"rate_log": rate_log, "security_bits": 192})


def test_ligero_codeword_length_grows_with_size():
    """`Ligero.soundness` bounds every table's codeword length by the largest size's."""
    from zklora.plugins.commitments.ligero import Layout, LigeroParams

    for rate_log in (1, 2, 4):
        p = LigeroParams.parse({"rate_log": rate_log})
        lengths = [Layout.choose(n, p).length for n in range(0, 29)]
        assert lengths == sorted(lengths)


# -- hyrax and plain ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def paper_proof() -> bytes:
    return _prove("paper")


@pytest.mark.parametrize("seed", [1 << 40, "", "x" * 129, "bad\nseed", ["a"]])
def test_malformed_hyrax_seed_rejected(paper_proof, seed):
    with pytest.raises(ProofFormatError, match="hyrax: seed must be"):
        api.verify(_with_params(paper_proof, "commitment_params", {"seed": seed}))


def test_hyrax_terms(paper_proof):
    rep = api.security_bits(api.verify(paper_proof))
    assert "standard seed" in rep["limiting"] and rep["bits"] == pytest.approx(117.0)
    F = registry().field("bls12-381-fr")
    custom = registry().commitment("hyrax")(F, {"seed": "my/seed"}).soundness(F)
    assert "custom seed 'my/seed'" in custom[0].parameter


def test_plain_is_bound_by_its_hash():
    F = registry().field("goldilocks")
    terms = registry().commitment("plain")(F).soundness(F.ext, 1 << 20)
    assert [t.parameter for t in terms] == ["plain commitment hash = blake3"]
    assert terms[0].bits == 128


# -- the challenge field ------------------------------------------------------------------

def test_challenge_field_term_shrinks_with_the_claims():
    E = registry().field("goldilocks").ext
    small = security.challenge_term(E, 1 << 20)
    big = security.challenge_term(E, 1 << 30)
    assert small.bits == pytest.approx(128 - 20, abs=0.01)
    assert big.bits == pytest.approx(small.bits - 10, abs=0.01)
    assert big.bits < security.MIN_SECURITY_BITS
    assert "goldilocks-ext2" in big.message() and "2^30.0 claims" in big.message()
    Fr = registry().field("bls12-381-fr")
    assert security.challenge_term(Fr, 1 << 28).bits > 200


def test_claim_bound_does_not_grow_with_the_batch():
    """The claim bound of a graph depends on its nodes and tensors, not on their sizes:
    many chained tiny steps stay far above the floor."""
    from zklora.zkcore.graph import Graph

    def g(n):
        gr = Graph()
        gr.tensor("X", (n, n), "committed", (-4, 4))
        gr.tensor("W", (n, n), "committed", (-4, 4))
        gr.tensor("Y", (n, n), "committed", (-64 * n, 64 * n))
        gr.op("matmul", "y", ["X", "W"], ["Y"])
        return gr

    assert security.claim_bound(g(4)) == security.claim_bound(g(1024)) == 8 * (3 + 3)


def test_exact_lookup_check():
    E = registry().field("goldilocks").ext
    assert security.check_lookup(E, 1 << 20, 1 << 16, "ok") == 1  # 2^-108
    with pytest.raises(VerificationError, match=r"lookup big \(1073741824 rows into "
                                                r"16777216 table rows, 1 challenge set\) "
                                                r"in goldilocks-ext2 gives 98.0 bits"):
        security.check_lookup(E, 1 << 30, 1 << 24, "big")
    with pytest.raises(ConfigError, match="bits of soundness"):
        security.check_lookup(E, 1 << 30, 1 << 24, "big", prover=True)
    # an argument that can repeat its challenges is asked for two sets instead
    assert security.check_lookup(E, 1 << 30, 1 << 24, "big", most=16) == 2


def test_scheme_without_soundness_is_refused():
    from zklora.zkcore.commit import CommitmentScheme

    class Silent(CommitmentScheme):
        name = "silent"

        def commitment_size(self, num_vars):
            return 32

        def commit(self, values):
            raise NotImplementedError

        def open(self, ch, items):
            raise NotImplementedError

        def verify(self, ch, items):
            raise NotImplementedError

    F = registry().field("goldilocks")
    backend = config.resolve(config.Stack("goldilocks", "plain", "logup-gkr"), registry())
    backend.scheme = Silent(F)
    with pytest.raises(VerificationError, match="commitment silent .states no soundness. "
                                                "gives 0.0 bits"):
        security.assess(backend).enforce()
