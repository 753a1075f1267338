"""The Python API: `commit_model`, `prove`, `verify`, `inspect`, `warmup`.

Keyword arguments mirror the command-line flags (``zklora prove --steps 2 --lr 1e-3``
is ``zklora.prove(steps=2, lr=1e-3)``).  The kernel's own keywords are few (config,
profile, task, out, adapter_out, model_commitment, progress, registry); every other one
is an option a model plugin declares (``zk_model_options``, `zklora.zkcore.model`), the
same declarations the command line builds its flags from.  Results are attrs classes
holding the statement, timings, sizes and the losses as floats.  Every failure raises a subclass
of `zklora.zkcore.errors.ZkLoraError`.  The command line (`zklora.zkcore.cli`) is a
thin layer over these functions.  See ``docs/python-api.md``.

Importing this module is cheap (torch, numba and the plugins are imported when a
function runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import ConfigError, ProverError, VerificationError, ZkLoraError
from .progress import Reporter, peak_rss_bytes

#: Keywords of `prove` the kernel owns; every other keyword is a model plugin's option.
PROVE_KEYWORDS = ("config", "profile", "task", "out", "adapter_out", "model_commitment",
                  "progress", "registry", "executor", "ray_address", "backend",
                  "zero_knowledge", "prover_cache")

PathLike = str | os.PathLike


# -- results --------------------------------------------------------------------------------


@attrs.frozen
class CommitResult:
    """A base-model commitment (`commit_model`)."""

    digest: str                 #: what a verifier pins (``--model-commitment``)
    tensors: int                #: number of committed frozen tensors
    stack: dict                 #: field, commitment scheme, lookup, hash
    path: Path | None           #: where it was written (``out``), if anywhere
    seconds: float
    commitment: Any = attrs.field(repr=False)  #: the `ModelCommitment` itself

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "tensors": self.tensors, "stack": self.stack,
                "path": None if self.path is None else str(self.path),
                "seconds": self.seconds}


@attrs.frozen
class ProveResult:
    """A proof (`prove`): the statement, where it went and what it cost."""

    statement: dict
    statement_digest: str        #: sha256 of the canonical statement
    model: str
    profile: str
    proof_size: int              #: bytes
    path: Path | None            #: the proof file (``out``), if written
    adapter_out: Path | None     #: the trained adapter directory, if written
    losses: list[float]          #: per step (training) or one (forward); [] otherwise
    prove_seconds: float         #: the prover proper (forward pass to openings)
    total_seconds: float         #: everything, loading and writing included
    timings: dict[str, float]    #: wall time per phase
    op_timings: dict[str, float]  #: prover time per op kind
    compile_seconds: float       #: numba compilation during this call (0 when cached)
    peak_rss: int                #: peak resident memory of the process, bytes
    data: bytes = attrs.field(repr=False)  #: the proof file's bytes
    #: prover time per segment of a segmented step, in segment order ({} otherwise)
    segment_timings: dict[str, float] = attrs.field(factory=dict)
    #: the prover cache's use (hit, miss-stored, miss, unused), None without one
    prover_cache: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = attrs.asdict(self, recurse=False)
        del d["data"]
        for k in ("path", "adapter_out"):
            d[k] = None if d[k] is None else str(d[k])
        return d


@attrs.frozen
class VerifyResult:
    """A verified proof (`verify` raises instead of returning a failure)."""

    statement: dict
    statement_digest: str
    model: str
    proof_size: int
    losses: list[float]
    seconds: float
    adapters: dict[str, int]     #: "in"/"out" → tensors checked against the statement
    security_bits: float | None  #: estimated soundness, when the stack reports it
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False)


@attrs.frozen
class InspectResult:
    """A proof file's statement and the size of its parts (no verification)."""

    statement: dict
    statement_digest: str
    size: int
    sections: dict[str, int]     #: file section → bytes
    stream: list[tuple[str, int]]  #: proof-stream part → bytes, in order

    def as_dict(self) -> dict[str, Any]:
        d = attrs.asdict(self, recurse=False)
        d["stream"] = [[n, b] for n, b in self.stream]
        return d


# -- helpers ---------------------------------------------------------------------------------


