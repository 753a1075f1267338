"""The Ray executor (issue 14): a segmented step's segments proven as Ray tasks on a
local 2-CPU cluster give the same proof bytes as the local executor, a worker killed
mid-proof is retried, and ``zklora prove --executor ray`` proves a step that
``zklora verify`` accepts.  Slow: starting Ray takes seconds on its own."""

from __future__ import annotations

import functools

import attrs
import pytest

from zklora.plugins.models import llama_train as lt
from zklora.zkcore import api, executors
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import Stack

from .conftest import backend_for
from .test_llama_train import micro

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("zk_off")]  # ZK-off paths (conftest.zk_off)

STACK = Stack("goldilocks", "plain", "logup-gkr", "blake3")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True,
             log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def step(reg):
    spec, g, inputs, res, st = micro(1)
    recipe = executors.Recipe(
        functools.partial(lt.build_train_graph, spec, res.losses,
                          lt.batch_num_tokens(spec, inputs)),
        functools.partial(api._build_backend, STACK, {}, {}))
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    local = graphlib.prove(g, inputs, be, st)
    return g, inputs, st, be, recipe, local


def test_ray_segments_match_local(cluster, step):
    g, inputs, st, be, recipe, (stream, sections) = step
    out, sec = graphlib.prove(g, inputs, be, st, executor=executors.RayExecutor(recipe))
    assert out == stream and sec == sections
    graphlib.verify(g, out, be, st, sec)


def test_killed_worker_is_retried(cluster, step, tmp_path):
    g, inputs, st, be, recipe, (stream, sections) = step
    marker = tmp_path / "crashed"
    ex = executors.RayExecutor(recipe, max_retries=2, crash_marker=str(marker), window=1)
    out, sec = graphlib.prove(g, inputs, be, st, executor=ex)
    assert marker.exists()          # a worker died mid-proof …
    assert out == stream            # … and its segment was proven again
    graphlib.verify(g, out, be, st, sec)


def test_no_retries_fails_cleanly(cluster, step, tmp_path):
    g, inputs, st, be, recipe, _ = step
    from zklora.zkcore.errors import ProverError

    ex = executors.RayExecutor(recipe, max_retries=0, crash_marker=str(tmp_path / "x"))
    with pytest.raises(ProverError, match="failed on Ray"):
        graphlib.prove(g, inputs, be, st, executor=ex)


def test_cli_prove_with_ray_verifies(cluster, tmp_path):
    from click.testing import CliRunner

    from zklora.zkcore.cli import main

    out = tmp_path / "p.zkp"
    r = CliRunner().invoke(main, ["prove", "--task", "train", "--executor", "ray",
                                  "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["verify", str(out)])
    assert r.exit_code == 0, r.output


def _micro_checkpoint(path, seed=None):
    """The micro model's checkpoint (`test_llama_train.micro`) saved at ``path``; with
    ``seed``, other weights of the same shape."""
    from zklora.plugins.models.hf import save_model
    from zklora.plugins.models.tiny import tiny_arch, tiny_weights

    arch = tiny_arch(2, vocab_size=16, hidden_size=8, intermediate_size=16, num_layers=1,
                     num_heads=2, head_dim=4)
    ck = tiny_weights(arch) if seed is None else tiny_weights(arch, seed=seed)
    save_model(path, arch, ck.weights)
    return str(path)


def test_workers_load_weights_from_checkpoint(cluster, step, tmp_path, monkeypatch):
    """Recipe.weights: the frozen weights are not shipped (the tasks carry digests) and
    the workers' own checkpoint loads give the same proof; a checkpoint with other
    weights is refused by the worker."""
    g, inputs, st, be, recipe, (stream, sections) = step
    frozen = tuple(lt.frozen_tensors(st["params"]))
    assert frozen and all(t in inputs for t in frozen)
    ok = attrs.evolve(recipe, weights=functools.partial(
        executors.checkpoint_weights, "llama-train", {"model": _micro_checkpoint(
            tmp_path / "ck")}), weight_names=frozen)
    shipped: list[set] = []

    class Spy:
        def __init__(self, remote):
            self.remote_ = remote

        def remote(self, *a):
            shipped.append(set(a[4]) & set(frozen))
            return self.remote_(*a)

    orig = ray.remote

    def remote(**kw):
        return lambda fn: Spy(orig(**kw)(fn).remote)

    monkeypatch.setattr(ray, "remote", remote)
    out, sec = graphlib.prove(g, inputs, be, st, executor=executors.RayExecutor(ok))
    assert out == stream and sec == sections
    assert shipped and not any(shipped)     # no frozen weight travelled with a task
    graphlib.verify(g, out, be, st, sec)
    bad = attrs.evolve(ok, weights=functools.partial(
        executors.checkpoint_weights, "llama-train", {"model": _micro_checkpoint(
            tmp_path / "other", seed=7)}))
    from zklora.zkcore.errors import ProverError

    with pytest.raises(ProverError, match="other values than the driver"):
        graphlib.prove(g, inputs, be, st, executor=executors.RayExecutor(bad))
