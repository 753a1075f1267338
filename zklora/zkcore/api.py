"""High-level prove/verify: config → statement + graph → proof file, and back.

The statement (public, stored in the proof file and absorbed first into the
transcript) records the format version, the protocol stack, its parameters, the model
plugin and the model's public parameters.  The verifier rebuilds the stack and the
graph from the statement alone; ``expect`` lets it insist on the values it trusts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import graph as graphlib
from . import proof as prooflib
from .config import Config, Stack, resolve
from .errors import ConfigError, ProofFormatError, VerificationError, ZkLoraError
from .model import Model
from .plugins import registry as default_registry

STATEMENT_VERSION = 1


@attrs.frozen
class ProveResult:
    data: bytes
    statement: dict
    prove_seconds: float
    sections: list


def make_statement(cfg: Config, model: Model) -> dict[str, Any]:
    return {
        "zklora": STATEMENT_VERSION,
        "profile": cfg.profile,
        "stack": cfg.stack.as_dict(),
        "commitment_params": dict(cfg.commitment_params.get(cfg.stack.commitment, {})),
        "lookup_params": dict(cfg.lookup_params.get(cfg.stack.lookup, {})),
        "model": model.name,
        "params": model.public_params(cfg.model_params),
    }


def prove(cfg: Config, registry=None, progress: Callable | None = None) -> ProveResult:
    """Prove the configured task; returns the proof file bytes and the statement."""
    reg = registry or default_registry()
    try:
        model = reg.model(cfg.model)
    except ZkLoraError as e:
        raise ConfigError(f"task.model: {e}") from None
    backend = resolve(cfg.stack, reg, cfg.commitment_params, cfg.lookup_params)
    statement = make_statement(cfg, model)
    g = model.build(statement["params"])
    witness = model.witness(cfg.model_params)
    t0 = time.perf_counter()
    stream, sections = graphlib.prove(g, witness, backend, statement, progress)
    dt = time.perf_counter() - t0
    index = graphlib.canonical_json([[n, a, b] for n, a, b in sections])
    data = prooflib.encode(statement, {"index": index, "stream": stream})
    return ProveResult(data, statement, dt, list(sections))


def _statement_parts(statement: Mapping[str, Any], reg):
    def need(key, typ):
        v = statement.get(key)
        if not isinstance(v, typ):
            raise ProofFormatError(f"statement: field {key!r} missing or malformed")
        return v

    if need("zklora", int) != STATEMENT_VERSION:
        raise ProofFormatError(f"statement version {statement.get('zklora')} not supported")
    expected_keys = {"zklora", "profile", "stack", "commitment_params", "lookup_params",
                     "model", "params"}
    if set(statement) != expected_keys:
        odd = sorted(set(statement) ^ expected_keys)
        raise ProofFormatError(f"statement: unexpected or missing fields {odd}")
    st = need("stack", dict)
    if set(st) != {"field", "commitment", "lookup", "hash"} or not all(
            isinstance(v, str) for v in st.values()):
        raise ProofFormatError("statement: malformed stack")
    stack = Stack(**st)
    need("profile", str)
    cparams = need("commitment_params", dict)
    lparams = need("lookup_params", dict)
    try:
        backend = resolve(stack, reg, {stack.commitment: cparams}, {stack.lookup: lparams})
        model = reg.model(need("model", str))
        params = need("params", dict)
        if model.public_params(params) != params:
            raise ConfigError("model parameters are not in canonical form")
        g = model.build(params)
    except ZkLoraError as e:
        raise ProofFormatError(f"statement: {e}") from None
    return backend, g


def verify(data: bytes, expect: Mapping[str, Any] | None = None, registry=None) -> dict:
    """Verify proof-file bytes; returns the statement, raises a `ZkLoraError` otherwise."""
    reg = registry or default_registry()
    pf = prooflib.decode(data)
    statement = dict(pf.statement)
    if expect:
        check_expected(statement, expect)
    backend, g = _statement_parts(statement, reg)
    graphlib.verify(g, pf.sections["stream"], backend, statement, pf.index())
    return statement


def check_expected(statement: Mapping[str, Any], expect: Mapping[str, Any], path: str = ""):
    """Every key of ``expect`` must match the statement (recursively)."""
    for k, v in expect.items():
        where = f"{path}{k}"
        if k not in statement:
            raise VerificationError(f"statement has no field {where!r} that was expected")
        got = statement[k]
        if isinstance(v, Mapping) and isinstance(got, Mapping):
            check_expected(got, v, where + ".")
        elif got != v:
            raise VerificationError(f"statement field {where!r} is {got!r}, expected {v!r}")