def statement_digest(statement: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of a statement: a short name for a proof's
    claim (printed by ``prove``/``verify`` and written into the adapter's model card)."""
    blob = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def statement_losses(statement: Mapping[str, Any], registry=None) -> list[float]:
    """The public loss(es) of a statement as real numbers, one per step, as its model
    plugin reads them (`zklora.zkcore.model.Model.losses`); [] for a model without any
    (or a statement its plugin cannot read)."""
    params = statement.get("params") if isinstance(statement, Mapping) else None
    if not isinstance(params, Mapping) or not isinstance(statement.get("model"), str):
        return []
    if registry is None:
        from .plugins import registry as default_registry

        registry = default_registry()
    try:
        fn = getattr(registry.model(statement["model"]), "losses", None)
        vals = fn(params) if fn is not None else []
        return [float(v) for v in vals]
    except (ZkLoraError, TypeError, KeyError, ValueError, OverflowError, ZeroDivisionError):
        return []


def _path(p) -> str | None:
    return None if p is None else os.fspath(p)


def _cache(p):
    """A prover-cache argument: a directory (a path) or a `provercache.ProverCache`
    (the caller's, kept open: its entries in use stay locked until its ``close``)."""
    from .provercache import ProverCache

    return p if isinstance(p, ProverCache) else _path(p)


def load_config(config: PathLike | Mapping | None = None, profile: str | None = None,
                zero_knowledge: bool | None = None):
    """A `Config` from a TOML path, a dict (the TOML's contents) or None (built-in);
    ``profile`` and ``zero_knowledge`` (``[proof] zero_knowledge``) override it."""
    from . import config as configlib

    if isinstance(config, Mapping):
        return configlib.from_dict(config, profile=profile, zero_knowledge=zero_knowledge)
    return configlib.load(_path(config), profile=profile, zero_knowledge=zero_knowledge)


def option_table(registry=None):
    """The model plugins' declared options (`zklora.zkcore.model.OptionTable`) of
    ``registry`` (default: the installed plugins)."""
    if registry is None:
        from .plugins import registry as default_registry

        registry = default_registry()
    return registry.model_options()


def _check_keywords(func: str, table, options: Mapping[str, Any], kernel: Sequence[str],
                    allowed: Sequence[str] | None = None) -> None:
    allowed = table.names() if allowed is None else allowed
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"{func}: unknown keyword {unknown[0]!r}; allowed: "
                          f"{', '.join(sorted({*kernel, *allowed}))}")


def _select(table, cfg, task, options: Mapping[str, Any], requires=()):
    """The config of the model `OptionTable.select` picks, with the given options set."""
    if not isinstance(task, str):
        raise ConfigError(f"task: expected a string, got {task!r}")
    given = {k: v for k, v in options.items() if v is not None}
    name = table.select(task, cfg.model, given, requires)
    if name == cfg.model and not given:
        return cfg
    return attrs.evolve(cfg, model=name,
                        model_params=table.params(name, cfg.model, cfg.model_params, given))


def build_config(*, config=None, profile: str | None = None, task: str = "auto",
                 adapter_out: PathLike | None = None, registry=None,
                 executor: str | None = None, ray_address: str | None = None,
                 backend: str | None = None, zero_knowledge: bool | None = None,
                 **options):
    """The `Config` `prove` runs (the CLI's flag logic); raises `ConfigError`.

    ``task``: ``auto`` (default: the config's model, or — when model options are given —
    the model that takes them all, preferring the config's own), ``config``, a task
    alias a model plugin declares (``forward``, ``train``) or a model name.  ``options``:
    the model plugins' declared options; each given one sets its ``[model]`` key over
    the config file's table (kept when the config names the chosen model).
    ``executor`` / ``ray_address`` override the config's ``[executor]`` name / address;
    ``backend`` the config's ``backend`` (``cpu``, ``cuda``, ``auto``);
    ``zero_knowledge`` (a bool) the config's ``[proof] zero_knowledge``."""
    table = option_table(registry)
    _check_keywords("prove", table, options, PROVE_KEYWORDS)
    if zero_knowledge is not None and not isinstance(zero_knowledge, bool):
        raise ConfigError(f"zero_knowledge: expected True or False, got {zero_knowledge!r}")
    cfg = load_config(config, profile, zero_knowledge)
    if executor is not None or ray_address is not None:
        from . import config as configlib

        ex = dict(cfg.executor)
        if executor is not None:
            ex["name"] = executor
        if ray_address is not None:
            ex["address"] = ray_address
        cfg = attrs.evolve(cfg, executor=configlib.executor_table(ex, "executor option"))
    if backend is not None:
        from . import config as configlib

        if backend not in configlib.BACKENDS:
            raise ConfigError(f"backend: {backend!r} is not a backend; allowed: "
                              f"{', '.join(configlib.BACKENDS)}")
        cfg = attrs.evolve(cfg, backend=backend)
    return _select(table, cfg, task, options, ["adapter_out"] if adapter_out else [])


def _trusted(model_commitment):
    """A `ModelCommitment` from a path (or one given as is)."""
    if model_commitment is None:
        return None
    from . import modelcommit

    if isinstance(model_commitment, modelcommit.ModelCommitment):
        return model_commitment
    return modelcommit.read(_path(model_commitment))


def check_output_file(path: PathLike, what: str = "--out") -> Path:
    """Refuse an output file that cannot be written, before any work is done."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ConfigError(f"{what} {p} is a directory")
    if not parent.is_dir():
        raise ConfigError(f"{what} {p}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {p}: directory {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{what} {p} exists and is not writable")
    return p


def _reporter(progress) -> Reporter:
    if isinstance(progress, Reporter):
        return progress
    if progress is True:
        return Reporter("auto")
    if progress in (False, None):
        return Reporter("none")
    if isinstance(progress, str):
        return Reporter(progress)
    raise ConfigError(f"progress: expected a bool, a mode or a Reporter, got {progress!r}")


def _read_proof(proof) -> bytes:
    if isinstance(proof, bytes | bytearray | memoryview):
        return bytes(proof)
    try:
        return Path(proof).read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read proof file {proof}: {e.strerror or e}") from None


def _load_expect(expect) -> Mapping[str, Any] | None:
    if expect is None or isinstance(expect, Mapping):
        return expect
    try:
        return tomllib.loads(Path(expect).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read expected statement {expect}: {e}") from None


# -- the API ---------------------------------------------------------------------------------


def commit_model(model: PathLike | None = None, *, config=None, profile: str | None = None,
                 task: str = "auto", out: PathLike | None = None, registry=None,
                 prover_cache: PathLike | None = None, **options) -> CommitResult:
    """Commit a model's frozen base weights (what the model owner publishes once).

    ``model``: the value of the option that selects the base weights (the one option a
    model plugin declares ``frozen``; with the built-in LLaMA plugins a Hugging Face
    directory or "tiny", their default); ``options``: such options by name;
    ``config``/``profile``: the protocol stack and the model's parameters (default:
    built-in; always the stack without zero knowledge, the only proofs a model
    commitment binds); ``task``: as in `prove` (auto: the config's model when it has
    frozen weights, else the highest-priority model that has); ``out``: write the
    commitment file there (atomically); ``prover_cache``: also store the prover states
    of the commitment in this directory, for the proofs that follow
    (`zklora.zkcore.provercache`)."""
    from . import api
    from . import proof as prooflib

    t0 = time.perf_counter()
    table = option_table(registry)
    frozen = sorted(n for n in table.names() if table.shared[n].frozen)
    _check_keywords("commit_model", table, options, ("config", "profile", "task", "out",
                                                      "registry", "prover_cache"), frozen)
    if model is not None:
        if len(frozen) != 1:
            raise ConfigError("commit_model: the installed model plugins declare "
                              f"{len(frozen)} base-weight options ({', '.join(frozen)}); "
                              "give it by name")
        options = {**options, frozen[0]: model}
    if out is not None:
        check_output_file(out)
    # a model commitment binds proofs made without zero knowledge only (hiding commitments
    # are randomised, docs/zero-knowledge.md §5.5): commit with the stack such a proof
    # uses (`fast`: WHIR, not the ZK default's hiding Ligero)
    cfg = _select(table, load_config(config, profile, False), task, options, ["frozen"])
    mc = api.commit_model(cfg, registry, prover_cache=_cache(prover_cache))
    if out is not None:
        _write(out, mc.to_bytes(), prooflib)
    return CommitResult(mc.digest(), len(mc.tensors), cfg.stack.as_dict(),
                        None if out is None else Path(out), time.perf_counter() - t0, mc)


def _write(path, data: bytes, prooflib) -> None:
    try:
        prooflib.write_atomic(path, data)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from None


def prove(*, task: str = "auto", config=None, profile: str | None = None,
          out: PathLike | None = None, adapter_out: PathLike | None = None,
          model_commitment=None, progress: bool | str | Reporter = False, registry=None,
          executor: str | None = None, ray_address: str | None = None,
          backend: str | None = None, zero_knowledge: bool | None = None,
          prover_cache: PathLike | None = None, **options) -> ProveResult:
    """Prove a task and (with ``out``) write the proof file atomically.

    ``prover_cache``: a directory of prover states of frozen base weights
    (`zklora.zkcore.provercache`; created when missing): the base weights' commitment
    is taken from it when it holds them, else made and stored there — the same proof
    either way (``ProveResult.prover_cache`` says which); not with zero knowledge.

    ``executor``: ``"local"`` (default) or ``"ray"`` — who proves the segments of a
    segmented step (docs/distributed.md); ``ray_address``: the Ray cluster to join
    (default: a local one).  ``backend``: the compute backend of the prover's kernels
    (``cpu``, ``cuda``, ``auto``; default the config's, else ``cpu``; docs/gpu.md).
    ``zero_knowledge``: True / False override the config's ``[proof] zero_knowledge``
    (docs/zero-knowledge.md; default: the config's, else the profile's).

    ``options``: the options the model plugins declare (``zklora prove --help`` lists
    them by model; with the built-in LLaMA plugins ``model``, ``adapter``, ``data`` and,
    for training, ``steps``, ``optimizer``, ``lr``, ``betas``, ``eps``,
    ``weight_decay``, ``resume``); an unknown keyword is a `ConfigError` naming the
    allowed ones.  Without any, the config's model is proven (without ``config``, the
    built-in matmul example); with some, the model that takes them (``task="auto"``;
    see `build_config`), or the one ``task`` names.  ``adapter_out``: write the trained
    adapter (peft format) there — checked before anything is proven; it needs a model
    that trains an adapter.  ``model_commitment``: a path (or `ModelCommitment`) the
    base weights must match.  ``progress``: True for a progress display on stderr (a bar
    on a terminal, log lines otherwise), or a `zklora.zkcore.progress.Reporter`.
    """
    from . import api
    from . import proof as prooflib

    t0 = time.perf_counter()
    cfg = build_config(config=config, profile=profile, task=task, adapter_out=adapter_out,
                       registry=registry, executor=executor, ray_address=ray_address,
                       backend=backend, zero_knowledge=zero_knowledge,
                       **options)
    if out is not None:
        check_output_file(out)
    if adapter_out is not None:
        api.check_adapter_out(adapter_out)
    trusted = _trusted(model_commitment)
    rep = _reporter(progress)
    with rep:
        res = api.prove(cfg, registry=registry, progress=rep.progress,
                        trusted_model=trusted, profile=rep.profile,
                        prover_cache=_cache(prover_cache))
        digest = statement_digest(res.statement)
        if out is not None or adapter_out is not None:
            rep.phase("write")
        if out is not None:
            _write(out, res.data, prooflib)
        if adapter_out is not None:
            api.write_trained_adapter(cfg, adapter_out, registry, statement=res.statement,
                                      proof_name=None if out is None else Path(out).name)
        rep.finish()
    return ProveResult(
        statement=res.statement, statement_digest=digest, model=cfg.model,
        profile=cfg.profile, proof_size=len(res.data),
        path=None if out is None else Path(out),
        adapter_out=None if adapter_out is None else Path(adapter_out),
        losses=statement_losses(res.statement, registry), prove_seconds=res.prove_seconds,
        total_seconds=time.perf_counter() - t0, timings=dict(rep.timings),
        op_timings=dict(rep.op_timings), compile_seconds=rep.compile_seconds,
        peak_rss=peak_rss_bytes(), data=res.data,
        segment_timings=dict(rep.segment_timings), prover_cache=res.prover_cache)


def verify(proof: PathLike | bytes, *, expect: PathLike | Mapping | None = None,
           model_commitment=None, adapter_in: PathLike | None = None,
           adapter_out: PathLike | None = None, progress: bool | str | Reporter = False,
           registry=None) -> VerifyResult:
    """Verify a proof file (a path or its bytes); raises `VerificationError` (or
    `ProofFormatError` for a malformed file) when it does not verify.

    ``expect``: statement fields to insist on (a TOML path or a dict);
    ``model_commitment``: the base-model commitment the verifier trusts;
    ``adapter_in``/``adapter_out``: peft adapter directories that must be the proof's
    initial / trained adapter."""
    from . import api

    exp = _load_expect(expect)
    trusted = _trusted(model_commitment)
    blob = _read_proof(proof)
    rep = _reporter(progress)
    t0 = time.perf_counter()
    checked: dict[str, int] = {}
    with rep:
        rep.phase("verify")
        statement = api.verify(blob, exp, registry=registry, trusted_model=trusted)
        for which, path in (("in", adapter_in), ("out", adapter_out)):
            if path is not None:
                try:
                    checked[which] = api.check_adapter(statement, which, _path(path),
                                                       registry)
                except ProverError as e:  # e.g. a value the proof's scale cannot hold
                    raise VerificationError(str(e)) from None
        rep.finish()
    dt = time.perf_counter() - t0
    return VerifyResult(statement, statement_digest(statement), str(statement.get("model")),
                        len(blob), statement_losses(statement, registry), dt, checked,
                        _security_bits(statement, registry))


def _security_bits(statement, registry) -> float | None:
    """The stack's soundness estimate, when the kernel offers one."""
    from . import api

    fn = getattr(api, "security_bits", None)
    if fn is None:
        return None
    try:
        v = fn(statement, registry) if registry is not None else fn(statement)
    except (ZkLoraError, TypeError, KeyError, ValueError):
        return None
    if isinstance(v, Mapping):
        v = v.get("bits", v.get("total"))
    return float(v) if isinstance(v, int | float) else None


