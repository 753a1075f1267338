"""s32h7: `op.evaluate_mapped` of a small mapped table (under `op.EVAL_DROP_MIN_BYTES`)
keeps its pages and returns the same field element as `mle.evaluate`; a table at or above
the threshold still gives its pages back."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle, op, scratch
from zklora.zkcore.plugins import registry

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)


def _table(rng, n: int) -> np.ndarray:
    t = np.asarray(rng.integers(0, P, size=1 << n, dtype=np.uint64))
    t[: min(4, t.size)] = EDGE[: min(4, t.size)]
    t[-min(4, t.size):] = EDGE[::-1][: min(4, t.size)]
    return t


def _point(rng, n: int) -> np.ndarray:
    r = np.asarray(rng.integers(0, P, size=(n, 2), dtype=np.uint64))
    if n:
        r.reshape(-1)[: min(4, 2 * n)] = EDGE[: min(4, 2 * n)]
    return r


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, 8, 11, 12, 13])
def test_small_mapped_values_and_drops(tmp_path, monkeypatch, n):
    E = registry().field("goldilocks").ext
    rng = np.random.default_rng(100 + n)
    drops: list[int] = []
    real = scratch.drop_pages

    def counting(a):
        drops.append(np.asarray(a).nbytes)
        real(a)

    monkeypatch.setattr(scratch, "drop_pages", counting)
    tabs = [_table(rng, n) for _ in range(3)]
    with scratch.session(str(tmp_path)) as s:
        mm = s.build((3 << n,), np.uint64, [(k << n, t) for k, t in enumerate(tabs)])
        for _ in range(3):
            r = _point(rng, n)
            for k, t in enumerate(tabs):
                view = np.asarray(mm)[k << n:(k + 1) << n]
                assert scratch.is_mapped(view)
                got = op.evaluate_mapped(E, view, r)
                want = mle.evaluate(E, t, r, base=True)
                assert np.array_equal(np.asarray(got), np.asarray(want))
                # the reference's own definition: Σ_x t(x)·eq(r, x)
                ref = E.dot(mle.lift(E, t, True), mle.eq_table(E, r)) if n else \
                    mle.lift(E, t, True)[0]
                assert np.array_equal(np.asarray(got).reshape(2), np.asarray(ref).reshape(2))
    small = (8 << n) < op.EVAL_DROP_MIN_BYTES
    assert drops == ([] if small else [8 << n] * 9)


def test_threshold_is_small():
    # the pages kept: at most 8 a table (a stack's small columns at once ≈ tens of MiB)
    assert op.EVAL_DROP_MIN_BYTES <= 1 << 15
