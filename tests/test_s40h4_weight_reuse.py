"""s40h4: `llama.quantize_inputs` writes the padded int64 weight matrices into those of
the previous call (same architecture) that nothing references any more (`_Reuse`,
`_take`): the values are those of a call without reuse; matrices a caller still holds
(the tensors, a view, a numpy array) are never written; another architecture starts
afresh.  Off by default (`REUSE_WEIGHTS`): then nothing is kept."""

from __future__ import annotations

import gc

import pytest
import torch

from zklora.plugins.models import llama
from zklora.plugins.models.tiny import tiny_arch, tiny_weights
from zklora.zkcore.quant import QuantConfig

IDS = torch.zeros((1, 4), dtype=torch.int64)
DEFAULT = llama.REUSE_WEIGHTS      # before the fixture turns it on


def _spec(arch):
    return llama.ForwardSpec(arch, None, QuantConfig(), 1, 4)


def _q(seed, arch=None):
    ck = tiny_weights(arch or tiny_arch(), seed=seed)
    return llama.quantize_inputs(_spec(ck.arch), ck, None, IDS)


def _plain(seed, arch=None):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(llama, "REUSE_WEIGHTS", False)
        return _q(seed, arch)


def _mats(a):
    """data pointers of the weight matrices (the fill path's; not ids / labels)."""
    return {v.data_ptr() for v in a.values() if v.dim() == 2}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(autouse=True)
def _fresh_pool(monkeypatch):
    monkeypatch.setattr(llama, "REUSE_WEIGHTS", True)     # off by default
    llama._Reuse.key, llama._Reuse.free = None, {}
    yield
    llama._Reuse.key, llama._Reuse.free = None, {}


def test_reuses_free_matrices_same_values():
    a = _q(0)
    ptrs = {v.data_ptr() for v in a.values()}
    del a
    gc.collect()
    b = _q(1)
    assert _same(b, _plain(1))
    reused = [k for k, v in b.items() if v.data_ptr() in ptrs]
    assert len(reused) >= 4            # every weight matrix of the fill path
    c = _q(1)                          # b held: nothing of b reused
    assert not _mats(c) & _mats(b)
    assert _same(b, _plain(1)) and _same(c, b)


def test_held_views_never_written():
    a = _q(0)
    keys = [k for k in a if a[k].dim() == 2 and a[k].numel() > 16]
    snap = {k: a[k].clone() for k in keys}
    view = a[keys[0]][1:]              # a torch view
    arr = a[keys[1]].numpy()           # a numpy array on the storage
    tens = a[keys[2]]                  # the tensor itself
    del a
    gc.collect()
    b = _q(1)
    assert _same(b, _plain(1))
    assert torch.equal(view, snap[keys[0]][1:])
    assert torch.equal(torch.from_numpy(arr), snap[keys[1]])
    assert torch.equal(tens, snap[keys[2]])
    held = {view.data_ptr() - view.storage_offset() * 8, arr.ctypes.data, tens.data_ptr()}
    assert not held & _mats(b)


def test_other_architecture_starts_afresh():
    a = _q(0)
    del a
    gc.collect()
    other = tiny_arch(num_kv_heads=2)
    b = _q(0, other)
    assert _same(b, _plain(0, other))
    assert llama._Reuse.key[0] == other


def test_off_keeps_nothing(monkeypatch):
    monkeypatch.setattr(llama, "REUSE_WEIGHTS", False)
    _q(0)
    assert llama._Reuse.free == {}


def test_off_by_default():
    assert DEFAULT is False