def inspect(proof: PathLike | bytes) -> InspectResult:
    """A proof file's statement and the size of each section and proof-stream part
    (parses the file; does not verify it)."""
    from . import proof as prooflib

    blob = _read_proof(proof)
    pf = prooflib.decode(blob)
    index = pf.index()
    return InspectResult(dict(pf.statement), statement_digest(pf.statement), len(blob),
                         {n: len(p) for n, p in pf.sections.items()},
                         [(n, b - a) for n, a, b in index])


def example_config(registry=None, **params) -> dict[str, Any] | None:
    """The config (as a dict) of the example run of the highest-priority model plugin
    that declares one (`zklora.zkcore.model.ModelOptions.example`), with ``params`` set
    over its parameters when the model takes them as options; None when no plugin
    declares an example (the built-in config is the example then)."""
    table = option_table(registry)
    if not table.examples:
        return None
    name = max(table.examples, key=lambda m: (table.priority[m], m))
    own = table.options.get(name, {})
    extra = {own[k].param_key: own[k].value(v) for k, v in params.items() if k in own}
    return {"task": {"model": name}, "model": {**table.examples[name], **extra}}


#: the thresholds `warmup`'s streamed pass sets (environment overrides the prover reads):
#: tiny budgets, so the example's tables spill to read-only scratch maps and the lookups
#: and openings run their streamed passes — the kernels (and read-only array variants)
#: a large model's proof uses and the in-memory example never reaches
WARMUP_STREAMED_ENV = {"ZKLORA_SPILL_BYTES": "4096", "ZKLORA_LOOKUP_STREAM_BYTES": "65536",
                       "ZKLORA_LOOKUP_KEEP_LAYERS": "4", "ZKLORA_OPEN_BYTES": "65536"}


