"""`kernels.fixed_point.fixed_rows` (fixed-point conversion straight into the padded int64 output)
against its twin and `pad.pad(to_fixed(...))`, with edge values, padded/permuted axes,
every float dtype and the errors `to_fixed` raises."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.kernels import fixed_point as FP
from zklora.plugins.models import llama
from zklora.plugins.models.padding import Padding
from zklora.plugins.models.tiny import tiny_arch
from zklora.zkcore.errors import ProverError
from zklora.zkcore.quant import to_fixed

EDGE = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1.0, -1.0, 1e-30, -1e-30,
        0.49999997, -0.49999997, 1000.5, -1000.5]


def _x(shape, dtype, scale_to, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 0.05
    flat = x.reshape(-1)
    e = torch.tensor(EDGE, dtype=torch.float64) / float(1 << scale_to)
    flat[:len(EDGE)] = e[:flat.numel()]
    return x.to(dtype)


def _pad(kv=2, vocab=200, hidden=48, ffn=100):
    # GQA (4 heads over 2 kv heads... group 2) and non-power-of-two dims: padded rows/cols
    return Padding(tiny_arch(num_kv_heads=kv, num_heads=6, vocab_size=vocab,
                             hidden_size=hidden, intermediate_size=ffn), 4)


@pytest.mark.parametrize("kinds", [("vocab", "hidden"), ("q", "hidden"), ("hidden", "q"),
                                   ("ffn", "hidden"), ("hidden", "ffn"), ("r", "hidden")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16,
                                   torch.float16])
@pytest.mark.parametrize("s", [0, 8, 16])
def test_fixed_padded_matches_pad_to_fixed(kinds, dtype, s):
    pad = _pad()
    x = _x(tuple(pad.true_size(k) for k in kinds), dtype, s)
    want = pad.pad(to_fixed(x, s), kinds)
    got = llama._fixed_padded(pad, x, s, kinds, "w")
    assert got.dtype == torch.int64 and got.is_contiguous()
    assert torch.equal(got, want)


def test_kernel_matches_twin_edges():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal((7, 11)) * 3).astype(dtype)
        x.reshape(-1)[:len(EDGE)] = np.array(EDGE, dtype=dtype)
        rows = np.array([0, 2, 3, 5, 8, 9, 12], dtype=np.int64)
        for plain in (True, False):
            cols = np.arange(11, dtype=np.int64) if plain else \
                rng.permutation(16)[:11].astype(np.int64)
            out = np.zeros((13, 16), np.int64)
            ref = np.zeros((13, 16), np.int64)
            assert FP.fixed_rows(x, float(1 << 4), rows, cols, plain, out) == 0
            assert FP.fixed_rows_ref(x, float(1 << 4), rows, cols, ref) == 0
            assert np.array_equal(out, ref)
            # and the torch definition (`to_fixed`, then the scatter)
            q = to_fixed(torch.from_numpy(x), 4).numpy()
            assert np.array_equal(out[rows[:, None], cols[None, :]], q)


def test_kernel_bound_edges():
    # |round(x·2^s)| = 2^62 passes, 2^62 + 2^10 (next float) fails, like to_fixed
    big = float(1 << 62)
    x = np.array([[big, -big]], np.float64)
    out = np.zeros((1, 2), np.int64)
    ar = np.arange(2, dtype=np.int64)
    assert FP.fixed_rows(x, 1.0, ar[:1], ar, True, out) == 0
    assert out.tolist() == [[1 << 62, -(1 << 62)]]
    x = np.array([[np.nextafter(big, np.inf), 1.0]], np.float64)
    assert FP.fixed_rows(x, 1.0, ar[:1], ar, True, out) == 1
    ref = np.zeros((1, 2), np.int64)
    assert FP.fixed_rows_ref(x, 1.0, ar[:1], ar, ref) == 1
    x = np.array([[np.nan, 2.0]], np.float64)
    assert FP.fixed_rows(x, 1.0, ar[:1], ar, True, out) == 1 == \
        FP.fixed_rows_ref(x, 1.0, ar[:1], ar, ref)


@pytest.mark.parametrize("bad,msg", [(float("nan"), "non-finite"), (float("inf"), "non-finite"),
                                     (-float("inf"), "non-finite"), (1e30, "too large")])
def test_errors_as_to_fixed(bad, msg):
    pad = _pad()
    x = _x((pad.true_size("vocab"), pad.true_size("hidden")), torch.float32, 8)
    x[3, 5] = bad
    with pytest.raises(ProverError, match=msg) as e:
        llama._fixed_padded(pad, x, 8, ("vocab", "hidden"), "w.name")
    assert "w.name" in str(e.value)


def test_non_contiguous_and_int_inputs():
    pad = _pad()
    kinds = ("hidden", "ffn")
    x = _x((pad.true_size("ffn"), pad.true_size("hidden")), torch.float32, 8).t()
    assert not x.is_contiguous()
    assert torch.equal(llama._fixed_padded(pad, x, 8, kinds, "w"),
                       pad.pad(to_fixed(x, 8), kinds))
    xi = torch.arange(pad.true_size("hidden") * pad.true_size("ffn")).reshape(
        pad.true_size("hidden"), -1) - 50
    assert torch.equal(llama._fixed_padded(pad, xi, 3, kinds, "w"),
                       pad.pad(to_fixed(xi, 3), kinds))
