"""`published.commit_groups(direct=True)` (the base model's commitment): a group of one
integer table is stacked into a scratch file by the rule `StackLayout.stack_from` applies
to every stack (from 1/`stack.SPILL_FACTOR` of the store's threshold on), not only from
the whole threshold (without ``direct``: as before), written with direct I/O: the model
commitment's lone 2^22-entry base weights (32 MiB, under the 64 MiB threshold) were fresh
RAM kept until the openings (84m: 384 MiB).  The same commitments and tables either way.
(After s41h2's test of the same rule.)"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import published, scratch, stack

from .conftest import backend_for


def _ints(v: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.integers(-(1 << 40), 1 << 40, 1 << v, dtype=np.int64)
    t[:3] = [-1, 0, (1 << 63) - 1]
    return t


@pytest.mark.parametrize("commitment", ["plain", "whir"])
@pytest.mark.parametrize("direct, extra, mapped", [(True, 0, True), (True, 1, False),
                                                   (False, 0, False)])
def test_single_table_spills_from_half_threshold(reg, commitment, direct, extra, mapped):
    be = backend_for(reg, "goldilocks", commitment)
    F, scheme = be.field, be.scheme
    v = 13
    ints = {"w": _ints(v)}
    groups = published.plan("frozen", [("w", v)])
    assert len(groups) == 1 and groups[0].layout.padding == 0
    ref = published.commit_groups(scheme, F, groups, lambda n: ints[n], {})
    # threshold: the table's bytes times SPILL_FACTOR (spilled) or one byte more (in RAM)
    threshold = stack.SPILL_FACTOR * 8 * (1 << v) + extra
    states: dict = {}
    with scratch.session(threshold=threshold) as store:
        assert not store.wants(8 << v)    # under the threshold itself
        got = published.commit_groups(scheme, F, groups, lambda n: ints[n], states,
                                      direct=direct)
        t = states["w"].table
        assert scratch.is_mapped(t) is mapped
        assert not t.flags.writeable
        assert np.array_equal(np.asarray(t), F.from_ints(ints["w"]))
    assert [g.commitment for g in got] == [g.commitment for g in ref]
