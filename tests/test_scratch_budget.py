"""`scratch.working_budget`: a fraction of the resident high-water mark, a power of two,
clamped to [floor, cap]."""

from __future__ import annotations

import pytest

from zklora.zkcore import scratch

MiB = 1 << 20


@pytest.mark.parametrize("hwm,want", [(0, 64 * MiB), (100 * MiB, 64 * MiB),
                                      (800 * MiB, 64 * MiB), (1100 * MiB, 128 * MiB),
                                      (3000 * MiB, 256 * MiB), (6000 * MiB, 512 * MiB),
                                      (40000 * MiB, 512 * MiB)])
def test_working_budget(monkeypatch, hwm, want):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: hwm)
    assert scratch.working_budget(512 * MiB) == want


def test_working_budget_cap_below_floor(monkeypatch):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: 10**12)
    assert scratch.working_budget(1 << 10) == 1 << 10
    assert scratch.working_budget(256 * MiB, share=2) == 256 * MiB


def test_high_water_mark_is_this_process():
    hwm = scratch.high_water_mark()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * 4096
    assert hwm >= rss * 0.9 > 0


def test_open_bytes_is_the_working_budget_unless_set(monkeypatch):
    monkeypatch.setattr(scratch, "high_water_mark", lambda: 1100 * MiB)
    monkeypatch.delenv("ZKLORA_OPEN_BYTES", raising=False)
    assert scratch.open_bytes(512 * MiB) == 128 * MiB
    assert scratch.open_bytes(4 * MiB) == 4 * MiB
    monkeypatch.setenv("ZKLORA_OPEN_BYTES", str(1 << 30))
    assert scratch.open_bytes(512 * MiB) == 1 << 30
