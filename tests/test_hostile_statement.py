"""A hostile statement is refused before the verifier builds anything big (issue 9,
point 4): per-dimension limits, the total-work budget, malformed dimension types, and
resource errors turned into ``REJECTED:`` lines.

The proofs below are a real tiny-model forward proof whose statement is edited and
re-encoded: the verifier must refuse on the limits, before the transcript mismatch
could be noticed.  The 2^20 cases run the real ``zklora verify`` in a subprocess under
``RLIMIT_AS`` = 1 GiB (importing torch, numba and the plugins fits in it: the
registry's import peaks at ≈ 0.4 GiB RSS) and check the time spent after the imports
(< 5 s) and the child's peak RSS (≤ 1 GiB).
"""

from __future__ import annotations

import copy
import json
import math
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from zklora.zkcore import api, config, proof, security
from zklora.zkcore.errors import ProofFormatError, VerificationError, ZkLoraError
from zklora.zkcore.plugins import registry

GiB = 1 << 30

TINY = {"profile": "fast", "task": {"model": "llama"},
        "model": {"model": "tiny", "batch": 1, "seq": 8}}


@pytest.fixture(scope="module")
def tiny_proof() -> bytes:
    return api.prove(config.from_dict(TINY)).data


def _edit(data: bytes, **changes) -> bytes:
    """The proof with statement params changed (``path=value``, ``arch.x`` nests)."""
    pf = proof.decode(data)
    st = copy.deepcopy(dict(pf.statement))
    for key, value in changes.items():
        d = st["params"]
        *path, last = key.split("__")
        for k in path:
            d = d[k]
        d[last] = value
    return proof.encode(st, pf.sections)


BIG = 1 << 20
HOSTILE = {
    "seq": {"seq": BIG, "arch__max_position_embeddings": BIG},
    "batch": {"batch": BIG},
    "vocab": {"arch__vocab_size": BIG},
    "hidden": {"arch__hidden_size": BIG},
}

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from zklora.zkcore import cli
from zklora.zkcore.plugins import registry
registry()
t1 = time.perf_counter()
code = 0
try:
    cli.main(args=["verify", sys.argv[1]], prog_name="zklora")
except SystemExit as e:
    code = e.code
t2 = time.perf_counter()
# VmHWM: this process' own peak (ru_maxrss would carry over the forking pytest's peak
# across exec on Linux)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
with open(sys.argv[2], "w") as f:
    json.dump({"import_s": t1 - t0, "verify_s": t2 - t1, "rss": rss, "code": code}, f)
"""


def _run_verify_limited(path: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (GiB, GiB))

    report = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(report)],
                       preexec_fn=limit, capture_output=True, text=True, timeout=120)
    return r, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_2_20_dimension_rejected_fast_and_small(tiny_proof, tmp_path, case):
    path = tmp_path / f"{case}.zkp"
    path.write_bytes(_edit(tiny_proof, **HOSTILE[case]))
    r, rep = _run_verify_limited(path, tmp_path)
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out[-2000:]
    assert rep, f"child died before reporting (rc {r.returncode}): {out[-2000:]}"
    assert rep["code"] not in (0, None)
    assert "REJECTED:" in out and "statement limit" in out, out[-1000:]
    assert rep["verify_s"] < 5.0, rep
    assert rep["rss"] <= GiB, rep


@pytest.mark.parametrize("changes, what", [
    ({"seq": 1 << 14, "arch__max_position_embeddings": 1 << 14}, "budget"),
    ({"batch": 1 << 16}, "budget"),
])
def test_work_budget_rejects_within_caps(tiny_proof, changes, what):
    """Every dimension under its cap, but the product over the verifier's budget."""
    with pytest.raises(ProofFormatError, match=f"graph elements, above the verifier's {what}"):
        api.verify(_edit(tiny_proof, **changes))


