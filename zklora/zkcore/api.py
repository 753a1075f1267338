"""High-level prove/verify: config → statement + graph → proof file, and back.

The statement (public, stored in the proof file and absorbed first into the
transcript) records the format version, the protocol stack, its parameters, the model
plugin, the model's public parameters and the published tensors' commitments, one per
group (`zklora.zkcore.published`; docs/proof-format.md).  The verifier rebuilds the stack and the
graph from the statement alone; ``expect`` lets it insist on the values it trusts.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import backend as compute
from . import config as configlib
from . import graph as graphlib
from . import modelcommit, runtime, scratch, security, zk
from . import proof as prooflib
from . import published as publib
from .config import Config, Stack, resolve
from .errors import ConfigError, ProofFormatError, ProverError, VerificationError, ZkLoraError
from .model import Model
from .plugins import registry as default_registry

#: 2: ``commitments`` holds published groups (one stacked commitment per group)
STATEMENT_VERSION = 2


@attrs.frozen
class ProveResult:
    data: bytes
    statement: dict
    prove_seconds: float
    sections: list
    #: the prover cache's use (`provercache.ProverCache.status`: hit, miss-stored, miss,
    #: unused), None without one
    prover_cache: str | None = None


def make_statement(cfg: Config, model: Model) -> dict[str, Any]:
    return {
        "zklora": STATEMENT_VERSION,
        "profile": cfg.profile,
        "stack": cfg.stack.as_dict(),
        "commitment_params": dict(cfg.commitment_params.get(cfg.stack.commitment, {})),
        "lookup_params": dict(cfg.lookup_params.get(cfg.stack.lookup, {})),
        "model": model.name,
        "params": model.public_params(cfg.model_params),
        "model_commitment": None,
        "commitments": {},
        "zero_knowledge": cfg.zero_knowledge,
    }


def statement_categories(model: Model, public: Mapping[str, Any]) -> dict[str, list[str]]:
    """Committed tensors whose commitments the statement carries, by category (a model's
    ``statement_tensors``, in its order, minus the frozen weights — the model
    commitment's — and the public losses)."""
    groups = getattr(model, "statement_tensors", None)
    if groups is None:
        return {}
    return {key: list(names) for key, names in groups(public).items()
            if key not in ("frozen", "losses")}


def statement_groups(model: Model, public: Mapping[str, Any], g, err=ConfigError
                     ) -> list[publib.Group]:
    """The published groups of a statement (without commitments): its categories'
    tensors grouped by `published.plan_categories`, sizes from the built graph ``g``."""
    cats = statement_categories(model, public)

    def nv(name: str) -> int:
        spec = g.tensors.get(name)
        if spec is None or spec.kind != "committed":
            raise err(f"statement tensor {name!r} is not a committed tensor of the graph")
        return spec.num_vars

    return publib.plan_categories(cats, nv)


def statement_tensor_names(model: Model, public: Mapping[str, Any]) -> list[str]:
    """Committed tensors whose commitments the statement carries (every member of every
    published group), sorted."""
    return sorted({n for names in statement_categories(model, public).values()
                   for n in names})


def _model(reg, name: str) -> Model:
    try:
        return reg.model(name)
    except ZkLoraError as e:
        raise ConfigError(f"task.model: {e}") from None


def commit_frozen(backend, cfg: Config, scope: Mapping[str, Any],
                  values: Mapping[str, Any], states: dict | None = None,
                  cache=None, registry=None) -> modelcommit.ModelCommitment:
    """Commit every frozen tensor under the backend's scheme, in the model commitment's
    groups (`modelcommit.frozen_groups`; what `commit-model` does); ``states``, if given,
    receives each tensor's group's prover state (so that the proof reuses the commitment
    instead of making it again).  ``cache``: a `provercache.ProverCache` whose entry
    for these weights gives the states without committing (made and stored on a miss),
    when ``registry`` has a state store for the scheme (`_state_store`)."""
    from .mle import log2_exact

    sizes = {}
    for name, v in values.items():
        try:
            sizes[name] = log2_exact(int(v.numel() if hasattr(v, "numel") else v.size))
        except ValueError:
            raise ConfigError(f"frozen tensor {name}: its size is not a power of two") from None
    planned = modelcommit.frozen_groups(sizes)
    store = None if cache is None else _state_store(registry, backend.scheme)
    if store is None:
        groups = publib.commit_groups(backend.scheme, backend.field, planned,
                                      lambda n: values[n], states,
                                      direct=publib.FROZEN_DIRECT)
    else:   # the prover cache (`zklora.zkcore.provercache`)
        from . import provercache

        done = provercache.commit_frozen_cached(
            cache, store, backend.scheme, backend.field, stack=cfg.stack.as_dict(),
            params=dict(cfg.commitment_params.get(cfg.stack.commitment, {})),
            scope=scope, groups=planned, values=values,
            commit=lambda gs, st: publib.commit_groups(backend.scheme, backend.field, gs,
                                                       lambda n: values[n], st,
                                                       direct=publib.FROZEN_DIRECT))
        groups = [g for g, _, _ in done]
        if states is not None:
            for g, table, state in done:
                gs = publib.GroupState(table, state)
                for n in g.names:
                    states[n] = gs
    return modelcommit.ModelCommitment(
        cfg.stack.as_dict(), dict(cfg.commitment_params.get(cfg.stack.commitment, {})),
        dict(scope), tuple(groups))


def _state_store(registry, scheme):
    """The state store a plugin contributes for ``scheme`` (``zk_state_stores``), or
    None (a `provercache.CacheNote` says the cache is not used)."""
    reg = registry or default_registry()
    store = reg.state_store(scheme.name)
    if store is None:
        import warnings

        from .provercache import CacheNote

        warnings.warn(f"prover cache: commitment scheme {scheme.name!r} has no state store; "
                      "the base weights are committed without the cache", CacheNote,
                      stacklevel=3)
    return store


def _open_cache(prover_cache):
    if prover_cache is None:
        return None
    from .provercache import ProverCache

    return prover_cache if isinstance(prover_cache, ProverCache) else \
        ProverCache.open(prover_cache)


def commit_model(cfg: Config, registry=None, prover_cache=None
                 ) -> modelcommit.ModelCommitment:
    """The model commitment of the configured model's frozen weights; with
    ``prover_cache`` (a directory or `provercache.ProverCache`) the prover states are
    stored there too (or the commitment taken from it), for the proofs that follow."""
    reg = registry or default_registry()
    model = _model(reg, cfg.model)
    backend = resolve(cfg.stack, reg, cfg.commitment_params, cfg.lookup_params)
    scope, values = model.frozen_witness(cfg.model_params)
    cache = _open_cache(prover_cache)
    # large encodings (Ligero's rows) spill to a scratch directory removed at the end
    try:
        with scratch.session():
            return commit_frozen(backend, cfg, scope, values, cache=cache, registry=reg)
    finally:
        if cache is not None and cache is not prover_cache:
            cache.close()


def prove(cfg: Config, registry=None, progress: Callable | None = None,
          trusted_model: modelcommit.ModelCommitment | None = None,
          profile: Callable | None = None, prover_cache=None) -> ProveResult:
    """Prove the configured task; returns the proof file bytes and the statement.

    A model with frozen tensors has them committed (or checked against
    ``trusted_model``, the owner's published commitment) and bound into the statement.
    Large commitment state lives in a scratch directory removed at the end, however the
    proof ends (`zklora.zkcore.scratch`).  ``prover_cache`` (a directory or
    `provercache.ProverCache`): the frozen weights' prover states are taken from it when
    it holds them, else made and stored there (`zklora.zkcore.provercache`; the same
    proof either way); refused in zero knowledge (hiding commitments are randomised).
    """
    be = _compute_backend(cfg, registry or default_registry())
    if prover_cache is not None and cfg.zero_knowledge:
        raise ConfigError("a prover cache with proof.zero_knowledge: hiding commitments are "
                          "randomised, so the base weights' prover states cannot be reused "
                          f"({_zk_on(cfg.profile)}); add --no-zk (or [proof] "
                          "zero_knowledge = false, zero_knowledge=False) or leave out the "
                          "prover cache")
    cache = _open_cache(prover_cache)
    if cfg.zero_knowledge and cfg.executor["name"] != "local":
        raise ConfigError(f"proof.zero_knowledge with executor {cfg.executor['name']!r}: "
                          "the remote executor cannot prove in zero knowledge yet "
                          f"({_zk_on(cfg.profile)}); add --no-zk (or [proof] "
                          "zero_knowledge = false, zero_knowledge=False) to prove without "
                          "it on Ray, or use --executor local")
    # zero knowledge: every commitment and sumcheck of the proof inside one session
    # (masks from the OS; `zklora.zkcore.zk`)
    try:
        with runtime.proving(), scratch.session(), compute.use(be), \
                zk.session(cfg.zero_knowledge):
            res = _prove(cfg, registry, progress, trusted_model, profile, cache)
    finally:
        if cache is not None and cache is not prover_cache:
            cache.close()   # the entry used is no longer in use (eviction may take it)
    return res if cache is None else attrs.evolve(res, prover_cache=cache.status())


def _zk_on(profile: str) -> str:
    """Why zero knowledge is on, for the refusals' messages: the profile's default
    (`config.ZERO_KNOWLEDGE`) or the user's ask."""
    if configlib.ZERO_KNOWLEDGE.get(profile):
        return f"zero knowledge is on by default in the {profile} profile"
    return "zero knowledge was asked for"


def _compute_backend(cfg: Config, reg):
    """The compute backend ``cfg.backend`` names (`zklora.zkcore.backend.select`:
    `ConfigError` when it is unknown or cannot run here).  The prover's kernels are not
    routed through the backend yet (docs/gpu.md): ``cuda`` is refused with that reason,
    and ``auto`` proves on the CPU."""
    if cfg.backend == "auto":
        return compute.select("cpu", reg)
    be = compute.select(cfg.backend, reg)
    if be.name != "cpu":
        raise ConfigError(f"backend {be.name!r}: the prover's kernels are not routed through "
                          "compute backends yet (docs/gpu.md); use backend = \"cpu\"")
    return be


def _prove(cfg: Config, registry, progress: Callable | None,
           trusted_model: modelcommit.ModelCommitment | None,
           profile: Callable | None, cache=None) -> ProveResult:
    reg = registry or default_registry()
    if cfg.zero_knowledge and trusted_model is not None:
        raise ConfigError("proof.zero_knowledge with a model commitment file: hiding "
                          "commitments are randomised, so the base weights cannot be "
                          "recommitted to the owner's commitment yet "
                          f"({_zk_on(cfg.profile)}; docs/zero-knowledge.md); add --no-zk "
                          "(or [proof] zero_knowledge = false, zero_knowledge=False) to "
                          "bind to it")
    if progress:
        progress("witness", 0, 1)
    model = _model(reg, cfg.model)
    backend = resolve(cfg.stack, reg, cfg.commitment_params, cfg.lookup_params)
    security.assess(backend).enforce(ConfigError)  # the verifier's floor, checked early
    if cfg.zero_knowledge and not backend.scheme.hiding:
        # a proof marked zero-knowledge must not commit with a binding-only scheme
        raise ConfigError(f"proof.zero_knowledge with commitment {cfg.stack.commitment!r}: "
                          "that scheme does not hide the committed values here, so the "
                          f"proof would not be zero-knowledge ({_zk_on(cfg.profile)}); "
                          "use a hiding scheme (ligero, hyrax) or add --no-zk")
    statement = make_statement(cfg, model)
    # the verifier's work budget, from the shapes alone: refused before the witness
    check_work(model, statement["params"], ConfigError)
    witness = model.witness(cfg.model_params)
    sections: dict[str, bytes] = {}
    published: dict[str, publib.Member] = {}
    states: dict[str, Any] = {}     # prover states of the published groups, per member
    frozen = model.frozen_tensors(statement["params"])
    if frozen:
        if progress:
            progress("model-commitment", 0, 1)
        mc = commit_frozen(backend, cfg, model.frozen_scope(statement["params"]),
                           {n: witness[n] for n in frozen}, states, cache, reg)
        if trusted_model is not None and trusted_model.digest() != mc.digest():
            raise ProverError("the model's weights do not match the given model commitment "
                              f"({mc.digest()[:16]}… ≠ {trusted_model.digest()[:16]}…)")
        statement["model_commitment"] = mc.digest()
        sections["model"] = mc.to_bytes()
        published = dict(mc.tensors)
    g = model.build(statement["params"])
    graph_elements(g, ConfigError)
    security.assess(backend, security.claim_bound(g)).enforce(ConfigError)
    t0 = time.perf_counter()
    values = None
    groups = statement_groups(model, statement["params"], g)
    if groups:  # batch, adapters and optimiser state before/after every step
        # a segmented graph's phase 1 keeps the committed witness only (`graph.forward`)
        values = graphlib.forward(g, witness, reg, progress, drop=bool(g.node_segments))
        done = []
        for i, grp in enumerate(groups):
            if progress:
                progress("statement-commitments", i, len(groups))
            done += publib.commit_groups(backend.scheme, backend.field, [grp],
                                         lambda n: values[n], states)
        statement["commitments"] = publib.describe(done)
        published.update(publib.members(done))
        # the forward result holds the inputs (`graph._schedule` spills the frozen
        # weights out of it): the model's witness dict would pin them for the whole proof
        witness = {}
    from . import executors

    stream, index = graphlib.prove(g, witness, backend, statement, progress, values=values,
                                   published=published, profile=profile,
                                   published_states=states,
                                   executor=executors.make(
                                       cfg.executor["name"],
                                       {**cfg.executor, "recipe": _recipe(cfg, statement, reg)}))
    dt = time.perf_counter() - t0
    sections["index"] = prooflib.encode_index(index)
    sections["stream"] = stream
    data = prooflib.encode(statement, sections)
    return ProveResult(data, statement, dt, list(index))


def _recipe(cfg: Config, statement: Mapping[str, Any], reg):
    """How a remote worker rebuilds this proof's graph and backend
    (`zklora.zkcore.executors.Recipe`); ``reg`` is the prover's registry (the model's
    frozen tensors are named from it)."""
    from . import model as modellib
    from .executors import Recipe, checkpoint_weights

    kw: dict[str, Any] = {}
    m = _model(reg, cfg.model)
    if modellib._has_frozen(m):  # workers load the frozen weights from the checkpoint
        kw = dict(weights=functools.partial(checkpoint_weights, cfg.model,
                                            dict(cfg.model_params)),
                  weight_names=tuple(m.frozen_tensors(statement["params"])))
    return Recipe(functools.partial(_build_graph, cfg.model, dict(statement["params"])),
                  functools.partial(_build_backend, cfg.stack, dict(cfg.commitment_params),
                                    dict(cfg.lookup_params)), **kw)


def _build_graph(model: str, params: Mapping[str, Any]):
    return _model(default_registry(), model).build(params)


def _build_backend(stack, commitment_params, lookup_params):
    return resolve(stack, default_registry(), commitment_params, lookup_params)


def graph_elements(g, err: type[ZkLoraError] = VerificationError) -> int:
    """Elements of every tensor of a built graph (committed, virtual and public): the
    work a statement implies; refused above `security.MAX_STATEMENT_WORK`."""
    total = 0
    for spec in g.tensors.values():
        n = 1
        for d in spec.shape:
            n *= int(d)
        total += n
    return security.check_statement_work(total, err)


def check_work(model: Model, params: Mapping[str, Any],
               err: type[ZkLoraError] = VerificationError) -> int | None:
    """The model's closed-form estimate of the statement's graph size (its
    ``work_estimate``, computed from the shapes without building anything), refused
    above `security.MAX_STATEMENT_WORK`.  None for a model that has no estimate (the
    built graph is checked anyway)."""
    est = getattr(model, "work_estimate", None)
    if est is None:
        return None
    work = security.check_statement_work(int(est(params)), err)
    return work


def _statement_parts(statement: Mapping[str, Any], reg, reports: list | None = None):
    """Check a statement and rebuild what it names, in an order that bounds the work a
    hostile statement can cause: the fields' types; the stack and its security level
    (`security.assess`, parameters only); the model's parameters (per-dimension limits)
    and its work estimate; only then the graph, whose exact size is checked again and
    sets the challenge-field term.  ``reports`` receives the `security.Report`."""
    def need(key, typ):
        v = statement.get(key)
        if not isinstance(v, typ):
            raise ProofFormatError(f"statement: field {key!r} missing or malformed")
        return v

    if need("zklora", int) != STATEMENT_VERSION:
        raise ProofFormatError(f"statement version {statement.get('zklora')} not supported")
    expected_keys = {"zklora", "profile", "stack", "commitment_params", "lookup_params",
                     "model", "params", "model_commitment", "commitments", "zero_knowledge"}
    if set(statement) != expected_keys:
        odd = sorted(set(statement) ^ expected_keys)
        raise ProofFormatError(f"statement: unexpected or missing fields {odd}")
    st = need("stack", dict)
    if set(st) != {"field", "commitment", "lookup", "hash"} or not all(
            isinstance(v, str) for v in st.values()):
        raise ProofFormatError("statement: malformed stack")
    stack = Stack(**st)
    need("profile", str)
    need("zero_knowledge", bool)
    cparams = need("commitment_params", dict)
    lparams = need("lookup_params", dict)
    try:
        backend = resolve(stack, reg, {stack.commitment: cparams}, {stack.lookup: lparams})
    except ZkLoraError as e:
        raise ProofFormatError(f"statement: {e}") from None
    security.assess(backend).enforce()  # the verifier's floor, before anything is built
    try:
        model = reg.model(need("model", str))
        params = need("params", dict)
        canon = graphlib.canonical_json
        if canon(model.public_params(params)) != canon(params):  # True ≠ 1, 4.0 ≠ 4
            raise ConfigError("model parameters are not in canonical form")
        check_work(model, params, ConfigError)
        g = model.build(params)
        frozen = model.frozen_tensors(params)
        scope = model.frozen_scope(params)
        graph_elements(g, ConfigError)
        expected = statement_groups(model, params, g)
        for n in frozen:
            if n not in g.tensors or g.tensors[n].kind != "committed":
                raise ConfigError(f"frozen tensor {n!r} is not a committed tensor of the graph")
    except ZkLoraError as e:
        raise ProofFormatError(f"statement: {e}") from None
    report = security.assess(backend, security.claim_bound(g)).enforce()
    if reports is not None:
        reports.append(report)
    groups = publib.parse(statement.get("commitments"), expected,
                          backend.scheme.commitment_size, "statement: commitments")
    published: dict[str, Any] = publib.members(groups)
    mcd = statement["model_commitment"]
    if not (mcd is None or (isinstance(mcd, str) and len(mcd) == 64)):
        raise ProofFormatError("statement: model_commitment must be null or a 64-hex digest")
    if bool(frozen) != (mcd is not None):
        raise ProofFormatError("statement: model_commitment does not fit the model")
    return backend, g, frozen, scope, published


#: security reports of recently verified statements (`security_bits`), by digest
_REPORTS: dict[bytes, security.Report] = {}


def _statement_key(statement: Mapping[str, Any]) -> bytes:
    import hashlib

    return hashlib.sha256(graphlib.canonical_json(statement)).digest()


def _resource_error(e: BaseException) -> bool:
    """Whether ``e`` is the host running out of a resource (memory, sizes) rather than a
    bug: what a hostile statement that slipped past the limits would provoke."""
    if isinstance(e, MemoryError | OverflowError | RecursionError):
        return True
    msg = str(e).lower()
    return (isinstance(e, RuntimeError) and ("alloc" in msg or "out of memory" in msg)) or (
        isinstance(e, ValueError) and ("too big" in msg or "maximum supported" in msg
                                       or "maximum possible" in msg))


def verify(data: bytes, expect: Mapping[str, Any] | None = None, registry=None,
           trusted_model: modelcommit.ModelCommitment | None = None) -> dict:
    """Verify proof-file bytes; returns the statement, raises a `ZkLoraError` otherwise.

    ``expect``: statement fields the verifier insists on; ``trusted_model``: the
    base-model commitment the verifier trusts (the proof must be bound to it).  The
    statement's security level is computed and enforced here (`security`); read it back
    with `security_bits`.  Running out of memory (or any size limit of the host) while
    verifying is a rejection, not a crash."""
    try:
        statement, report = _verify(data, expect, registry, trusted_model)
    except ZkLoraError:
        raise
    except Exception as e:
        if not _resource_error(e):
            raise
        raise VerificationError(f"verifier resource limit: {type(e).__name__}: "
                                f"{str(e)[:200]}") from None
    if len(_REPORTS) >= 16:
        _REPORTS.clear()
    _REPORTS[_statement_key(statement)] = report
    return statement


def security_bits(statement: Mapping[str, Any], registry=None) -> dict[str, Any]:
    """The security level of a (verified) statement: ``{"bits", "limiting", "terms"}``
    — the weakest term, what sets it, and every term (`security.Report`)."""
    report = _REPORTS.get(_statement_key(statement))
    if report is None:
        reports: list = []
        _statement_parts(statement, registry or default_registry(), reports)
        report = reports[0]
    return {"bits": report.bits, "limiting": report.limiting.parameter,
            "summary": report.summary(),
            "terms": [{"bits": t.bits, "parameter": t.parameter, "note": t.note}
                      for t in report.terms]}


def _verify(data: bytes, expect, registry, trusted_model):
    reg = registry or default_registry()
    pf = prooflib.decode(data)
    statement = dict(pf.statement)
    if expect:
        check_expected(statement, expect)
    reports: list = []
    backend, g, frozen, scope, published = _statement_parts(statement, reg, reports)
    if statement["model_commitment"] is not None:
        if "model" not in pf.sections:
            raise ProofFormatError("proof file lacks its model commitment section")
        mc = modelcommit.parse(pf.sections["model"], "embedded model commitment")
        modelcommit.check_matches(mc, statement, scope,
                                  {n: g.tensors[n].num_vars for n in frozen},
                                  backend.scheme.commitment_size)
        published.update(mc.tensors)
    elif "model" in pf.sections:
        raise ProofFormatError("unexpected model commitment section")
    if trusted_model is not None:
        if statement["model_commitment"] is None:
            raise VerificationError("the proof is not bound to any base-model commitment")
        if statement["model_commitment"] != trusted_model.digest():
            raise VerificationError(
                "the proof is for another base model: its model commitment "
                f"{statement['model_commitment'][:16]}… is not the trusted "
                f"{trusted_model.digest()[:16]}…"
                + ("; it is a zero-knowledge proof, whose hiding commitments cannot match "
                   "a model commitment file: the prover proves with --no-zk (zero "
                   "knowledge is on by default) to bind to one"
                   if statement["zero_knowledge"] else ""))
    with zk.session(statement["zero_knowledge"]):
        graphlib.verify(g, pf.sections["stream"], backend, statement, pf.index(),
                        published=published)
    return statement, reports[0]


def write_trained_adapter(cfg: Config, out_dir, registry=None, *,
                          statement: Mapping[str, Any] | None = None,
                          proof_name: str | None = None) -> None:
    """Write the adapter after the proven training steps, in peft's own format, with a
    README.md model card naming the proof (``statement``: its statement digest).

    The directory appears atomically (built under a temporary name, then renamed) with
    ordinary permissions.  ``base_model_name_or_path`` comes from the input adapter's
    ``adapter_config.json``, else the ``--model`` directory (absolute), else null (the
    built-in tiny model has no directory).  Adapter writing itself is the model
    plugin's: the trained adapter object's ``save(dir, base_model_name_or_path)``."""
    import shutil
    import tempfile
    from pathlib import Path

    reg = registry or default_registry()
    model = _model(reg, cfg.model)
    trained = getattr(model, "trained_adapter", None)
    if trained is None:
        raise ConfigError(f"model {cfg.model!r} does not train an adapter (--adapter-out)")
    out = check_adapter_out(out_dir)
    adapter = trained(cfg.model_params)
    adapter = adapter[0] if isinstance(adapter, tuple) else adapter
    save = getattr(adapter, "save", None)
    if save is None:
        raise ConfigError(f"model {cfg.model!r} cannot write its adapter (--adapter-out)")
    base = _base_model_name(cfg.model_params)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        save(tmp, base_model_name_or_path=base)
        save_state = getattr(model, "save_training_state", None)
        if save_state is not None:  # what a linked proof resumes from (`--resume`)
            save_state(cfg.model_params, tmp)
        if statement is not None:
            (tmp / "README.md").write_text(
                _model_card(statement, base, out.name, proof_name), encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700
        for f in tmp.iterdir():  # safetensors writes 0600
            if f.is_file():
                os.chmod(f, 0o666 & ~umask)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_adapter(statement: Mapping[str, Any], which: str, path, registry=None) -> int:
    """Check that the peft adapter at ``path`` is the proof's initial (``which="in"``) or
    final (``"out"``) adapter: restack and recommit its tensors in their published groups
    and compare with the statement's group commitments (each group holding an adapter
    tensor must hold only adapter tensors).  Call after `verify` succeeded.  Returns the
    number of tensors."""
    reg = registry or default_registry()
    if statement.get("zero_knowledge"):
        raise ConfigError("a zero-knowledge proof's commitments are hiding (randomised): a "
                          "delivered adapter cannot be checked by recommitting it "
                          "(docs/zero-knowledge.md); the prover proves with --no-zk "
                          "(zero knowledge is on by default in the fast and paper "
                          "profiles) for a proof whose adapters can be checked")
    model = _model(reg, statement["model"])
    values_of = getattr(model, "adapter_values", None)
    if values_of is None:
        raise ConfigError(f"model {statement['model']!r} has no adapters to check")
    stack = Stack(**statement["stack"])
    backend = resolve(stack, reg, {stack.commitment: statement["commitment_params"]},
                      {stack.lookup: statement["lookup_params"]})
    values = values_of(statement["params"], path, which)
    labels_of = getattr(model, "adapter_labels", None)
    labels = labels_of(statement["params"], which) if labels_of is not None else {}
    coms = statement["commitments"]
    where = publib.locate(coms)
    for name in values:
        if name not in where:
            raise VerificationError(f"adapter {path}: the proof commits to no tensor "
                                    f"{labels.get(name, name)} (adapter-{which})")
    for gname in dict.fromkeys(where[n][0] for n in values):
        d = coms[gname]
        names = [n for n, _, _ in d["tensors"]]
        others = [n for n in names if n not in values]
        if others:
            raise ConfigError(f"adapter-{which}: the proof's group {gname!r} also holds "
                              f"{others[0]}, which the adapter does not give")
        grp = publib.Group(gname, tuple(names), tuple(nv for _, _, nv in d["tensors"]))
        try:
            (grp,) = publib.commit_groups(backend.scheme, backend.field, [grp],
                                          lambda n: values[n])
        except ProverError:
            grp = None
        if grp is None or grp.commitment.hex() != d["commitment"]:
            shown = ", ".join(labels.get(n, n) for n in names[:3])
            raise VerificationError(
                f"adapter {path}: tensor group {gname} ({shown}{'…' if len(names) > 3 else ''}"
                f") is not the one the proof commits to (adapter-{which})")
    return len(values)


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


# -- adapter output (used by the Python API, `zklora.zkcore.pyapi`) ------------------------


def check_adapter_out(out_dir):
    """Refuse an ``--adapter-out`` that cannot be used, before anything is proven: an
    existing file, a non-empty directory, or a place that cannot be written."""
    from pathlib import Path

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--adapter-out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"--adapter-out {out} exists and is not empty")
    parent = out.parent if str(out.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--adapter-out {out}: {probe} is not a writable directory")
    return out


def _base_model_name(params: Mapping[str, Any]) -> str | None:
    """``base_model_name_or_path`` for a trained adapter (`write_trained_adapter`)."""
    import json
    from pathlib import Path

    adapter = params.get("adapter")
    if adapter:
        try:
            d = json.loads((Path(adapter) / "adapter_config.json").read_text("utf-8"))
        except (OSError, ValueError):
            d = {}
        name = d.get("base_model_name_or_path") if isinstance(d, dict) else None
        if isinstance(name, str) and name:
            return name
    model = params.get("model")
    if isinstance(model, str) and model != "tiny" and Path(model).is_dir():
        return str(Path(model).resolve())
    return None


def _model_card(statement: Mapping[str, Any], base: str | None, out_name: str,
                proof_name: str | None) -> str:
    """README.md of a trained adapter: which proof it comes from and how to check it."""
    from .pyapi import statement_digest

    digest = statement_digest(statement)
    params = statement.get("params", {}) if isinstance(statement, Mapping) else {}
    steps = params.get("steps") if isinstance(params, Mapping) else None
    proof = proof_name or "PROOF.zkp"
    base_line = (f"`{base}`" if base else
                 "zkLoRA's built-in tiny LLaMA (`--model tiny`; no directory, so "
                 "`base_model_name_or_path` is null — write it with "
                 "`zklora.plugins.models.tiny.write_tiny_model(DIR)` and set the field to "
                 "load this adapter with `AutoPeftModelForCausalLM`)")
    return f"""---
library_name: peft
tags: [lora, zklora]
---

# LoRA adapter proven with zkLoRA

This adapter is the result of {steps if steps is not None else "the"} LoRA training
step(s) whose computation is proven by a zkLoRA proof.

* base model: {base_line}
* proof statement digest (sha256 of the canonical statement):
  `{digest}`
* model commitment: `{statement.get("model_commitment")}`
* protocol: profile `{statement.get("profile")}`, stack `{statement.get("stack")}`

Check it (the proof verifies, and these tensors are the ones it commits to):

```sh
zklora verify {proof} --adapter-out {out_name} [--model-commitment model.commit]
```

`zklora verify --json` prints the statement digest; it must equal the one above.
"""
