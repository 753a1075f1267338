"""The ``zklora`` command line: a thin layer over the Python API (`zklora.zkcore.pyapi`).

Output: human text on stdout (progress and notices on stderr); with ``--json``, exactly
one JSON document on stdout — ``{"ok": true, ...}`` or ``{"ok": false, "error": ...,
"error_type": ..., "exit_code": ...}`` — and every human line on stderr.

Exit codes (stable, documented in docs/user-guide.md):

====  ==========================================================================
0     success (``verify``: the proof verifies)
1     rejected: the proof does not verify, or the proof file is malformed
2     usage error (unknown option, bad option value)
3     bad input: config, flags, model/adapter/data files, plugins, output paths
4     the prover cannot prove this witness (e.g. a value outside a table)
70    internal error (a bug; with ``--json`` it is reported as a JSON document)
130   interrupted (Ctrl-C); nothing half-written is left on disk
====  ==========================================================================

Imports are lazy (torch, numba and the plugins load when a command runs), so
``zklora --version`` and ``--help`` are fast.  The command line names no model and no
model option: ``prove`` and ``commit-model`` add the options the model plugins declare
(``zk_model_options``, `zklora.zkcore.model.ModelOption`) when they parse their
arguments or print their help, grouped by model in ``--help``.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, NoReturn

import click

from .. import __version__
from .errors import (
    ConfigError,
    PluginError,
    ProofFormatError,
    ProverError,
    VerificationError,
    ZkLoraError,
)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_PROVER = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def exit_code(exc: BaseException) -> int:
    """The exit code of an error (module doc)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, VerificationError | ProofFormatError):
        return EXIT_REJECTED
    if isinstance(exc, ProverError):
        return EXIT_PROVER
    if isinstance(exc, ConfigError | PluginError | ZkLoraError):
        return EXIT_INPUT
    return EXIT_INTERNAL


class Out:
    """Where a command's output goes: human lines to stdout (stderr under ``--json``),
    one JSON document to stdout under ``--json``."""

    def __init__(self, as_json: bool, command: str):
        self.json = as_json
        self.command = command

    def say(self, msg: str = "") -> None:
        click.echo(msg, err=self.json)

    def note(self, msg: str) -> None:
        click.echo(msg, err=True)

    def result(self, doc: dict[str, Any]) -> None:
        if self.json:
            click.echo(json.dumps({"ok": True, "command": self.command, **doc},
                                  sort_keys=True))

    def fail(self, exc: BaseException | str, code: int | None = None,
             prefix: str = "") -> NoReturn:
        if isinstance(exc, click.ClickException):
            msg = exc.format_message()
        else:
            msg = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
        code = code if code is not None else (
            exit_code(exc) if isinstance(exc, BaseException) else EXIT_INPUT)
        kind = type(exc).__name__ if isinstance(exc, BaseException) else "Error"
        if isinstance(exc, KeyboardInterrupt):
            msg = "interrupted; nothing half-written was left"
        click.echo(f"error: {prefix}{msg}", err=True)
        if self.json:
            click.echo(json.dumps({"ok": False, "command": self.command,
                                   "error": f"{prefix}{msg}", "error_type": kind,
                                   "exit_code": code}, sort_keys=True))
        sys.exit(code)


class _Run:
    """``with _Run(out): ...`` turns project errors (and, under ``--json``, anything)
    into the error line / JSON document and exit code."""

    def __init__(self, out: Out, prefix: str = ""):
        self.out, self.prefix = out, prefix

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is None or isinstance(exc, SystemExit):
            return False
        if isinstance(exc, ZkLoraError | KeyboardInterrupt):
            rejected = exit_code(exc) == EXIT_REJECTED
            self.out.fail(exc, prefix=self.prefix if rejected else "")
        if self.out.json and isinstance(exc, Exception):
            traceback.print_exception(typ, exc, tb, file=sys.stderr)
            self.out.fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)
        return False


