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


TRAIN_MODEL = "llama-train"
FORWARD_MODEL = "llama"


def _task_config(cfg, task, model_name, flags):
    """The config of ``--task forward|train``: that model plugin with the config's [model]
    table (when it already names it) overridden by the command-line flags."""
    params = dict(cfg.model_params) if cfg.model == model_name else {}
    for key, value in flags.items():
        if value is not None:
            params[key] = value
    params.setdefault("model", "tiny")
    return attrs.evolve(cfg, model=model_name, model_params=params)


def _betas(value):
    if value is None:
        return None
    try:
        b1, b2 = (float(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter("expected two numbers, e.g. 0.9,0.999") from None
    return [b1, b2]


def _trusted_model(path):
    if path is None:
        return None
    from . import modelcommit

    try:
        return modelcommit.read(path)
    except ZkLoraError as e:
        _fail(str(e))


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config (default: the built-in matmul example, or the LoRA training "
                   "step when --model/--adapter/--data/--steps is given).")
@click.option("--profile", default=None, help="Override the config's profile.")
@click.option("--task", type=click.Choice(["auto", "config", "forward", "train"]),
              default="auto", show_default=True,
              help="config: the config's task; forward: LLaMA forward pass and loss; train: "
                   "LoRA training steps (forward, loss, backward, optimiser); auto: train if "
                   "training flags are given, else config.")
@click.option("--model", "model_dir", default=None,
              help="A Hugging Face LLaMA directory, or 'tiny' (the built-in model, default).")
@click.option("--adapter", "adapter_dir", type=click.Path(file_okay=False), default=None,
              help="A peft LoRA adapter directory (default: the tiny model's seeded adapter).")
@click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None,
              help="Token batch: JSONL of {\"input_ids\": [...]} or an integer .npy "
                   "[batch, seq] (default: a seeded random batch).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="train: steps to prove.")
@click.option("--optimizer", type=click.Choice(["adamw", "adam", "sgd"]), default=None,
              help="train: optimiser (default adamw).")
@click.option("--lr", type=float, default=None, help="train: learning rate (default 1e-3).")
@click.option("--betas", default=None, help="train: Adam betas, e.g. 0.9,0.999.")
@click.option("--eps", type=float, default=None, help="train: Adam epsilon (default 1e-8).")
@click.option("--weight-decay", type=float, default=None,
              help="train: weight decay (default 0.01, as torch.optim.AdamW).")
@click.option("--adapter-out", type=click.Path(file_okay=False), default=None,
              help="train: write the updated adapter here, in peft's format.")
@click.option("--model-commitment", "model_commit", type=click.Path(dir_okay=False),
              default=None, help="Check the base weights against this published commitment.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="proof.zkp",
              show_default=True, help="Where to write the proof file.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def prove(config_path, profile, task, model_dir, adapter_dir, data_file, steps, optimizer, lr,
          betas, eps, weight_decay, adapter_out, model_commit, out, quiet):
    """Prove the configured task and write a proof file (atomically)."""
    train_flags = {"steps": steps, "optimizer": optimizer, "lr": lr, "betas": _betas(betas),
                   "eps": eps, "weight_decay": weight_decay}
    paths = {"model": model_dir, "adapter": adapter_dir, "data": data_file}
    if task == "auto":
        given = [v for v in list(paths.values()) + list(train_flags.values()) + [adapter_out]
                 if v is not None]
        task = "train" if given else "config"
    try:
        cfg = configlib.load(config_path, profile=profile)
        if task == "train":
            cfg = _task_config(cfg, task, TRAIN_MODEL, {**paths, **train_flags})
        elif task == "forward":
            if any(v is not None for v in train_flags.values()) or adapter_out:
                _fail("--steps, optimiser flags and --adapter-out need --task train")
            cfg = _task_config(cfg, task, FORWARD_MODEL, paths)
        elif any(v is not None for v in paths.values()):
            _fail("--model, --adapter and --data need --task forward or train")
        trusted = _trusted_model(model_commit)
        with _Progress(not quiet) as prog:
            res = api.prove(cfg, progress=prog, trusted_model=trusted)
        prooflib.write_atomic(out, res.data)
        if adapter_out is not None:
            api.write_trained_adapter(cfg, adapter_out)
    except KeyboardInterrupt:
        _fail("interrupted; no proof file written", 130)
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(f"proved {cfg.model} [{cfg.profile}: {cfg.stack.field}/{cfg.stack.commitment}] "
               f"in {res.prove_seconds:.2f} s; wrote {out} ({len(res.data)} bytes)")
    _echo_loss(res.statement)
    if adapter_out is not None:
        click.echo(f"updated adapter written to {adapter_out}")


@main.command("commit-model")
@click.option("--model", "model_dir", default="tiny", show_default=True,
              help="A Hugging Face LLaMA directory, or 'tiny'.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config: profile and [model] quantisation (default: built-in).")
@click.option("--profile", default=None, help="Override the config's profile.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="model.commit",
              show_default=True)
def commit_model(model_dir, config_path, profile, out):
    """Commit a model's frozen base weights (the model owner publishes the file once)."""
    try:
        cfg = configlib.load(config_path, profile=profile)
        cfg = _task_config(cfg, "forward", FORWARD_MODEL, {"model": model_dir})
        mc = api.commit_model(cfg)
        prooflib.write_atomic(out, mc.to_bytes())
    except KeyboardInterrupt:
        _fail("interrupted; nothing written", 130)
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(f"committed {len(mc.tensors)} tensors [{cfg.stack.field}/{cfg.stack.commitment}]"
               f"; wrote {out}")
    click.echo(f"model commitment {mc.digest()}")


def _echo_loss(statement) -> None:
    """The public loss(es) of a forward or training statement, as real numbers."""
    params = statement.get("params") if isinstance(statement, dict) else None
    if not isinstance(params, dict):
        return
    s = params.get("quant", {}).get("act_scale", 16) if isinstance(params.get("quant"),
                                                                   dict) else 16
    if statement.get("model") == FORWARD_MODEL and isinstance(params.get("loss"), int):
        click.echo(f"loss = {params['loss'] / (1 << s):.6f} (integer {params['loss']} at "
                   f"scale 2^{s})")
    losses = params.get("losses")
    if statement.get("model") == TRAIN_MODEL and isinstance(losses, list):
        shown = ", ".join(f"{v / (1 << s):.6f}" for v in losses if isinstance(v, int))
        click.echo(f"loss per step = [{shown}]")


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
@click.option("--model-commitment", "model_commit", type=click.Path(dir_okay=False),
              default=None, help="The base-model commitment the verifier trusts.")
@click.option("--adapter-in", "adapter_in", type=click.Path(file_okay=False), default=None,
              help="Check that this peft adapter is the proof's initial adapter.")
@click.option("--adapter-out", "adapter_out", type=click.Path(file_okay=False), default=None,
              help="Check that this peft adapter is the proof's trained adapter.")
def verify(proof_file, expect, model_commit, adapter_in, adapter_out):
    """Verify a proof file; prints the statement and OK, or the failing check."""
    exp = _load_expect(expect)
    trusted = _trusted_model(model_commit)
    try:
        data = Path(proof_file).read_bytes()
    except OSError as e:
        _fail(f"cannot read {proof_file}: {e.strerror}")
    t0 = time.perf_counter()
    try:
        statement = api.verify(data, exp, trusted_model=trusted)
        for which, path in (("in", adapter_in), ("out", adapter_out)):
            if path is not None:
                n = api.check_adapter(statement, which, path)
                click.echo(f"adapter {path}: its {n} tensors are the proof's adapter-{which}")
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
@click.option("--steps", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--example", is_flag=True, help="Prove the small matmul example instead.")
def demo(profile, steps, example):
    """Prove and verify LoRA training steps of the built-in tiny model (or the matmul
    example), and print a short report."""
    try:
        cfg = configlib.load(None, profile=profile)
        if not example:
            cfg = _task_config(cfg, "train", TRAIN_MODEL, {"model": "tiny", "steps": steps})
        click.echo(f"demo: {cfg.model} under profile {profile} "
                   f"({cfg.stack.field}, {cfg.stack.commitment}, {cfg.stack.lookup})"
                   + ("" if example else f", {steps} training steps of the tiny LLaMA"))
        with _Progress(True) as prog:
            res = api.prove(cfg, progress=prog)
        t0 = time.perf_counter()
        api.verify(res.data)
        vt = time.perf_counter() - t0
    except ZkLoraError as e:
        _fail(str(e))
    click.echo(f"  prove  {res.prove_seconds:8.3f} s")
    click.echo(f"  verify {vt:8.3f} s")
    click.echo(f"  proof  {len(res.data):8d} bytes")
    _echo_loss(res.statement)
    click.echo("  OK: the proof verifies")


if __name__ == "__main__":
    main()