def _warm_pass(profile: str, progress: bool | str | Reporter = False) -> None:
    """Prove and verify the example run under ``profile`` with zero knowledge on and
    off (each setting has its own commitment scheme and sumcheck paths); a setting the
    profile refuses (`ConfigError`) is skipped, unless both are."""
    refused = []
    for zk_on in (True, False):
        try:
            res = prove(profile=profile, config=example_config(), progress=progress,
                        zero_knowledge=zk_on)
        except ConfigError as e:
            refused.append(e)
            continue
        verify(res.data)
    if len(refused) == 2:
        raise refused[0]


def _warm_kernels() -> None:
    """The kernel signatures a real-size prove reaches and the example's does not (its
    sizes sit below the kernels' serial/parallel and rows/blocks thresholds; without these
    the first 25m-shape prove after `warmup` compiled ~9 s): the sumcheck kernels
    (`sumcheck.warm`), the rows-streamed `vecmat` over in-memory and read-only matrices,
    the parallel `whir.lincomb_base`, `whir_open.lincomb_fold` (a streamed batch's
    combination; ≈ 7 s to compile),
    `whir_eq.pow_eq_accumulate`'s serial and parallel combine, `whir_open.split_rows`
    (a streamed round's messages from row sums; its IFMA52 form too) and `whir_eq.fold_eq`
    (IFMA52 on in-memory and mapped tables), the encoder's lane-layout blocks
    (`ntt.rs_encode_cols`), the witness's int64 `int_gemm.gemm_nt`
    and the rescale forward's `fixed_point` kernels, and the elementwise extension ops
    with a read-only operand."""
    import numpy as np

    from zklora.kernels import fixed_point, int_gemm, ntt, whir, whir_eq, whir_open

    from . import plugins, sumcheck

    E = plugins.registry().field("goldilocks-ext2")
    sumcheck.warm(E)
    rng = np.random.default_rng(2)
    e = rng.integers(0, 1 << 32, (256, 2), dtype=np.uint64)
    M = rng.integers(0, 1 << 32, (256, 128), dtype=np.uint64)
    E.vecmat(e, M)
    M.flags.writeable = False
    E.vecmat(e, M)
    whir.lincomb_base(rng.integers(0, 1 << 32, (4, 1 << 13), dtype=np.uint64),
                      rng.integers(0, 1 << 32, (4, 2), dtype=np.uint64))
    for ro in (False, True):        # serial lincomb over in-memory and mapped rows
        tabs = rng.integers(0, 1 << 32, (4, 1 << 10), dtype=np.uint64)
        tabs.flags.writeable = not ro
        whir.lincomb_base(tabs, rng.integers(0, 1 << 32, (4, 2), dtype=np.uint64))
    whir_open.lincomb_fold([rng.integers(0, 1 << 32, 1 << 6, dtype=np.uint64)] * 2,
                           rng.integers(0, 1 << 32, (2, 2), dtype=np.uint64),
                           rng.integers(0, 1 << 32, (1, 2), dtype=np.uint64))
    # a streamed first round's / batch reduction's messages from W's row sums
    whir_open.split_rows([rng.integers(0, 1 << 32, 1 << 6, dtype=np.uint64)] * 2,
                         np.ones((1, 2, 16, 2), dtype=np.uint64), 2)
    # the IFMA52 row sums / folds (2^a >= 8 entries a row, 2^j >= 8 folds: the kernels a
    # real opening takes on an AVX-512 IFMA host; the acc_mul ones elsewhere)
    whir_open.split_rows([rng.integers(0, 1 << 32, 1 << 6, dtype=np.uint64)] * 2,
                         np.ones((1, 2, 8, 2), dtype=np.uint64), 3)
    for ro in (False, True):
        s = rng.integers(0, 1 << 32, 1 << 8, dtype=np.uint64)
        s.flags.writeable = not ro
        whir_eq.fold_eq(s, rng.integers(0, 1 << 32, (3, 2), dtype=np.uint64))
    _warm_streamed_passes(rng)
    _warm_leaf_sets(rng)
    # the encoder's lane-layout blocks (`ntt._rs_encode_lane_par`, taken on an IFMA host
    # for whole blocks of 8 evenly spaced columns; `_rs_encode_cols_par` elsewhere)
    # and the gathering `_rs_encode_cols_par` for column sets that are not whole blocks
    for n in (16, 12):
        ntt.rs_encode_cols(rng.integers(0, 1 << 32, (1 << 11, 16), dtype=np.uint64),
                           np.arange(n, dtype=np.int64), 1)
    # the rescale forward's split and limbs (`ops/rescale`: contiguous int64)
    fixed_point.rescale_split(np.zeros(4, np.int64), 16, np.empty(4, np.int64),
                              np.empty(4, np.int64))
    fixed_point.limb_of(np.zeros(4, np.int64), 0, 0, 8, np.empty(4, np.int64))
    # the witness's X·Wᵀ products (`ops/matmul`: int64, C-contiguous, 2-D W)
    int_gemm.gemm_nt(np.zeros((2, 4), np.int64), np.zeros((4, 4), np.int64),
                     np.empty((2, 4), np.int64))
    for m, q in ((4, 2), (12, 4)):  # serial and parallel combine
        whir_eq.pow_eq_accumulate(np.zeros((1 << m, 2), np.uint64),
                                  rng.integers(0, 1 << 32, q, dtype=np.uint64),
                                  rng.integers(0, 1 << 32, (q, 2), dtype=np.uint64))
    for n in (16, 1 << 13):  # elementwise ops with a read-only (memory-mapped) operand
        a = rng.integers(0, 1 << 32, (n, 2), dtype=np.uint64)
        b = a.copy()
        b.flags.writeable = False
        for op in (E.add, E.sub, E.mul):
            op(a, b)
            op(b, a)


