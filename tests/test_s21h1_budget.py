"""The lookups' RAM budget (`logup_gkr._budget`): 1/`BUDGET_SHARE` = 1/4 of the
resident high-water mark (the other phases' budgets take 1/8), a power of two between
64 MiB and the `STREAM_BYTES` cap, `KEEP_LAYERS` with it; restored afterwards."""

from __future__ import annotations

from zklora.plugins.lookups import logup_gkr as L
from zklora.zkcore import scratch

MiB = 1 << 20


def test_budget_share(monkeypatch):
    monkeypatch.setattr(L, "_BUDGET_SET", False)
    monkeypatch.setattr(L, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 21)
    assert L.BUDGET_SHARE == 4
    for hwm, want in ((200 * MiB, (64 * MiB, 18)), (900 * MiB, (128 * MiB, 19)),
                      (1900 * MiB, (256 * MiB, 20)), (2500 * MiB, (256 * MiB, 20)),
                      (50000 * MiB, (512 * MiB, 21))):
        monkeypatch.setattr(scratch, "high_water_mark", lambda h=hwm: h)
        with L._budget():
            assert (L.STREAM_BYTES, L.KEEP_LAYERS) == want
        assert (L.STREAM_BYTES, L.KEEP_LAYERS) == (512 * MiB, 21)


def test_budget_share_is_a_knob(monkeypatch):
    """Share 8 gives the session-20 budgets (1100 MiB → 128 MiB, 2500 → 256 MiB)."""
    monkeypatch.setattr(L, "_BUDGET_SET", False)
    monkeypatch.setattr(L, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(L, "KEEP_LAYERS", 21)
    monkeypatch.setattr(L, "BUDGET_SHARE", 8)
    monkeypatch.setattr(L, "LARGE_MARK", 1 << 62)   # the share alone (session 40's halving off)
    for hwm, want in ((1100 * MiB, 128 * MiB), (2500 * MiB, 256 * MiB)):
        monkeypatch.setattr(scratch, "high_water_mark", lambda h=hwm: h)
        with L._budget():
            assert L.STREAM_BYTES == want
