"""Configuration: TOML → attrs, with profiles (§3.7).

A config file::

    profile = "fast"              # fast | paper | debug

    [task]
    model = "matmul-example"      # a registered model plugin

    [model]                       # parameters handed to the model plugin
    m = 64

    [proof]                       # optional overrides of the profile's stack
    commitment = "plain"
    zero_knowledge = true         # hide the witness (default: on in fast and paper;
                                  # docs/zero-knowledge.md)

    [commitment.ligero]           # parameters of one commitment scheme
    rate_log = 2

Every error names the offending key and the allowed values.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import ConfigError, PluginError


@attrs.frozen
class Stack:
    """The protocol stack of a proof: field, commitment scheme, lookup argument, hash."""

    field: str
    commitment: str
    lookup: str
    hash: str = "blake3"

    def as_dict(self) -> dict[str, str]:
        return attrs.asdict(self)


PROFILES: dict[str, Stack] = {
    "fast": Stack("goldilocks", "whir", "logup-gkr", "blake3"),
    "paper": Stack("bls12-381-fr", "hyrax", "tlookup", "sha256"),
    "debug": Stack("goldilocks", "plain", "logup-gkr", "blake3"),
}
HASHES = ("blake3", "sha256")
#: a profile's default parameters of commitment schemes, under the config's own
#: ``[commitment.NAME]`` keys (which win key by key).  fast: WHIR in the conjectured
#: (list-decoding) regime — the proximity-gaps conjecture WHIR's own figures rest on;
#: ``regime = "unique"`` gives the proven regime (a larger proof, docs/whir.md).
#: ``first_shrink = 3``: the first round's next codeword at rate 1/2 (half the
#: re-encoding and hashing of the scheme default 2, for ~2–6 % more proof bytes;
#: docs/commitments_whir.md, docs/perf/session33.md).  ``first_fold = 5`` from 2^23
#: (``first_fold_from``) with ``first_shrink = 4``, ``later_shrink = 2``: the largest tables
#: fold five variables in their first round, so the batch's continuation ĥ is half as
#: large, and every later domain shrinks by 4 (prove CPU ×0.9 at the 25m / 84m bench
#: shapes for +1–4 % proof bytes; docs/perf/session36.md).
PROFILE_COMMITMENT_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {"whir": {"regime": "conjectured", "first_fold": 5, "first_shrink": 4,
                      "later_shrink": 2, "first_fold_from": 23}},
}
#: a profile's commitment scheme under ``[proof] zero_knowledge = true`` when the config
#: names none: a hiding one (WHIR is binding only; docs/zero-knowledge.md)
ZK_COMMITMENT = {"fast": "ligero"}

_TOP_KEYS = ("profile", "task", "model", "proof", "commitment", "lookup", "executor",
             "backend")
#: ``backend``: the compute backend of the prover's kernels (`zklora.zkcore.backend`)
BACKENDS = ("cpu", "cuda", "auto")
#: ``[executor]``: who proves a segmented graph's segments (`zklora.zkcore.executors`)
_EXECUTOR_KEYS = ("name", "address", "max_retries")
_TASK_KEYS = ("model",)
_PROOF_KEYS = ("field", "commitment", "lookup", "hash", "zero_knowledge")
#: ``[proof] zero_knowledge``: the default per profile — on for ``fast`` and ``paper``
#: (every message of a proof masked, acceptance 4 met: docs/zero-knowledge.md §1, §7),
#: off for ``debug`` (plain commitments hide nothing).  A ZK proof refuses the Ray
#: executor, model-commitment files and adapter checks: ``--no-zk`` for those (§5.5)
ZERO_KNOWLEDGE = {"fast": True, "paper": True, "debug": False}


@attrs.frozen
class Config:
    """A validated configuration."""

    profile: str
    stack: Stack
    model: str
    model_params: Mapping[str, Any] = attrs.field(factory=dict)
    commitment_params: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    lookup_params: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: ``name`` ("local" or "ray") and its options (ray: ``address``, ``max_retries``)
    executor: Mapping[str, Any] = attrs.field(factory=lambda: {"name": "local"})
    #: the prover's compute backend: ``cpu``, ``cuda`` or ``auto`` (checked when proving
    #: starts, so a config naming ``cuda`` still loads on a machine without a GPU)
    backend: str = "cpu"
    #: ``[proof] zero_knowledge``: prove in zero knowledge (`zklora.zkcore.zk`; the
    #: statement must record it and both sides run under `zk.session(...)`)
    zero_knowledge: bool = False


def executor_table(tbl: Mapping[str, Any], where: str = "executor") -> dict[str, Any]:
    """A validated ``[executor]`` table (default name ``local``)."""
    out = {"name": "local"}
    for k, v in tbl.items():
        if k not in _EXECUTOR_KEYS:
            raise _allowed(where, k, _EXECUTOR_KEYS)
        if k in ("name", "address") and not isinstance(v, str):
            raise ConfigError(f"{where}.{k}: expected a string, got {v!r}")
        if k == "max_retries" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise ConfigError(f"{where}.max_retries: expected an integer ≥ 0, got {v!r}")
        out[k] = v
    from .executors import names

    if out["name"] not in names():
        raise ConfigError(f"{where}.name: {out['name']!r} is not an executor; allowed: "
                          f"{', '.join(names())}")
    return out


def _allowed(where: str, key: str, allowed) -> ConfigError:
    return ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _table(data: Mapping, key: str, where: str) -> dict:
    v = data.get(key, {})
    if not isinstance(v, dict):
        raise ConfigError(f"{where}{key}: expected a table, got {type(v).__name__}")
    return v


def from_dict(data: Mapping[str, Any], *, profile: str | None = None,
              default_model: str = "matmul-example",
              zero_knowledge: bool | None = None) -> Config:
    """Validate a parsed TOML document (``profile`` overrides the file's, and
    ``zero_knowledge`` its ``[proof] zero_knowledge``, with the same effect: under
    ``fast`` the ZK commitment scheme unless the file names one)."""
    for k in data:
        if k not in _TOP_KEYS:
            raise _allowed("config", k, _TOP_KEYS)
    prof = profile or data.get("profile", "fast")
    if not isinstance(prof, str) or prof not in PROFILES:
        raise ConfigError(f"profile: {prof!r} is not a profile; allowed: {', '.join(PROFILES)}")
    task = _table(data, "task", "")
    for k in task:
        if k not in _TASK_KEYS:
            raise _allowed("task", k, _TASK_KEYS)
    model = task.get("model", default_model)
    if not isinstance(model, str):
        raise ConfigError("task.model: expected a string naming a model plugin")
    overrides = dict(_table(data, "proof", ""))
    if zero_knowledge is not None:
        overrides["zero_knowledge"] = zero_knowledge
    zero_knowledge = overrides.pop("zero_knowledge", ZERO_KNOWLEDGE.get(prof, False))
    if not isinstance(zero_knowledge, bool):
        raise ConfigError(f"proof.zero_knowledge: expected true or false, got "
                          f"{zero_knowledge!r}")
    for k, v in overrides.items():
        if k not in _PROOF_KEYS:
            raise _allowed("proof", k, _PROOF_KEYS)
        if not isinstance(v, str):
            raise ConfigError(f"proof.{k}: expected a string, got {v!r}")
    if zero_knowledge and "commitment" not in overrides and prof in ZK_COMMITMENT:
        overrides["commitment"] = ZK_COMMITMENT[prof]
    stack = attrs.evolve(PROFILES[prof], **overrides)
    if stack.hash not in HASHES:
        raise ConfigError(f"proof.hash: {stack.hash!r} not allowed; allowed: {', '.join(HASHES)}")
    com = _table(data, "commitment", "")
    look = _table(data, "lookup", "")
    for name, tbl in list(com.items()) + list(look.items()):
        if not isinstance(tbl, dict):
            raise ConfigError(f"commitment/lookup.{name}: expected a table of parameters")
    defaults = PROFILE_COMMITMENT_PARAMS.get(prof, {})
    com = {**{k: dict(v) for k, v in defaults.items()},
           **{k: {**defaults.get(k, {}), **v} for k, v in com.items()}}
    be = data.get("backend", "cpu")
    if not isinstance(be, str) or be not in BACKENDS:
        raise ConfigError(f"backend: {be!r} is not a backend; allowed: {', '.join(BACKENDS)}")
    return Config(prof, stack, model, dict(_table(data, "model", "")), com, look,
                  executor_table(_table(data, "executor", "")), be, zero_knowledge)


def load(path: str | Path | None, *, profile: str | None = None,
         zero_knowledge: bool | None = None) -> Config:
    """Load a TOML file (or the built-in default when ``path`` is None); ``profile`` and
    ``zero_knowledge`` override the file's (`from_dict`)."""
    if path is None:
        return from_dict({}, profile=profile, zero_knowledge=zero_knowledge)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config {p}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {p} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {p}: invalid TOML: {e}") from None
    return from_dict(data, profile=profile, zero_knowledge=zero_knowledge)


