"""The Python API: `commit_model`, `prove`, `verify`, `inspect`, `warmup`.

Keyword arguments mirror the command-line flags (``zklora prove --steps 2 --lr 1e-3``
is ``zklora.prove(steps=2, lr=1e-3)``); results are attrs classes holding the
statement, timings, sizes and the losses as floats.  Every failure raises a subclass
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

TRAIN_MODEL = "llama-train"
FORWARD_MODEL = "llama"
TASKS = ("auto", "config", "forward", "train")

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


def statement_losses(statement: Mapping[str, Any]) -> list[float]:
    """The public loss(es) of a forward or training statement as real numbers (the
    integers at the activation scale 2^act_scale); [] for other statements."""
    params = statement.get("params") if isinstance(statement, Mapping) else None
    if not isinstance(params, Mapping):
        return []
    quant = params.get("quant")
    s = quant.get("act_scale", 16) if isinstance(quant, Mapping) else 16
    if not isinstance(s, int):
        return []
    if isinstance(params.get("losses"), list):
        vals = params["losses"]
    elif "loss" in params:
        vals = [params["loss"]]
    else:
        return []
    return [v / (1 << s) for v in vals if isinstance(v, int) and not isinstance(v, bool)]


def _betas(value) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.split(",")
    else:
        parts = list(value)
    try:
        b1, b2 = (float(x) for x in parts)
    except (TypeError, ValueError):
        raise ConfigError(f"betas: expected two numbers, e.g. 0.9,0.999; got {value!r}") \
            from None
    return [b1, b2]


def _path(p) -> str | None:
    return None if p is None else os.fspath(p)


def _task_config(cfg, model_name: str, flags: Mapping[str, Any]):
    """That model plugin with the config's [model] table (when it already names it)
    overridden by the given flags."""
    params = dict(cfg.model_params) if cfg.model == model_name else {}
    for key, value in flags.items():
        if value is not None:
            params[key] = value
    params.setdefault("model", "tiny")
    return attrs.evolve(cfg, model=model_name, model_params=params)


def load_config(config: PathLike | Mapping | None = None, profile: str | None = None):
    """A `Config` from a TOML path, a dict (the TOML's contents) or None (built-in)."""
    from . import config as configlib

    if isinstance(config, Mapping):
        return configlib.from_dict(config, profile=profile)
    return configlib.load(_path(config), profile=profile)


def build_config(*, config=None, profile: str | None = None, task: str = "auto",
                 model: PathLike | None = None, adapter: PathLike | None = None,
                 data: PathLike | None = None, steps: int | None = None,
                 optimizer: str | None = None, lr: float | None = None, betas=None,
                 eps: float | None = None, weight_decay: float | None = None,
                 adapter_out: PathLike | None = None, resume: PathLike | None = None):
    """The `Config` `prove` runs (the CLI's flag logic); raises `ConfigError`."""
    if task not in TASKS:
        raise ConfigError(f"task: {task!r}; allowed: {', '.join(TASKS)}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                              or steps < 1):
        raise ConfigError(f"steps must be an integer ≥ 1, got {steps!r}")
    train_flags = {"steps": steps, "optimizer": optimizer, "lr": lr, "betas": _betas(betas),
                   "eps": eps, "weight_decay": weight_decay, "resume": _path(resume)}
    paths = {"model": _path(model), "adapter": _path(adapter), "data": _path(data)}
    if task == "auto":
        given = [v for v in [*paths.values(), *train_flags.values(), adapter_out]
                 if v is not None]
        task = "train" if given else "config"
    cfg = load_config(config, profile)
    if task == "train":
        return _task_config(cfg, TRAIN_MODEL, {**paths, **train_flags})
    if any(v is not None for v in train_flags.values()) or adapter_out is not None:
        raise ConfigError("steps, optimiser settings and adapter_out (--steps, --optimizer, "
                          "--lr, --betas, --eps, --weight-decay, --adapter-out) need the "
                          "train task")
    if task == "forward":
        return _task_config(cfg, FORWARD_MODEL, paths)
    if any(v is not None for v in paths.values()):
        raise ConfigError("model, adapter and data (--model, --adapter, --data) need the "
                          "forward or train task")
    return cfg


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


def commit_model(model: PathLike = "tiny", *, config=None, profile: str | None = None,
                 out: PathLike | None = None, registry=None) -> CommitResult:
    """Commit a model's frozen base weights (what the model owner publishes once).

    ``model``: a Hugging Face LLaMA directory or "tiny"; ``config``/``profile``: the
    protocol stack and quantisation (default: the built-in profile); ``out``: write
    the commitment file there (atomically)."""
    from . import api
    from . import proof as prooflib

    t0 = time.perf_counter()
    if out is not None:
        check_output_file(out)
    cfg = _task_config(load_config(config, profile), FORWARD_MODEL, {"model": _path(model)})
    mc = api.commit_model(cfg, registry)
    if out is not None:
        _write(out, mc.to_bytes(), prooflib)
    return CommitResult(mc.digest(), len(mc.tensors), cfg.stack.as_dict(),
                        None if out is None else Path(out), time.perf_counter() - t0, mc)


def _write(path, data: bytes, prooflib) -> None:
    try:
        prooflib.write_atomic(path, data)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from None


def prove(*, model: PathLike | None = None, adapter: PathLike | None = None,
          data: PathLike | None = None, steps: int | None = None,
          optimizer: str | None = None, lr: float | None = None,
          betas: Sequence[float] | str | None = None, eps: float | None = None,
          weight_decay: float | None = None, task: str = "auto", config=None,
          profile: str | None = None, out: PathLike | None = None,
          adapter_out: PathLike | None = None, model_commitment=None,
          progress: bool | str | Reporter = False, registry=None,
          resume: PathLike | None = None) -> ProveResult:
    """Prove a task and (with ``out``) write the proof file atomically.

    Without ``config`` and without any of ``model``, ``adapter``, ``data``, ``steps`` or
    an optimiser setting, the built-in matmul example is proven (``task="auto"``);
    with any of them, LoRA training steps of ``model`` ("tiny" by default).
    ``task="forward"`` proves the forward pass and loss only.  ``adapter_out``: write
    the trained adapter (peft format) there — checked before anything is proven.
    ``model_commitment``: a path (or `ModelCommitment`) the base weights must match.
    ``resume``: an ``adapter_out`` directory of the previous proof of the same run —
    continue from its exact adapter, Adam state and step index (a linked proof,
    `zklora.zkcore.chain`; docs/training.md).
    ``progress``: True for a progress display on stderr (a bar on a terminal, log lines
    otherwise), or a `zklora.zkcore.progress.Reporter`.
    """
    from . import api
    from . import proof as prooflib

    t0 = time.perf_counter()
    cfg = build_config(config=config, profile=profile, task=task, model=model,
                       adapter=adapter, data=data, steps=steps, optimizer=optimizer, lr=lr,
                       betas=betas, eps=eps, weight_decay=weight_decay,
                       adapter_out=adapter_out, resume=resume)
    if out is not None:
        check_output_file(out)
    if adapter_out is not None:
        api.check_adapter_out(adapter_out)
    trusted = _trusted(model_commitment)
    rep = _reporter(progress)
    with rep:
        res = api.prove(cfg, registry=registry, progress=rep.progress,
                        trusted_model=trusted, profile=rep.profile)
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
        losses=statement_losses(res.statement), prove_seconds=res.prove_seconds,
        total_seconds=time.perf_counter() - t0, timings=dict(rep.timings),
        op_timings=dict(rep.op_timings), compile_seconds=rep.compile_seconds,
        peak_rss=peak_rss_bytes(), data=res.data)


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
                        len(blob), statement_losses(statement), dt, checked,
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


def warmup(profile: str = "fast", *, progress: bool | str | Reporter = False) -> float:
    """Compile the numba kernels ahead of time (they are cached on disk): prove and
    verify one training step of the tiny model, default batch 4 × 32 tokens (large
    enough that the kernels' parallel, large-array variants run too), under
    ``profile`` — in memory, nothing is written.  Returns the seconds spent."""
    t0 = time.perf_counter()
    res = prove(model="tiny", steps=1, profile=profile, config={"task": {"model": TRAIN_MODEL}},
                progress=progress)
    verify(res.data)
    return time.perf_counter() - t0


__all__ = ["CommitResult", "InspectResult", "ProveResult", "VerifyResult", "build_config",
           "check_output_file", "commit_model", "inspect", "prove", "statement_digest",
           "statement_losses", "verify", "warmup"]
