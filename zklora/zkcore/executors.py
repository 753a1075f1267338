"""Executors: who proves a segmented graph's segments in phase 2 (DESIGN §3.9).

An executor's `prove_segments` returns one `zklora.zkcore.graph.SegmentResult` per
segment, in segment order; the kernel writes them into the proof stream and absorbs
their final fork states in that order, so the proof's bytes do not depend on the
executor.  Registry: `EXECUTORS` (name -> factory taking the options), `make`.

- ``local``: in this process, one segment at a time; each segment's witness is
  recomputed from its committed boundary inputs, less the costly nodes' virtual outputs
  phase 1 kept for it (`graph.KEEP_VIRTUAL_BYTES`, at most 64 MiB in all), and dropped
  when it is proven, so the prover holds one segment's witness at a time (plus the
  committed tensors and those kept outputs).
- ``ray``: each segment is a Ray task (`RayExecutor`, docs/distributed.md).  A task
  gets the segment's committed and public inputs, the phase-1 transcript state and the
  claims on its tensors, rebuilds the graph and the backend itself (from the model's
  public parameters and the proof stack: nothing unpicklable crosses), recomputes the
  segment's witness and proves it exactly as ``local`` does, so the bytes are the same.
  With `Recipe.weights` the frozen weights do not travel: each worker loads them from
  the checkpoint once and checks them against the driver's digests.
  A failed or killed worker's task is retried (``max_retries``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from . import scratch
from .errors import ConfigError, ProverError


class LocalExecutor:
    """Prove the segments here, sequentially."""

    name = "local"

    def prove_segments(self, ctx, graph, backend, segs: Sequence, base_state: bytes,
                       claims: Sequence[Mapping], err, clock, progress) -> list:
        from .graph import prove_segment

        out = []
        total = len(graph.nodes)
        proven = 0   # nodes proven so far (the progress count: segments go in order)
        scratch.release(trim_heap=True)   # what phase 1 read of the stacks and witness
        for s in segs:
            out.append(prove_segment(True, ctx, graph, backend, s, base_state,
                                     claims[s.index], err, clock=clock, progress=progress,
                                     count=(proven, total)))
            proven += s.stop - s.start
            # the committed tables this segment read (views of stacks in scratch files)
            # and its witness read from the scratch maps leave the resident set (with what
            # its temporaries left on the heap): one segment's worth at a time
            scratch.release(trim_heap=True)
        return out


@attrs.frozen
class Recipe:
    """How a worker rebuilds what it cannot be sent: ``graph()`` and ``backend()``,
    picklable callables (module-level functions or partials of them); ``weights()``
    (optional) returns the model's frozen tensors {name: integer tensor} as the worker
    loads them itself from the checkpoint (a path every worker can read,
    `checkpoint_weights`), for the tensors ``weight_names``: the driver then ships
    their SHA-256 digests instead of their values, and the worker refuses weights that
    differ from the driver's."""

    graph: Callable[[], Any]
    backend: Callable[[], Any]
    weights: Callable[[], Mapping[str, Any]] | None = None
    weight_names: tuple[str, ...] = ()