def resolve(stack: Stack, registry, commitment_params=None, lookup_params=None):
    """Instantiate the stack's plugins; clear errors for unknown or incompatible ones."""
    from .graph import Backend

    if stack.hash not in HASHES:
        raise ConfigError(f"proof.hash: {stack.hash!r} not allowed; allowed: {', '.join(HASHES)}")
    try:
        F = registry.field(stack.field)
        scheme_cls = registry.commitment(stack.commitment)
        lookup_cls = registry.lookup(stack.lookup) if stack.lookup else None
    except PluginError as e:
        raise ConfigError(f"proof stack: {e}") from None
    if F.degree != 1:
        raise ConfigError(f"proof.field: {stack.field} is an extension field; "
                          "choose a prime field (its extension is used for challenges)")
    if not scheme_cls.supports(F):
        raise ConfigError(
            f"commitment {stack.commitment!r} does not support field {stack.field!r} "
            f"(it needs {', '.join(scheme_cls.fields)})"
        )
    if lookup_cls is not None and not lookup_cls.supports(F):
        raise ConfigError(
            f"lookup {stack.lookup!r} does not support field {stack.field!r} "
            f"(it needs {', '.join(lookup_cls.fields)})"
        )
    cparams = dict((commitment_params or {}).get(stack.commitment, {}))
    allowed = scheme_cls.param_names()
    for k in cparams:
        if k not in allowed:
            raise ConfigError(f"commitment.{stack.commitment}: unknown key {k!r}; allowed: "
                              f"{', '.join(allowed) or 'none'}")
    lookup = None
    if lookup_cls is not None:
        lparams = dict((lookup_params or {}).get(stack.lookup, {}))
        try:
            lookup = lookup_cls(**lparams) if lparams else lookup_cls()
        except TypeError as e:
            raise ConfigError(f"lookup.{stack.lookup}: {e}") from None
    try:
        scheme = scheme_cls(F, cparams)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"commitment.{stack.commitment}: {e}") from None
    return Backend(F, scheme, lookup, registry, stack.hash)