class _Group(click.Group):
    """Under ``--json``, usage errors (exit 2) also give a JSON document."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or "--json" not in argv:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        cmd = next((a for a in argv if not a.startswith("-")), "zklora")
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as e:
            e.show()
            Out(True, cmd).fail(e, e.exit_code)
        except click.Abort:
            Out(True, cmd).fail(KeyboardInterrupt())
        sys.exit(rv if isinstance(rv, int) else 0)


_JSON = click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON document on stdout (human text goes to stderr).")


class _GiB(click.ParamType):
    """A size in GiB (a finite number ≥ 0, e.g. 2.5); its value is bytes."""

    name = "GIB"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        from .provercache import parse_max_gb

        try:
            return parse_max_gb(value, "the size limit")
        except ConfigError as e:
            self.fail(str(e), param, ctx)


_CACHE_MAX = click.option(
    "--prover-cache-max-gb", "prover_cache_max_gb", type=_GiB(), default=None,
    help="Bound the --prover-cache directory to this many GiB on disk: after storing an "
         "entry, the least recently used others are evicted (default: "
         "$ZKLORA_PROVER_CACHE_MAX_GB, else no limit; docs/user-guide.md).")


def _check_cache_max(prover_cache, max_bytes) -> None:
    if max_bytes is not None and prover_cache is None:
        raise click.UsageError("--prover-cache-max-gb needs --prover-cache DIR")


def _cache_arg(prover_cache, max_bytes):
    """The prover-cache argument of a command: the directory, or with a size limit the
    `provercache.ProverCache` opened with it (the caller closes it: `_close_cache`)."""
    if max_bytes is None or prover_cache is None:
        return prover_cache
    from .provercache import ProverCache

    return ProverCache.open(prover_cache, max_bytes=max_bytes)


def _close_cache(cache) -> None:
    if cache is not None and not isinstance(cache, str):
        cache.close()


def _task_help(table) -> str:
    parts = ["auto: the config's model, or, when model options are given, the model "
             "that takes them all (the config's own first)", "config: the config's "
             "task.model"]
    for alias in sorted(table.alias):
        model = table.alias[alias]
        desc = getattr(table.models[model], "description", "") or f"model {model}"
        parts.append(f"{alias}: {desc} (model {model})")
    return "; ".join(parts) + "; or a model's name."


def _click_type(o):
    if o.choices is not None:
        return click.Choice(list(o.choices))
    if o.parse is not None:
        return click.STRING
    return {"int": click.IntRange(min=o.min) if o.min is not None else click.INT,
            "float": click.FloatRange(min=o.min) if o.min is not None else click.FLOAT,
            "path": click.Path(), "file": click.Path(dir_okay=False),
            "dir": click.Path(file_okay=False), "str": click.STRING}[o.type]


def _click_option(o) -> click.Option:
    """The click option of a declared `zklora.zkcore.model.ModelOption`."""
    text = o.help if o.default is None else f"{o.help}  [default: {o.default}]"
    if o.type == "bool":
        flag = o.flag[2:]
        return click.Option([f"--{flag}/--no-{flag}", o.name], default=None, help=text)
    return click.Option([o.flag, o.name], type=_click_type(o), default=None, help=text,
                        metavar=o.metavar)


class _PluginCommand(click.Command):
    """A command that adds the model plugins' options (and the ``--task`` choices they
    declare) when it parses its arguments or prints its help — never for ``zklora
    --help`` or ``--version``, which stay fast.  ``frozen_only``: only the options that
    select frozen base weights (``commit-model``)."""

    def __init__(self, *args, frozen_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.frozen_only = frozen_only
        self._loaded: tuple[list[click.Option], list[tuple[click.Option, tuple]]] | None \
            = None
        self._error: BaseException | None = None

    def _plugin_params(self):
        """(kernel options with plugin-declared choices, [(option, models taking it)])."""
        if self._loaded is None:
            from . import pyapi

            try:
                table = pyapi.option_table()
            except ZkLoraError as e:  # shown by --help, raised by a run
                self._error, self._loaded = e, ([], [])
                return self._loaded
            task = click.Option(["--task"], type=click.Choice(["auto", "config",
                                                                *table.tasks()]),
                                default="auto", show_default=True, help=_task_help(table))
            opts = [(_click_option(table.shared[n]), tuple(table.takers(n)))
                    for n in table.names()
                    if table.takers(n) and (table.shared[n].frozen or not self.frozen_only)]
            self._loaded = ([task], opts)
        return self._loaded

    def get_params(self, ctx):
        kernel, plugin = self._plugin_params()
        help_option = self.get_help_option(ctx)
        return [*self.params[:1], *kernel, *self.params[1:], *(o for o, _ in plugin),
                *([help_option] if help_option is not None else [])]

    def parse_args(self, ctx, args):
        self._plugin_params()
        if self._error is not None and not ctx.resilient_parsing \
                and not {"--help", "-h"} & set(args):
            Out("--json" in args, self.name or "zklora").fail(self._error)
        return super().parse_args(ctx, args)

    def format_options(self, ctx, formatter):
        _, plugin = self._plugin_params()
        own = {id(o) for o, _ in plugin}
        general = [p.get_help_record(ctx) for p in self.get_params(ctx)
                   if id(p) not in own and not isinstance(p, click.Argument)]
        with formatter.section("Options"):
            formatter.write_dl([r for r in general if r is not None])
        groups: dict[tuple, list] = {}
        for o, models in plugin:
            rec = o.get_help_record(ctx)
            if rec is not None:
                groups.setdefault(models, []).append(rec)
        from . import pyapi

        for models in sorted(groups, key=lambda m: (-len(m), m)):
            table = pyapi.option_table()
            tasks = [t for t in (table.task_of(m) for m in models) if t]
            title = (f"Options of model{'s' if len(models) > 1 else ''} "
                     f"{', '.join(models)}"
                     + (f" (--task {', '.join(tasks)})" if tasks else ""))
            with formatter.section(title):
                formatter.write_dl(groups[models])
        if self._error is not None:
            with formatter.section("Model options unavailable"):
                formatter.write_text(str(self._error))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zklora")
def main():
    """Zero-knowledge proofs of LoRA fine-tuning."""


def _reporter(quiet: bool):
    from .progress import Reporter

    return Reporter("none" if quiet else "auto")


def _load_kernel() -> None:
    """Import the proof kernel (torch, numba) and move every object the imports made to
    the garbage collector's permanent generation (`gc.freeze`).  A command runs once per
    process: without this, each full collection during a proof or a verification walks
    the million-odd objects of the imports again (about 0.3 s of a tiny step's first
    verification).  The imports' own garbage is small; the process ends with the command."""
    import gc

    from . import api  # noqa: F401  (the heavy import)

    gc.freeze()