def _warm_streamed_passes(rng) -> None:
    """The streamed WHIR passes over base blocks that a real-size opening still takes
    where the row-sum messages (`whir_open.split_rows`) do not apply, and which the
    warm-up's small proves no longer reach: `whir_open.split_round` /
    `fold_split_round`, `whir_sumcheck.round_` / `fold_round` on in-memory and read-only
    (memory-mapped) blocks, `whir.fold_coeffs` of a base coefficient form."""
    import numpy as np

    from zklora.kernels import whir, whir_open, whir_sumcheck

    A = rng.integers(0, 1 << 32, (1, 4, 2), dtype=np.uint64)    # a = 2
    B = rng.integers(0, 1 << 32, (1, 8, 2), dtype=np.uint64)
    s = rng.integers(0, 1 << 32, 1 << 6, dtype=np.uint64)
    whir_open.fold_split_round(s, rng.integers(0, 1 << 32, (1, 2), dtype=np.uint64),
                               A, B, 2, 0)
    whir_open.split_round(s[:32].copy(), A, B, 2, 0)
    alpha = rng.integers(0, 1 << 32, 2, dtype=np.uint64)
    for ro in (False, True):
        f = rng.integers(0, 1 << 32, 64, dtype=np.uint64)
        f.flags.writeable = not ro
        w = rng.integers(0, 1 << 32, (64, 2), dtype=np.uint64)
        whir_sumcheck.round_(f, w)
        whir_sumcheck.fold_round(f, w, alpha)
    whir.fold_coeffs(rng.integers(0, 1 << 32, 1 << 6, dtype=np.uint64),
                     rng.integers(0, 1 << 32, (2, 2), dtype=np.uint64))


