"""The Ray executor (issue 14): a segmented step's segments proven as Ray tasks on a
local 2-CPU cluster give the same proof bytes as the local executor, a worker killed
mid-proof is retried, and ``zklora prove --executor ray`` proves a step that
``zklora verify`` accepts.  Slow: starting Ray takes seconds on its own."""

from __future__ import annotations

import functools

import pytest

from zklora.plugins.models import llama_train as lt
from zklora.zkcore import api, executors
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import Stack

from .conftest import backend_for
from .test_llama_train import micro

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

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
