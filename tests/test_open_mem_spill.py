"""`StackLayout.stack_from` inside a scratch session: a stacked vector of at least
1/`stack.SPILL_FACTOR` of the store's threshold is a read-only map of a scratch file
(the base model's groups of 2^22 entries are held for the whole proof), a smaller one
stays in RAM; the values are the same either way."""

from __future__ import annotations

import numpy as np

from zklora.zkcore import scratch, stack
from zklora.zkcore.plugins import registry

F = registry().field("goldilocks")


def test_stack_from_spills_from_half_the_threshold():
    lay = stack.StackLayout([512, 256, 128])
    rng = np.random.default_rng(0)
    tabs = [F.random(rng, s) for s in lay.sizes]
    want = lay.stack(F, tabs)
    nbytes = 8 * lay.size
    for threshold, mapped in ((nbytes * stack.SPILL_FACTOR, True),
                              (nbytes * stack.SPILL_FACTOR + 1, False)):
        with scratch.session(threshold=threshold):
            got = lay.stack_from(F, list(tabs))
            assert scratch.is_mapped(got) == mapped
            assert not got.flags.writeable
            assert np.array_equal(np.asarray(got), want)
            del got