def _report(out: Out, res) -> None:
    from .progress import report_lines

    for line in report_lines(res.timings, res.op_timings, res.peak_rss, res.proof_size,
                             res.compile_seconds, getattr(res, "segment_timings", None)):
        out.say(line)


def _echo_losses(out: Out, statement, losses) -> None:
    """The losses the statement's model reads from it (`Model.losses`), one per step."""
    if len(losses) == 1:
        out.say(f"loss = {losses[0]:.6f}")
    elif losses:
        out.say("loss per step = [" + ", ".join(f"{v:.6f}" for v in losses) + "]")


@main.command(cls=_PluginCommand)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config (default: the built-in matmul example, or, when model options "
                   "are given, the model that takes them).")
@click.option("--profile", default=None, help="Override the config's profile.")
@click.option("--adapter-out", type=click.Path(file_okay=False), default=None,
              help="Write the trained adapter here, in peft's format, with its training state "
                   "(models that train an adapter; checked before proving: it must be new or "
                   "empty).")
@click.option("--model-commitment", "model_commit", type=click.Path(dir_okay=False),
              default=None, help="Check the base weights against this published commitment.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="proof.zkp",
              show_default=True, help="Where to write the proof file.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="Who proves the segments of a segmented step: local (this process, one "
                   "segment at a time; the config's [executor] name, default local) or ray "
                   "(Ray tasks on a cluster, docs/distributed.md).")
@click.option("--ray-address", default=None,
              help="The Ray cluster to join (default: start a local one).")
@click.option("--backend", type=click.Choice(["cpu", "cuda", "auto"]), default=None,
              help="Compute backend of the prover's kernels (default: the config's, else "
                   "cpu; docs/gpu.md).")
@click.option("--zk/--no-zk", "zero_knowledge", default=None,
              help="Prove in zero knowledge or not (default: the config's [proof] "
                   "zero_knowledge, else the profile's; docs/zero-knowledge.md).")
@click.option("--prover-cache", "prover_cache", type=click.Path(file_okay=False),
              default=None,
              help="Directory of the base weights' prover states: reused when it holds "
                   "them (the commitment is not made again), else stored there; the same "
                   "proof either way (not with --zk; docs/user-guide.md).")
@_CACHE_MAX
@_JSON
def prove(config_path, profile, adapter_out, model_commit, out_path, quiet, executor,
          ray_address, backend, zero_knowledge, prover_cache, prover_cache_max_gb, as_json,
          task="auto", **options):
    """Prove the configured task and write a proof file (atomically).  The model
    plugins' options are listed below by model."""
    from . import pyapi

    out = Out(as_json, "prove")
    _check_cache_max(prover_cache, prover_cache_max_gb)
    with _Run(out):
        cache = _cache_arg(prover_cache, prover_cache_max_gb)
        _load_kernel()
        try:
            res = pyapi.prove(config=config_path, profile=profile, task=task,
                              adapter_out=adapter_out, model_commitment=model_commit,
                              out=out_path, progress=_reporter(quiet), executor=executor,
                              ray_address=ray_address, backend=backend,
                              zero_knowledge=zero_knowledge, prover_cache=cache,
                              **options)
        finally:
            _close_cache(cache)
    stack = res.statement["stack"]
    out.say(f"proved {res.model} [{res.profile}: {stack['field']}/{stack['commitment']}] "
            f"in {res.prove_seconds:.2f} s; wrote {out_path} ({res.proof_size} bytes)")
    _echo_losses(out, res.statement, res.losses)
    out.say(f"statement digest {res.statement_digest}")
    if res.prover_cache is not None:
        out.say(f"prover cache: {res.prover_cache}")
    if adapter_out is not None:
        out.say(f"updated adapter written to {adapter_out}")
    if not quiet:
        _report(out, res)
    out.result(res.as_dict())


@main.command("commit-model", cls=_PluginCommand, frozen_only=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config: profile and the model's parameters (default: built-in).")
@click.option("--profile", default=None, help="Override the config's profile.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="model.commit",
              show_default=True)
@click.option("--prover-cache", "prover_cache", type=click.Path(file_okay=False),
              default=None,
              help="Also store the commitment's prover states in this directory, for "
                   "`zklora prove --prover-cache` (docs/user-guide.md).")
@_CACHE_MAX
@_JSON
def commit_model(config_path, profile, out_path, prover_cache, prover_cache_max_gb, as_json,
                 task="auto", **options):
    """Commit a model's frozen base weights (the model owner publishes the file once)."""
    from . import pyapi

    out = Out(as_json, "commit-model")
    _check_cache_max(prover_cache, prover_cache_max_gb)
    with _Run(out):
        cache = _cache_arg(prover_cache, prover_cache_max_gb)
        try:
            res = pyapi.commit_model(config=config_path, profile=profile, task=task,
                                     out=out_path, prover_cache=cache, **options)
        finally:
            _close_cache(cache)
    out.say(f"committed {res.tensors} tensors [{res.stack['field']}/{res.stack['commitment']}]"
            f"; wrote {out_path}")
    out.say(f"model commitment {res.digest}")
    out.result(res.as_dict())


@main.command()
@click.argument("proof_files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--expect", type=click.Path(dir_okay=False), default=None,
              help="TOML with statement fields the verifier insists on.")
@click.option("--model-commitment", "model_commit", type=click.Path(dir_okay=False),
              default=None, help="The base-model commitment the verifier trusts.")
@click.option("--adapter-in", "adapter_in", type=click.Path(file_okay=False), default=None,
              help="Check that this peft adapter is the proof's initial adapter.")
@click.option("--adapter-out", "adapter_out", type=click.Path(file_okay=False), default=None,
              help="Check that this peft adapter is the proof's trained adapter.")
@_JSON
def verify(proof_files, expect, model_commit, adapter_in, adapter_out, as_json):
    """Verify a proof file; prints the statement and OK, or the failing check.  Several
    files: the linked proofs of one run, in order, verified as a chain."""
    from . import pyapi

    out = Out(as_json, "verify")
    if len(proof_files) > 1:
        return _verify_chain(out, proof_files, expect, model_commit, adapter_in, adapter_out)
    proof_file = proof_files[0]
    with _Run(out, prefix="REJECTED: "):
        _load_kernel()
        res = pyapi.verify(proof_file, expect=expect, model_commitment=model_commit,
                           adapter_in=adapter_in, adapter_out=adapter_out)
    if not as_json:
        out.say(json.dumps(res.statement, indent=2, sort_keys=True))
    for which, path in (("in", adapter_in), ("out", adapter_out)):
        if which in res.adapters:
            out.say(f"adapter {path}: its {res.adapters[which]} tensors are the proof's "
                    f"adapter-{which}")
    _echo_losses(out, res.statement, res.losses)
    out.say(f"statement digest {res.statement_digest}")
    out.say(f"zero knowledge: {'on' if res.statement.get('zero_knowledge') else 'off'}")
    if res.security_bits is not None:
        out.say(f"estimated soundness {res.security_bits:.0f} bits")
    out.say(f"OK (verified in {res.seconds:.3f} s)")
    out.result(res.as_dict())


def _verify_chain(out: Out, paths, expect, model_commit, adapter_in, adapter_out) -> None:
    """`verify` of linked proofs (`zklora.zkcore.chain`)."""
    import time

    from . import api, chain, pyapi

    _load_kernel()
    t0 = time.perf_counter()
    with _Run(out, prefix="REJECTED: "):
        res = chain.verify_chain_files(paths, expect=pyapi._load_expect(expect),
                                       trusted_model=pyapi._trusted(model_commit))
        checked = {}
        for which, path, st in (("in", adapter_in, res.statements[0]),
                                ("out", adapter_out, res.statements[-1])):
            if path is not None:
                checked[which] = api.check_adapter(st, which, path)
                out.say(f"adapter {path}: its {checked[which]} tensors are the chain's "
                        f"adapter-{which}")
    from .plugins import registry

    for path, st in zip(paths, res.statements):
        link = chain.Link.of(st, registry(), str(path))  # the model declares its steps
        out.say(f"{path}: verified, steps {link.start + 1}–{link.end}")
        _echo_losses(out, st, pyapi.statement_losses(st))
    fresh = "from a fresh optimiser" if res.start == 0 else \
        f"resuming a committed state after step {res.start}"
    out.say(f"OK: {len(paths)} linked proofs, optimiser steps {res.start + 1}–{res.end} "
            f"({fresh}; verified in {time.perf_counter() - t0:.3f} s)")
    out.result({"chain": [str(p) for p in paths], "start": res.start, "end": res.end,
                "statement_digests": [pyapi.statement_digest(s) for s in res.statements],
                "final_commitments": res.final, "adapters": checked})


@main.command()
@click.argument("proof_file", type=click.Path(dir_okay=False))
@_JSON
def inspect(proof_file, as_json):
    """Show a proof file's statement and the size of each section."""
    from . import pyapi

    out = Out(as_json, "inspect")
    with _Run(out):
        res = pyapi.inspect(proof_file)
    if as_json:
        out.result(res.as_dict())
        return
    out.say(json.dumps(res.statement, indent=2, sort_keys=True))
    out.say(f"statement digest {res.statement_digest}")
    out.say(f"zero knowledge: {'on' if res.statement.get('zero_knowledge') else 'off'}")
    out.say(f"sections ({sum(res.sections.values())} bytes):")
    for name, n in res.sections.items():
        out.say(f"  {name:<10} {n:>10} bytes")
    out.say("proof stream:")
    for name, n in res.stream:
        out.say(f"  {name:<40} {n:>10} bytes")


@main.command()
@_JSON
def plugins(as_json):
    """List every registered plugin, its kind and where it comes from."""
    from .plugins import registry

    out = Out(as_json, "plugins")
    with _Run(out):
        reg = registry()
        entries = list(reg.all())
    for e in entries:
        out.say(f"{e.kind:<11} {e.name:<18} {e.origin}"
                + (f"  [{e.status}]" if e.status else ""))
    out.result({"plugins": [{"kind": e.kind, "name": e.name, "origin": str(e.origin),
                             **({"status": e.status} if e.status else {})}
                            for e in entries]})


@main.command()
@click.option("--profile", default="fast", show_default=True,
              help="Compile the kernels this profile's stack uses ('all': every profile).")
@_JSON
def warmup(profile, as_json):
    """Compile the numba kernels ahead of time (they are cached on disk), so the first
    proof on a fresh machine does not pause to compile."""
    from . import pyapi

    out = Out(as_json, "warmup")
    profiles = ["fast", "paper", "debug"] if profile == "all" else [profile]
    done = {}
    with _Run(out):
        for p in profiles:
            out.note(f"warmup: compiling the kernels of profile {p}, zero knowledge on and "
                     f"off, then their streamed variants (a few minutes the first time, "
                     f"a minute or so once cached)")
            done[p] = pyapi.warmup(p, progress=True)
            out.say(f"warmup: profile {p} ready in {done[p]:.1f} s")
    out.result({"seconds": done})


@main.command()
@click.option("--profile", default="fast", show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=2, show_default=True,
              help="Steps of the example run, when its model takes a steps option.")
@click.option("--example", is_flag=True, help="Prove the built-in config (the small matmul "
                                              "example) instead.")
def demo(profile, steps, example):
    """Prove and verify the example run the model plugins declare (with the built-in
    plugins: LoRA training steps of the tiny LLaMA), or the matmul example, and print a
    short report."""
    from . import pyapi

    out = Out(False, "demo")
    with _Run(out):
        config = None if example else pyapi.example_config(steps=steps)
        cfg = pyapi.build_config(config=config, profile=profile)
        desc = getattr(pyapi.option_table().models.get(cfg.model), "description", "")
        out.say(f"demo: {cfg.model} under profile {profile} "
                f"({cfg.stack.field}, {cfg.stack.commitment}, {cfg.stack.lookup})"
                + (f": {desc}" if desc else ""))
        res = pyapi.prove(config=config, profile=profile, progress=True)
        ver = pyapi.verify(res.data)
    out.say(f"  prove  {res.prove_seconds:8.3f} s")
    out.say(f"  verify {ver.seconds:8.3f} s")
    out.say(f"  proof  {res.proof_size:8d} bytes")
    out.say(f"  peak memory {res.peak_rss / 2**20:.0f} MiB")
    out.say(f"  zero knowledge: {'on' if res.statement.get('zero_knowledge') else 'off'}")
    if res.compile_seconds:
        out.say(f"  (numba kernel compilation {res.compile_seconds:.1f} s; cached from now "
                f"on — `zklora warmup` does it ahead of time)")
    _echo_losses(out, res.statement, res.losses)
    out.say("  OK: the proof verifies")


@main.command()
@click.option("--sizes", default="tiny,small", show_default=True,
              help="Comma-separated built-in shapes (tiny, small, medium; 25m and 84m: "
                   "issue 13's acceptance shapes, batch 1 × 64 and 1 × 32).")
@click.option("--model", "model_dir", default=None,
              help="Also measure this Hugging Face LLaMA directory (with --adapter).")
@click.option("--adapter", "adapter_dir", type=click.Path(file_okay=False), default=None)
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Batch size (default: the size's own, else 1).")
@click.option("--seq", type=click.IntRange(min=2), default=None,
              help="Sequence length (default: the size's own, else 16).")
@click.option("--profile", default="fast", show_default=True)
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Prove each size this many times and keep the fastest run.")
@click.option("--warmup", type=click.IntRange(min=0), default=0, show_default=True,
              help="Prove each size this many times first, untimed, in the same process: "
                   "the timed runs find the prover loaded (modules imported, kernels "
                   "loaded), as the float step is timed after a warm-up.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="bench",
              show_default=True, help="Directory for bench.json and bench.png.")
@click.option("--prover-cache", "prover_cache", type=click.Path(file_okay=False),
              default=None,
              help="Prove with this prover cache of the base weights' states: the figures "
                   "are the steady per-step cost (a run that stores the entry is followed "
                   "by one that reuses it; bench.json records which).")
@_CACHE_MAX
@_JSON
def bench(sizes, model_dir, adapter_dir, steps, batch, seq, profile, repeat, warmup,
          out_dir, prover_cache, prover_cache_max_gb, as_json):
    """Measure prove/verify time, proof size and peak memory over a size sweep (each size
    in a fresh process) and plot them against the model's parameter count."""
    from . import bench as benchlib

    out = Out(as_json, "bench")
    _check_cache_max(prover_cache, prover_cache_max_gb)
    with _Run(out):
        res = benchlib.run(sizes=[s for s in sizes.split(",") if s], model=model_dir,
                           adapter=adapter_dir, steps=steps, batch=batch, seq=seq,
                           profile=profile, repeat=repeat, warmup=warmup, out_dir=out_dir,
                           log=out.note,
                           prover_cache=prover_cache,
                           prover_cache_max_bytes=prover_cache_max_gb)
    for r in res["results"]:
        out.say(f"{r['size']:<8} {r['params']:>10} params  prove {r['prove_seconds']:8.2f} s  "
                f"verify {r['verify_seconds']:7.3f} s  proof {r['proof_size']:>9} B  "
                f"peak {r['peak_rss'] / 2**20:7.0f} MiB"
                + (f"  [prover cache: {r['prover_cache']}]" if r.get("prover_cache") else ""))
    out.say(f"wrote {res['json']}" + (f" and {res['png']}" if res.get("png") else
                                       " (no plot: matplotlib is not installed)"))
    out.result(res)


if __name__ == "__main__":
    main()
