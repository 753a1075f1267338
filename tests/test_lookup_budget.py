"""The lookup phase's RAM budget (`logup_gkr._budget`): `STREAM_BYTES` and `KEEP_LAYERS`
lowered to a fraction of the resident high-water mark unless the environment set them,
restored afterwards; a forced small threshold (the tests') is kept."""

from __future__ import annotations

from zklora.plugins.lookups import logup_gkr as LG
from zklora.zkcore import scratch

MiB = 1 << 20


def _inside():
    with LG._budget():
        return LG.STREAM_BYTES, LG.KEEP_LAYERS


def test_budget_follows_the_high_water_mark(monkeypatch):
    monkeypatch.setattr(LG, "_BUDGET_SET", False)
    monkeypatch.setattr(LG, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(LG, "KEEP_LAYERS", 21)
    assert LG.BUDGET_SHARE == 4     # a quarter of the peak so far (session 21)
    for hwm, want in ((200 * MiB, (64 * MiB, 18)), (600 * MiB, (128 * MiB, 19)),
                      (1100 * MiB, (256 * MiB, 20)), (2500 * MiB, (256 * MiB, 20)),
                      (50000 * MiB, (512 * MiB, 21))):
        monkeypatch.setattr(scratch, "high_water_mark", lambda h=hwm: h)
        assert _inside() == want
        assert (LG.STREAM_BYTES, LG.KEEP_LAYERS) == (512 * MiB, 21)


def test_budget_off_when_set_or_forced(monkeypatch):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: 300 * MiB)
    monkeypatch.setattr(LG, "STREAM_BYTES", 512 * MiB)
    monkeypatch.setattr(LG, "KEEP_LAYERS", 21)
    monkeypatch.setattr(LG, "_BUDGET_SET", True)         # the environment set them
    assert _inside() == (512 * MiB, 21)
    monkeypatch.setattr(LG, "_BUDGET_SET", False)
    monkeypatch.setattr(LG, "STREAM_BYTES", 1 << 16)     # a test's forced threshold
    monkeypatch.setattr(LG, "KEEP_LAYERS", 5)
    assert _inside() == (1 << 16, 5)
