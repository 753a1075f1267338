"""The ``zklora`` command line."""

from __future__ import annotations

import json
import sys
import time
import tomllib
from pathlib import Path

import attrs
import click

from . import api
from . import config as configlib
from . import proof as prooflib
from .errors import VerificationError, ZkLoraError
from .plugins import registry


def _fail(msg: str, code: int = 1):
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


class _Progress:
    """A rich progress bar on a terminal; silent otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False

    def __call__(self, phase: str, i: int, total: int) -> None:
        if self.bar is None:
            return
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=i + 1)


@click.group()
@click.version_option(package_name="zklora")
def main():
    """Zero-knowledge proofs of LoRA fine-tuning."""


def _forward_config(cfg, model, adapter, data):
    """The config of ``--task forward``: the ``llama`` model plugin with the config's
    [model] table (when it already names llama) overridden by the command-line paths."""
    params = dict(cfg.model_params) if cfg.model == "llama" else {}
    for key, value in (("model", model), ("adapter", adapter), ("data", data)):
        if value is not None:
            params[key] = value
    params.setdefault("model", "tiny")
    return attrs.evolve(cfg, model="llama", model_params=params)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config (default: the built-in matmul example).")
@click.option("--profile", default=None, help="Override the config's profile.")
@click.option("--task", type=click.Choice(["config", "forward"]), default="config",
              show_default=True,
              help="config: the config's task; forward: the LLaMA forward pass and loss.")
@click.option("--model", "model_dir", default=None,
              help="forward: a Hugging Face LLaMA directory, or 'tiny' (default).")
@click.option("--adapter", "adapter_dir", type=click.Path(file_okay=False), default=None,
              help="forward: a peft LoRA adapter directory.")
@click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None,
              help="forward: token batch, JSONL of {\"input_ids\": [...]} or an integer "
                   ".npy [batch, seq] (default: a seeded random batch).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="proof.zkp",
              show_default=True, help="Where to write the proof file.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def prove(config_path, profile, task, model_dir, adapter_dir, data_file, out, quiet):
    """Prove the configured task and write a proof file."""
    try:
        cfg = configlib.load(config_path, profile=profile)
        if task == "forward":
            cfg = _forward_config(cfg, model_dir, adapter_dir, data_file)
        elif (model_dir, adapter_dir, data_file) != (None, None, None):
            _fail("--model, --adapter and --data need --task forward")
        with _Progress(not quiet) as prog:
            res = api.prove(cfg, progress=prog)
        prooflib.write_atomic(out, res.data)
    except KeyboardInterrupt:
        _fail("interrupted; no proof file written", 130)
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(f"proved {cfg.model} [{cfg.profile}: {cfg.stack.field}/{cfg.stack.commitment}] "
               f"in {res.prove_seconds:.2f} s; wrote {out} ({len(res.data)} bytes)")
    _echo_loss(res.statement)


def _echo_loss(statement) -> None:
    """The public loss of a forward statement, as a real number."""
    params = statement.get("params") if isinstance(statement, dict) else None
    if statement.get("model") == "llama" and isinstance(params, dict) and "loss" in params:
        s = params.get("quant", {}).get("act_scale", 16)
        click.echo(f"loss = {params['loss'] / (1 << s):.6f} (integer {params['loss']} at "
                   f"scale 2^{s})")


def _load_expect(path):
    if path is None:
        return None
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        _fail(f"cannot read expected statement {path}: {e}")


@main.command()
@click.argument("proof_file", type=click.Path(dir_okay=False))
@click.option("--expect", type=click.Path(dir_okay=False), default=None,
              help="TOML with statement fields the verifier insists on.")
def verify(proof_file, expect):
    """Verify a proof file; prints the statement and OK, or the failing check."""
    exp = _load_expect(expect)
    try:
        data = Path(proof_file).read_bytes()
    except OSError as e:
        _fail(f"cannot read {proof_file}: {e.strerror}")
    t0 = time.perf_counter()
    try:
        statement = api.verify(data, exp)
    except VerificationError as e:
        _fail(f"REJECTED: {e}")
    except ZkLoraError as e:
        _fail(f"REJECTED: {e}")
    dt = time.perf_counter() - t0
    click.echo(json.dumps(statement, indent=2, sort_keys=True))
    _echo_loss(statement)
    click.echo(f"OK (verified in {dt:.3f} s)")


@main.command()
@click.argument("proof_file", type=click.Path(dir_okay=False))
def inspect(proof_file):
    """Show a proof file's statement and the size of each section."""
    try:
        pf = prooflib.read(proof_file)
        index = pf.index()
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(json.dumps(pf.statement, indent=2, sort_keys=True))
    total = sum(len(v) for v in pf.sections.values())
    click.echo(f"sections ({total} bytes):")
    for name, payload in pf.sections.items():
        click.echo(f"  {name:<10} {len(payload):>10} bytes")
    click.echo("proof stream:")
    for name, a, b in index:
        click.echo(f"  {name:<40} {b - a:>10} bytes")


@main.command()
def plugins():
    """List every registered plugin, its kind and where it comes from."""
    try:
        reg = registry()
    except ZkLoraError as e:
        _fail(str(e))
    for e in reg.all():
        click.echo(f"{e.kind:<11} {e.name:<18} {e.origin}")


@main.command()
@click.option("--profile", default="fast", show_default=True)
def demo(profile):
    """Prove and verify the built-in example, and print a short report."""
    try:
        cfg = configlib.load(None, profile=profile)
        res = api.prove(cfg)
        t0 = time.perf_counter()
        api.verify(res.data)
        vt = time.perf_counter() - t0
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(f"demo: {cfg.model} under profile {profile} "
               f"({cfg.stack.field}, {cfg.stack.commitment})")
    click.echo(f"  prove  {res.prove_seconds:8.3f} s")
    click.echo(f"  verify {vt:8.3f} s")
    click.echo(f"  proof  {len(res.data):8d} bytes")
    click.echo("  OK")


if __name__ == "__main__":
    main()
