"""`zk_compare.py` with hidden lookups (`graph.HIDE_LOOKUPS` on; docs/zero-knowledge.md
§5.1 "LogUp-GKR").

    flock /tmp/heavy.lock timeout 1200 .venv/bin/python tests/bench/zk_lookups_compare.py \
        --rounds 2 --verify-reps 5 [--force-segments] [--no-hide] [--three]

Same arguments and output as `tests/bench/zk_compare.py` (ZK off vs on, interleaved).
``--three``: one process, three modes interleaved per round — ZK off, ZK on without
hidden lookups, ZK on with them (with ``--force-segments``: on segmented graphs too) —
prove time, median verify time, proof bytes, and both ratios to ZK off.
``--force-segments``: hide the lookups in segmented graphs too (the tiny training step is
one; `graph._run` turns `hide_lookups` off for them: ``… and not graph.node_segments``):
the contexts' ``hide_lookups`` is forced to ``bool(ctx.hide)`` whenever the graph sets
it, i.e. what that line would give without its segment clause.  ``--no-hide``: leave
`HIDE_LOOKUPS` off (the baseline of the same process layout).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore import op as oplib  # noqa: E402


def _force_segments() -> None:
    def get(self):
        return self.__dict__.get("_hide_lookups_forced", False)

    def set_(self, v):
        self.__dict__["_hide_lookups_forced"] = bool(v) or (graphlib.HIDE_LOOKUPS
                                                            and bool(self.hide))

    oplib._Context.hide_lookups = property(get, set_)


def three(rounds: int, reps: int, force: bool) -> None:
    import json
    import statistics
    import time

    import attrs

    from tests.bench.test_bench_train import _setup
    from zklora.zkcore import zk
    from zklora.zkcore.config import PROFILES, ZK_COMMITMENT, resolve
    from zklora.zkcore.plugins import registry

    if force:
        _force_segments()
    stack = PROFILES["fast"]
    be = resolve(attrs.evolve(stack, commitment=ZK_COMMITMENT.get("fast", stack.commitment)),
                 registry())
    _, _, _, _, g, inputs, statement = _setup()
    modes = {"off": (False, False), "zk": (True, False), "zk+lookups": (True, True)}

    def run(mode, fn):
        on, hide = modes[mode]
        graphlib.HIDE_LOOKUPS = hide
        with zk.session(on):
            return fn()

    for m in modes:   # warm-up
        run(m, lambda: graphlib.prove(g, inputs, be, statement))
    # two hidden proofs recorded: how many m / column elements go in the clear (the same
    # in both) — masked ones differ (the ν are fresh)
    from unittest import mock

    import numpy as np

    from zklora.zkcore.transcript import ProverChannel

    orig = ProverChannel.send_field
    logs: list = []

    def send_field(self, label, field, a):
        if label.startswith("lookup") and label.endswith(("/m", "/columns")):
            logs[-1][label] = np.array(a, copy=True)
        return orig(self, label, field, a)

    for _ in range(2):
        logs.append({})
        with mock.patch.object(ProverChannel, "send_field", send_field):
            run("zk+lookups", lambda: graphlib.prove(g, inputs, be, statement))
    total = clear = 0
    for lab, a in logs[0].items():
        for x, y in zip(a.reshape(-1, 2), logs[1][lab].reshape(-1, 2)):
            total += 1
            clear += int(np.array_equal(x, y))
    print(json.dumps({"lookup_m_column_elements": total, "in_the_clear": clear,
                      "roots_in_clear": False}), flush=True)
    res: dict = {m: [] for m in modes}
    for _ in range(rounds):
        made = {}
        for m in modes:
            t0 = time.perf_counter()
            made[m] = run(m, lambda: graphlib.prove(g, inputs, be, statement))
            made[m] += (time.perf_counter() - t0,)
        tv: dict = {m: [] for m in modes}
        for _ in range(max(1, reps)):
            for m in modes:
                t0 = time.perf_counter()
                run(m, lambda m=m, made=made: graphlib.verify(g, made[m][0], be, statement,
                                                              made[m][1]))
                tv[m].append(time.perf_counter() - t0)
        for m in modes:
            res[m].append((made[m][2], statistics.median(tv[m]), len(made[m][0])))
            print(json.dumps({"mode": m, "prove": round(made[m][2], 3),
                              "verify": round(res[m][-1][1], 4),
                              "proof": res[m][-1][2]}), flush=True)
    names = ("prove", "verify", "proof")
    med = {m: [statistics.median(x[i] for x in res[m]) for i in range(3)] for m in modes}
    print(json.dumps({"median": {m: dict(zip(names, med[m])) for m in modes},
                      "ratio_to_off": {m: {n: round(med[m][i] / med["off"][i], 3)
                                           for i, n in enumerate(names)}
                                       for m in ("zk", "zk+lookups")}}), flush=True)


def main() -> None:
    argv = sys.argv[1:]
    if "--three" in argv:
        rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 2
        reps = int(argv[argv.index("--verify-reps") + 1]) if "--verify-reps" in argv else 1
        three(rounds, reps, "--force-segments" in argv)
        return
    hide = "--no-hide" not in argv
    force = "--force-segments" in argv
    sys.argv = [sys.argv[0]] + [a for a in argv if a not in ("--no-hide", "--force-segments")]
    graphlib.HIDE_LOOKUPS = hide
    if force and hide:
        _force_segments()
    print(f'{{"hide_lookups": {str(hide).lower()}, "force_segments": {str(force).lower()}}}',
          flush=True)
    from tests.bench import zk_compare

    zk_compare.main()


if __name__ == "__main__":
    main()