def _warm_leaf_sets(rng) -> None:
    """`lookup_gkr.leaf_sets_u64`'s one- and two-column kernels (serial and parallel)
    over every mix of in-memory and read-only (memory-mapped) columns."""
    import numpy as np

    from zklora.kernels import lookup_gkr

    for n in (64, 1 << 14):
        for w in (1, 2):
            for ro0, ro1 in ((False, False), (False, True), (True, False), (True, True)):
                cols = [rng.integers(0, 1 << 32, n, dtype=np.uint64) for _ in range(w)]
                cols[0].flags.writeable = not ro0
                cols[-1].flags.writeable = not (ro1 if w == 2 else ro0)
                ap = rng.integers(0, 1 << 32, (2, w, 2), dtype=np.uint64)
                bt = rng.integers(0, 1 << 32, (2, 2), dtype=np.uint64)
                lookup_gkr.leaf_sets_u64(cols, ap, bt, np.empty((n, 2, 2), np.uint64))


def warmup(profile: str = "fast", *, progress: bool | str | Reporter = False,
           streamed: bool = True) -> float:
    """Compile the numba kernels ahead of time (they are cached on disk): prove and
    verify, in memory, the example run of the highest-priority model plugin that
    declares one (`ModelOptions.example`; with the built-in plugins one training step
    of the tiny LLaMA on a batch of 4 × 32 tokens, large enough that the kernels'
    parallel, large-array variants run too), else the built-in config, under
    ``profile``, with zero knowledge on and off; then (``streamed``) once more in a
    child process with `WARMUP_STREAMED_ENV`'s tiny memory budgets, so the streamed
    passes a large model's lookups and openings take are compiled too (without it the
    first 30-layer SmolLM-width proof spent ≈ 3 minutes compiling them).  Returns the
    seconds spent."""
    import subprocess
    import sys

    t0 = time.perf_counter()
    _warm_pass(profile, progress)
    _warm_kernels()
    if streamed:
        env = {**os.environ, **WARMUP_STREAMED_ENV}
        code = f"from zklora.zkcore import pyapi; pyapi._warm_pass({profile!r})"
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True)
        if p.returncode != 0:
            tail = (p.stderr or "").strip().splitlines()[-5:]
            raise ProverError("warmup: the streamed pass failed: " + " | ".join(tail))
    return time.perf_counter() - t0


__all__ = ["CommitResult", "InspectResult", "ProveResult", "VerifyResult", "build_config",
           "check_output_file", "commit_model", "example_config", "inspect", "option_table",
           "prove", "statement_digest", "statement_losses", "verify", "warmup"]
