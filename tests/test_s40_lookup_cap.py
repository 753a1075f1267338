"""The lookups' RAM budget cap (`logup_gkr.STREAM_BYTES`, session 40): 256 MiB with
`KEEP_LAYERS` 20 (a tree's kept layers a quarter of it), so a prover whose high-water mark
before the lookups is large (84m without the prover cache: ~2.3 GiB, which gave 512 MiB)
holds no more than a 1 GiB-peak prover does; smaller peaks get the same budgets as before.
The environment still sets either as given."""

from __future__ import annotations

import os

import pytest

from zklora.plugins.lookups import logup_gkr as L
from zklora.zkcore import scratch

MiB = 1 << 20
ENV = ("ZKLORA_LOOKUP_STREAM_BYTES", "ZKLORA_LOOKUP_KEEP_LAYERS")


@pytest.mark.skipif(any(os.environ.get(k) for k in ENV), reason="budget set in the environment")
def test_default_cap():
    assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (256 * MiB, 20)
    assert not L._BUDGET_SET


def test_large_peaks_capped_small_ones_unchanged(monkeypatch):
    monkeypatch.setattr(L, "_BUDGET_SET", False)
    monkeypatch.setattr(L, "STREAM_BYTES", 256 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 20)
    for hwm, want in ((200 * MiB, (64 * MiB, 18)), (800 * MiB, (128 * MiB, 19)),
                      (1424 * MiB, (256 * MiB, 20)), (2310 * MiB, (256 * MiB, 20)),
                      (50000 * MiB, (256 * MiB, 20))):
        monkeypatch.setattr(scratch, "high_water_mark", lambda h=hwm: h)
        with L._budget():
            assert (L.STREAM_BYTES, L.KEEP_LAYERS) == want, hwm
        assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (256 * MiB, 20)


def test_environment_overrides(monkeypatch):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: 2310 * MiB)
    monkeypatch.setattr(L, "_BUDGET_SET", True)
    monkeypatch.setattr(L, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 21)
    with L._budget():
        assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (512 * MiB, 21)