@pytest.mark.parametrize("changes", [
    {"arch__hidden_size": "64"},
    {"arch__hidden_size": 64.5},
    {"batch": [1]},
    {"batch": True},
    {"seq": -8},
    {"seq": float("inf")},
    {"seq": 1 << 200},
    {"arch__num_layers": 0},
    {"lora": {"r": 1 << 40, "alpha": 8.0, "targets": ["q", "v"], "use_rslora": False}},
])
def test_malformed_dimensions_rejected(tiny_proof, changes):
    with pytest.raises(ProofFormatError, match="statement: "):
        api.verify(_edit(tiny_proof, **changes))


def test_limits_admit_real_llama_widths():
    """Caps admit real LLaMA widths; only the total-work budget refuses the product."""
    from zklora.plugins.models import llama

    for name, v in (("vocab_size", 128256), ("hidden_size", 4096),
                    ("intermediate_size", 14336), ("max_position_embeddings", 131072),
                    ("seq", 4096), ("num_layers", 126), ("head_dim", 128)):
        assert llama.STATEMENT_LIMITS[name] >= v


def _elements(model, pub) -> int:
    g = registry().model(model).build(pub)
    return sum(math.prod(s.shape) for s in g.tensors.values())


@pytest.mark.parametrize("model, params", [("llama", {"model": "tiny"}),
                                           ("llama", {"model": "tiny", "kv_heads": 2}),
                                           ("llama-train", {"model": "tiny", "steps": 1})])
@pytest.mark.parametrize("change", [{}, {"seq": 8}, {"batch": 1}, {"arch__vocab_size": 512},
                                    {"arch__intermediate_size": 256}])
def test_work_estimate_bounds_the_graph(model, params, change):
    """The closed-form estimate is within [1, 2.5]× the built graph's element count."""
    m = registry().model(model)
    pub = copy.deepcopy(m.public_params(params))
    for key, v in change.items():
        d = pub
        *path, last = key.split("__")
        for k in path:
            d = d[k]
        d[last] = v
    actual = _elements(model, pub)
    est = m.work_estimate(pub)
    assert actual <= est <= 2.5 * actual, (actual, est)


def test_matmul_dimensions_and_budget(monkeypatch):
    # every matmul-example statement (dimensions ≤ 2^14) is within the default budget
    # (2^32); the mechanism is checked against a smaller one
    monkeypatch.setattr(security, "MAX_STATEMENT_WORK", 1 << 30)
    m = registry().model("matmul-example")
    assert m.work_estimate(m.public_params({})) <= security.MAX_STATEMENT_WORK
    big = {"m": 1 << 14, "k": 1 << 14, "n": 1 << 14, "bound": 4}
    assert m.work_estimate(big) > security.MAX_STATEMENT_WORK


def test_matmul_statement_over_budget_rejected(monkeypatch):
    data = api.prove(config.from_dict({"profile": "debug",
                                       "model": {"m": 4, "k": 8, "n": 2}})).data
    pf = proof.decode(data)
    st = copy.deepcopy(dict(pf.statement))
    st["params"].update(m=1 << 14, k=1 << 14, n=1 << 14)
    monkeypatch.setattr(security, "MAX_STATEMENT_WORK", 1 << 30)
    with pytest.raises(ProofFormatError, match="above the verifier's budget"):
        api.verify(proof.encode(st, pf.sections))


def test_resource_error_becomes_rejection(tiny_proof, monkeypatch):
    """A MemoryError (or numpy's 'array too big') inside verification is a rejection."""
    from zklora.zkcore import graph as graphlib

    def boom(*a, **k):
        raise MemoryError("Unable to allocate 8.00 GiB for an array")

    monkeypatch.setattr(graphlib, "verify", boom)
    with pytest.raises(VerificationError, match="resource limit: MemoryError"):
        api.verify(tiny_proof)

    def too_big(*a, **k):
        raise ValueError("array is too big; `arr.size * arr.itemsize` is larger than the "
                         "maximum possible size.")

    monkeypatch.setattr(graphlib, "verify", too_big)
    with pytest.raises(VerificationError, match="resource limit"):
        api.verify(tiny_proof)

    def bug(*a, **k):
        raise ValueError("some bug")

    monkeypatch.setattr(graphlib, "verify", bug)
    with pytest.raises(ValueError, match="some bug"):
        api.verify(tiny_proof)


