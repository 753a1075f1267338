"""The lookups' RAM budget from a large high-water mark (`logup_gkr._budget`, session 40):
from `LARGE_MARK` (2 GiB) on the share is 1/8, not 1/4, so the 512 MiB cap starts at a
4 GiB mark.  84m without the prover cache (mark ≈ 2.3 GiB, set by the base model's
commitment) gets 256 MiB and 20 kept layers instead of 512 MiB and 21; the 30-layer
SmolLM step (≈ 4.5 GiB) keeps 512 MiB and 21; marks under 2 GiB keep their budgets.  The
environment still sets either as given."""

from __future__ import annotations

import os

import pytest

from zklora.plugins.lookups import logup_gkr as L
from zklora.zkcore import scratch

MiB = 1 << 20
ENV = ("ZKLORA_LOOKUP_STREAM_BYTES", "ZKLORA_LOOKUP_KEEP_LAYERS")


@pytest.mark.skipif(any(os.environ.get(k) for k in ENV), reason="budget set in the environment")
def test_defaults():
    assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (512 * MiB, 21)
    assert (L.BUDGET_SHARE, L.LARGE_MARK) == (4, 2 << 30)
    assert not L._BUDGET_SET


def test_share_halves_from_the_large_mark(monkeypatch):
    monkeypatch.setattr(L, "_BUDGET_SET", False)
    monkeypatch.setattr(L, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 21)
    for hwm, want in ((200 * MiB, (64 * MiB, 18)), (800 * MiB, (128 * MiB, 19)),
                      (1424 * MiB, (256 * MiB, 20)), (2047 * MiB, (256 * MiB, 20)),
                      (2048 * MiB, (256 * MiB, 20)), (2310 * MiB, (256 * MiB, 20)),
                      (4095 * MiB, (256 * MiB, 20)), (4096 * MiB, (512 * MiB, 21)),
                      (4600 * MiB, (512 * MiB, 21)), (50000 * MiB, (512 * MiB, 21))):
        monkeypatch.setattr(scratch, "high_water_mark", lambda h=hwm: h)
        with L._budget():
            assert (L.STREAM_BYTES, L.KEEP_LAYERS) == want, hwm
        assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (512 * MiB, 21)


def test_environment_overrides(monkeypatch):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: 2310 * MiB)
    monkeypatch.setattr(L, "_BUDGET_SET", True)
    monkeypatch.setattr(L, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 21)
    with L._budget():
        assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (512 * MiB, 21)
