"""Closed-form MLEs of structured public tensors against their materialised values."""

import numpy as np
import pytest

from zklora.zkcore import mle, structured
from zklora.zkcore.plugins import registry


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
@pytest.mark.parametrize("shape,true_shape", [((8,), (5,)), ((8,), (8,)), ((8,), (0,)),
                                              ((4, 8), (3, 5)), ((2, 4, 4), (1, 3, 4)),
                                              ((1,), (1,))])
def test_prefix_mask_closed_form(field, shape, true_shape):
    F = registry().field(field)
    E = F.ext
    s = structured.prefix_mask(shape, true_shape)
    vals = s.materialise()
    assert tuple(vals.shape) == shape and int(vals.sum()) == int(np.prod(true_shape))
    n = mle.num_vars(shape)
    rng = np.random.default_rng(n)
    for _ in range(3):
        p = E.random(rng, n)
        ref = mle.evaluate(E, F.from_ints(vals.reshape(-1)), p, base=True)
        assert E.equal(s.evaluate(E, p), ref)


def test_prefix_mask_rejects_bad_shapes():
    with pytest.raises(ValueError):
        structured.prefix_mask((8,), (9,))
    with pytest.raises(ValueError):
        structured.prefix_mask((6,), (5,))