def test_untouched_proof_still_verifies(tiny_proof):
    st = api.verify(tiny_proof)
    rep = api.security_bits(st)
    assert rep["bits"] >= security.MIN_SECURITY_BITS
    assert not isinstance(rep, ZkLoraError)


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
@pytest.mark.parametrize("T", [1, 2, 4, 32])
def test_causal_mask_closed_form(field, T):
    """The closed-form MLE of the causal mask equals the materialised mask's MLE (the
    attention builder declares its mask this way instead of a T×T public tensor)."""
    import numpy as np

    from zklora.zkcore import mle, structured

    F = registry().field(field)
    E = F.ext
    s = structured.causal_mask(T)
    vals = s.materialise()
    assert vals.shape == (T, T) and int(vals.sum()) == T * (T + 1) // 2
    rng = np.random.default_rng(T)
    n = 2 * mle.log2_exact(T)
    for _ in range(3):
        p = E.random(rng, n)
        ref = mle.evaluate(E, F.from_ints(vals.reshape(-1)), p, base=True)
        assert E.equal(s.evaluate(E, p), ref)
    for i in range(T):  # and on the cube it is the mask itself
        for j in range(T):
            bits = [(j >> k) & 1 for k in range(n // 2)] + [(i >> k) & 1 for k in range(n // 2)]
            p = E.from_ints(np.array(bits, dtype=np.int64)) if n else E.zeros(0)
            assert E.equal(s.evaluate(E, p), E.scalar(int(j <= i)))


def test_verifier_never_materialises_the_causal_mask():
    """An attention graph at T = 2^15 (a 2^30-entry mask, 8 GiB as int64) is built,
    described and its mask evaluated by the verifier's context in closed form."""
    import resource
    import time

    import numpy as np

    from zklora.zkcore.build import builder
    from zklora.zkcore.graph import Graph
    from zklora.zkcore.op import VerifierContext

    T = 1 << 15
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    g = Graph()
    for n, h in (("Q", 2), ("K", 1), ("V", 1)):
        g.tensor(n, (1, h, T, 4), "committed", (-(1 << 10), 1 << 10))
    builder("attention")(g, "attn", "Q", "K", "V")
    desc = g.describe()
    assert desc["publics"]["attn/mask"] == f"causal_mask({T})"
    F = registry().field("goldilocks")
    ctx = VerifierContext(F, None, dict(g.tensors), g.publics, None)
    p = F.ext.random(np.random.default_rng(0), 30)
    ctx.eval_public("attn/mask", p)
    assert time.perf_counter() - t0 < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 256 * 1024  # KiB


def test_prover_refuses_an_over_budget_statement_before_the_witness(monkeypatch):
    """The prover checks the verifier's work budget from the shapes alone, before it
    spends anything on the witness (a 30-layer SmolLM step once computed its whole
    witness and the base weights' commitment before this refusal)."""
    from zklora.zkcore.errors import ConfigError

    m = registry().model("matmul-example")
    monkeypatch.setattr(security, "MAX_STATEMENT_WORK", 16)

    def no_witness(*a, **k):
        raise AssertionError("the witness was computed before the budget check")

    monkeypatch.setattr(type(m), "witness", no_witness)
    with pytest.raises(ConfigError, match="above the verifier's budget"):
        api.prove(config.from_dict({"profile": "debug", "model": {"m": 4, "k": 8, "n": 2}}))


def test_training_statement_over_budget_refused_before_training(monkeypatch):
    """The training model's statement needs the step's losses, i.e. the integer training
    step: the budget is checked from the shapes before it runs."""
    from zklora.plugins.models import llama_train
    from zklora.zkcore.errors import ConfigError

    monkeypatch.setattr(security, "MAX_STATEMENT_WORK", 1 << 10)

    def no_training(*a, **k):
        raise AssertionError("the training step ran before the budget check")

    monkeypatch.setattr(llama_train, "integer_train", no_training)
    with pytest.raises(ConfigError, match="above the verifier's budget of 2\\^10"):
        api.prove(config.from_dict({"task": {"model": "llama-train"}}))
