"""s40h4: `llama._fixed_padded` writes its output into ``torch.empty`` and zeroes only
the entries no fill writes (rows / columns outside `Padding.index`): with the fresh
memory poisoned, its values are still ``pad.pad(to_fixed(x, s), kinds)`` for padded and
unpadded rows and columns, scattered (GQA q) and plain columns, the fixed_rows kernel
path and the chunked torch path, and empty tensors."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.models import llama
from zklora.plugins.models.padding import Padding
from zklora.plugins.models.tiny import tiny_arch
from zklora.zkcore.quant import to_fixed

KINDS = [("vocab", "hidden"), ("q", "hidden"), ("hidden", "q"), ("kv", "hidden"),
         ("hidden", "kv"), ("ffn", "hidden"), ("hidden", "ffn"), ("r", "hidden"),
         ("hidden", "r")]
POISON = -(1 << 40)


def _poisoned(pad, x, s, kinds):
    """`_fixed_padded` with torch.empty returning memory filled with POISON (not the zeros a
    fresh page has)."""
    real = torch.empty

    def empty(*a, **k):
        return real(*a, **k).fill_(POISON)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(torch, "empty", empty)
        return llama._fixed_padded(pad, x, s, kinds, "w")


def _pad(padded: bool):
    if padded:
        a = tiny_arch(num_kv_heads=2, num_heads=6, vocab_size=200, hidden_size=48,
                      intermediate_size=100)
    else:
        a = tiny_arch(num_kv_heads=2, num_heads=4, vocab_size=256, hidden_size=64,
                      intermediate_size=128)
    return Padding(a, 4)


@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("kinds", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64])
def test_same_as_pad_to_fixed(padded, kinds, dtype):
    pad = _pad(padded)
    g = torch.Generator().manual_seed(40)
    shape = tuple(pad.true_size(k) for k in kinds)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(dtype)
    want = pad.pad(to_fixed(x, 8), kinds)
    assert (want != POISON).all()
    got = _poisoned(pad, x, 8, kinds)
    assert got.dtype == torch.int64 and got.is_contiguous()
    assert torch.equal(got, want)


@pytest.mark.parametrize("kinds", [("vocab", "hidden"), ("q", "hidden"), ("hidden", "q")])
def test_chunked_torch_path(monkeypatch, kinds):
    """An integer matrix over QUANT_CHUNK entries: the torch path, in chunks."""
    monkeypatch.setattr(llama, "QUANT_CHUNK", 64)
    pad = _pad(True)
    x = torch.randint(-1000, 1000, tuple(pad.true_size(k) for k in kinds))
    got = _poisoned(pad, x, 3, kinds)
    assert torch.equal(got, pad.pad(to_fixed(x, 3), kinds))
