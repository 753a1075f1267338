"""`zklora.kernels.int_gemm.gemm_nt` against its twin and torch's int64 matmul (the
witness's `MatMul.forward` path): edge sizes, int64 wrap-around, the op's forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.kernels.int_gemm import gemm_nt, gemm_nt_ref

P = (1 << 64) - (1 << 32) + 1


@pytest.mark.parametrize("T,K,N", [(1, 1, 1), (2, 1, 4), (3, 5, 7), (4, 1, 4), (5, 3, 3),
                                   (32, 64, 130), (33, 17, 257), (64, 512, 9)])
def test_gemm_nt_matches_twin_and_torch(T, K, N):
    rng = np.random.default_rng(T * 1000 + K * 10 + N)
    x = rng.integers(-(1 << 40), 1 << 40, (T, K))
    w = rng.integers(-(1 << 40), 1 << 40, (N, K))
    out = np.full((T, N), 7, dtype=np.int64)
    gemm_nt(x, w, out)
    assert np.array_equal(out, gemm_nt_ref(x, w))
    assert np.array_equal(out, torch.matmul(torch.from_numpy(x),
                                            torch.from_numpy(w).T).numpy())


def test_gemm_nt_edge_values_wrap():
    """0, 1, p−1, p−2 (as int64 they wrap), int64 extremes: products and sums wrap mod
    2^64 exactly like torch's int64 matmul."""
    edge = np.array([0, 1, P - 1, P - 2, (1 << 63) - 1, 1 << 63, (1 << 64) - 1],
                    dtype=np.uint64).view(np.int64)
    x = np.resize(edge, (6, 9)).astype(np.int64)
    w = np.resize(edge[::-1], (11, 9)).astype(np.int64)
    out = np.empty((6, 11), dtype=np.int64)
    gemm_nt(x, w, out)
    assert np.array_equal(out, gemm_nt_ref(x, w))
    assert np.array_equal(out, torch.matmul(torch.from_numpy(x),
                                            torch.from_numpy(w).T).numpy())


def test_matmul_forward_paths_equal_torch():
    """MatMul.forward's numba path (X·Wᵀ, W 2-D, batched X) gives torch's integers; the
    transposed-X and empty cases take torch's path."""
    from zklora.plugins.ops.matmul import MatMul
    from zklora.zkcore.op import OpNode

    def Node(**params):
        return OpNode("matmul", "mm", ("X", "W"), ("Y",), params)

    op = MatMul()
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.integers(-(1 << 20), 1 << 20, (2, 3, 5, 6)))
    w = torch.from_numpy(rng.integers(-(1 << 20), 1 << 20, (9, 6)))
    node = Node(transpose_b=True)
    (y,) = op.forward(node, [x, w])
    assert y.dtype == torch.int64 and y.is_contiguous()
    assert torch.equal(y, torch.matmul(x, w.T))
    xt = x.transpose(-1, -2).contiguous()
    (y2,) = op.forward(Node(transpose_a=True, transpose_b=True), [xt, w])
    assert torch.equal(y2, y)
    (y3,) = op.forward(node, [x[:, :, :0], w])
    assert y3.shape == (2, 3, 0, 9)