def checkpoint_weights(model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The frozen tensors of model plugin ``model`` loaded from the checkpoint its
    prover-side ``params`` name (`zklora.zkcore.model.Model.frozen_witness`): a
    `Recipe.weights` for models that have one."""
    from .api import _model
    from .plugins import registry

    return dict(_model(registry(), model).frozen_witness(params)[1])


def tensor_digest(v: Any) -> str:
    """SHA-256 of a tensor's values as little-endian int64 (shape included)."""
    import numpy as np
    import torch

    a = np.ascontiguousarray(torch.as_tensor(v).to(torch.int64).numpy().astype("<i8"))
    h = hashlib.sha256(repr(tuple(a.shape)).encode())
    h.update(memoryview(a.reshape(-1)).cast("B"))
    return h.hexdigest()


_BUILT: dict[int, tuple[Any, Any, str]] = {}
_WEIGHTS: dict[int, Mapping[str, Any]] = {}


def _weights(recipe: Recipe, digests: Mapping[str, str]) -> dict[str, Any]:
    """The weights ``digests`` names, loaded once per worker process (`Recipe.weights`)
    and checked against the driver's digests."""
    key = hash(pickle.dumps(recipe.weights))
    if key not in _WEIGHTS:
        _WEIGHTS.clear()
        _WEIGHTS[key] = recipe.weights()
    have = _WEIGHTS[key]
    out = {}
    for t, d in digests.items():
        if t not in have:
            raise ProverError(f"a Ray worker's checkpoint has no tensor {t}")
        if tensor_digest(have[t]) != d:
            raise ProverError(f"a Ray worker loaded tensor {t} from the checkpoint with other "
                              "values than the driver's (is the path the same checkpoint on "
                              "every node?)")
        out[t] = have[t]
    return out


def _built(recipe: Recipe, digest: str):
    """The recipe's (graph, backend), built once per worker process; the graph must
    describe itself as the driver's did (``digest``)."""
    from .graph import canonical_json

    key = hash(pickle.dumps(recipe))
    if key not in _BUILT:
        g, be = recipe.graph(), recipe.backend()
        _BUILT.clear()
        _BUILT[key] = (g, be, hashlib.sha256(canonical_json(g.describe())).hexdigest())
    g, be, d = _BUILT[key]
    if d != digest:
        raise ProverError("a Ray worker built a different graph than the driver's")
    return g, be


def _segment_task(recipe: Recipe, digest: str, index: int, base_state: bytes,
                  values: Mapping[str, Any], claims: Mapping, crash_marker: str | None,
                  weights: Mapping[str, str] | None = None):
    """A Ray task: prove segment ``index`` (see module doc); returns its `SegmentResult`.
    ``weights``: digests of the frozen tensors the worker loads itself (`Recipe`)."""
    if crash_marker is not None and not os.path.exists(crash_marker):
        # fault injection (tests): the first attempt's worker dies mid-proof
        open(crash_marker, "w").close()
        os._exit(1)
    from .errors import ProverError as PE
    from .graph import Committer, prove_segment
    from .op import ProverContext
    from .transcript import ProverChannel, Transcript

    g, be = _built(recipe, digest)
    if weights:
        values = {**values, **_weights(recipe, weights)}
    seg = g.segments()[index]
    committer = Committer(be.scheme, True)
    ctx = ProverContext(be.field, ProverChannel(Transcript(b"zklora/worker", be.hash)),
                        dict(g.tensors), g.publics, dict(values), committer)
    res = prove_segment(True, ctx, g, be, seg, base_state, claims, PE)
    if committer.stacks or committer.published:
        raise PE(f"segment {seg.id!r} commits mid-proof, which a remote executor cannot "
                 "carry back; use --executor local")
    return res


class RayExecutor:
    """Prove the segments as Ray tasks on the cluster at ``address`` (None: start or
    join a local one); ``recipe`` rebuilds the graph and backend on the workers; at most
    ``window`` tasks in flight (default twice the cluster's CPUs); a task whose worker
    dies is retried ``max_retries`` times; ``crash_marker`` (tests only): fault
    injection, the first task's worker exits mid-proof unless that file exists."""

    name = "ray"

    def __init__(self, recipe: Recipe, address: str | None = None, max_retries: int = 3,
                 num_cpus: int | None = None, crash_marker: str | None = None,
                 window: int | None = None):
        self.recipe, self.address, self.max_retries = recipe, address, int(max_retries)
        self.num_cpus, self.crash_marker, self.window = num_cpus, crash_marker, window

    def prove_segments(self, ctx, graph, backend, segs: Sequence, base_state: bytes,
                       claims: Sequence[Mapping], err, clock, progress) -> list:
        from .graph import canonical_json

        try:
            import ray
        except ImportError:
            raise ConfigError("the ray executor needs Ray: pip install 'zklora[ray]'") from None
        if not ray.is_initialized():
            kw = {"num_cpus": self.num_cpus} if self.num_cpus and not self.address else {}
            ray.init(address=self.address, ignore_reinit_error=True,
                     log_to_driver=False, **kw)
        task = ray.remote(max_retries=self.max_retries, retry_exceptions=False)(_segment_task)
        digest = hashlib.sha256(canonical_json(graph.describe())).hexdigest()
        recipe = ray.put(self.recipe)
        # a window of tasks in flight (twice the cluster's CPUs): each carries its
        # segment's inputs through the object store, so not every segment's at once
        window = self.window or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        inflight: dict[Any, int] = {}

        local = set(self.recipe.weight_names) if self.recipe.weights is not None else set()
        digests: dict[str, str] = {}

        def submit(s) -> None:
            need = {t for n in graph.nodes[s.start:s.stop] for t in n.inputs + n.outputs}
            vals = {t: ctx.values[t] for t in need if t in ctx.values and t not in local}
            mine = sorted(t for t in need if t in local and t in ctx.values)
            for t in mine:
                if t not in digests:
                    digests[t] = tensor_digest(ctx.values[t])
            inflight[task.remote(recipe, digest, s.index, base_state, vals,
                                 dict(claims[s.index]), self.crash_marker,
                                 {t: digests[t] for t in mine})] = s.index

        out: list = [None] * len(segs)
        queue = list(segs)
        while queue and len(inflight) < window:
            submit(queue.pop(0))
        done_count = 0
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            k = inflight.pop(ready[0])
            try:
                out[k] = ray.get(ready[0])
            except Exception as e:   # noqa: BLE001 -- Ray wraps the worker's error
                for ref in inflight:
                    ray.cancel(ref)
                raise ProverError(f"segment {segs[k].id!r} failed on Ray: {e}") from None
            done_count += 1
            if progress:
                progress("prove", done_count, len(segs))
            if queue:
                submit(queue.pop(0))
        return out


def _ray(opts: Mapping[str, Any]) -> RayExecutor:
    if "recipe" not in opts:
        raise ConfigError("the ray executor needs a recipe (given by zklora.zkcore.api)")
    return RayExecutor(opts["recipe"], opts.get("address") or None,
                       int(opts.get("max_retries", 3)))


#: executor name -> factory(options) (options: the ``executor_options`` of the config)
EXECUTORS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "local": lambda opts: LocalExecutor(),
    "ray": _ray,
}


def names() -> list[str]:
    return sorted(EXECUTORS)


def make(name: str, options: Mapping[str, Any] | None = None):
    """The executor ``name`` with ``options``; `ConfigError` for an unknown name."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; available: {', '.join(names())}")
    return EXECUTORS[name](dict(options or {}))
