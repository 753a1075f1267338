"""s40h4: `LlamaTrain.witness` after a proof took the cached inputs (the cache entry's
inputs None) computes them again and caches them only with `CACHE_RECOMPUTED_INPUTS`
(default on): off, the cache does not pin the padded integer weights for the next proof
(which spills and drops them); every call returns the same integers."""

from __future__ import annotations

import json

import pytest
import torch

from zklora.plugins.models import llama_train as lt


def test_default_on():
    assert lt.CACHE_RECOMPUTED_INPUTS is True


@pytest.mark.parametrize("cache", [False, True])
def test_recomputed_inputs_pinned_only_with_the_knob(monkeypatch, cache):
    monkeypatch.setattr(lt, "CACHE_RECOMPUTED_INPUTS", cache)
    m = lt.LlamaTrain()
    params = {"model": "tiny", "steps": 1, "batch": 1, "seq": 8}
    spec, pub, inputs, res = m._prepare(params)
    want = {k: v.clone() for k, v in inputs.items()}
    key = json.dumps(params, sort_keys=True, default=str)
    m._cache[key] = (spec, pub, None, res)      # as after a proof took them
    for _ in range(2):
        w = m.witness(params)
        assert w.keys() == want.keys()
        assert all(torch.equal(w[k], want[k]) for k in want)
        assert (m._cache[key][2] is not None) == cache
        assert m._cache[key][1] is pub and m._cache[key][3] is res
