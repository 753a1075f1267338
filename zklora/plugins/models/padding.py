"""Padding a LLaMA to power-of-two tensor dims (the MLE layout needs them) without
changing its integer semantics.

The statement keeps the true architecture; the graph works on padded dims:

    V_p = 2^⌈log V⌉ (vocab), h_p (hidden), f_p (FFN), Hkv_p = 2^⌈log Hkv⌉,
    G_p = 2^⌈log G⌉ (G = H/Hkv, the GQA group), H_p = Hkv_p·G_p;  head_dim and the LoRA
    rank stay as they are (they must be powers of two).

Layout: every weight is zero-padded at the end of each axis, except the query heads
(the rows of W_q and B_q, the columns of W_o and A_o), which move so that head
h = kv·G + g of the checkpoint becomes head kv·G_p + g — the graph's grouped attention
then pairs it with KV head kv exactly as transformers' ``repeat_kv`` does.

Why the padding cannot change the result (docs/forward.md, "Padding"):
the prover's padded entries are **not** trusted to be zero.  Instead every activation
whose padded entries could be non-zero is multiplied by a public 0/1 mask
(`zklora.zkcore.structured.prefix_mask`, closed-form MLE, a ``hadamard`` node) — the
embedding rows, every projection's output and, when G is not a power of two, the
attention output (a padded query head in a real KV group would average real values).
So, by induction over the graph, every activation is zero on its padding, and every
true entry is a function of the true entries of the inputs alone: a padded input
column of a weight only ever meets a zero activation, a padded output row is masked.
RMSNorm divides by the true hidden size; the cross-entropy gives padded vocabulary
columns no softmax mass.  In the backward pass every mask is applied again to the
incoming gradient, so the true entries of every gradient are exact and the padded
entries of an adapter's gradient never reach a true entry; the adapters' padded
entries are carried along and dropped on export (`unpad`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import torch

from zklora.zkcore.errors import ConfigError
from zklora.zkcore.structured import Structured, prefix_mask

from .hf import LlamaArch

#: axis kinds of the weight tensors (out, in), by projection
LINEAR_KINDS = {"q": ("q", "hidden"), "k": ("kv", "hidden"), "v": ("kv", "hidden"),
                "o": ("hidden", "q"), "gate": ("ffn", "hidden"), "up": ("ffn", "hidden"),
                "down": ("hidden", "ffn")}


def pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def _is_pow2(n: int) -> bool:
    return n >= 1 and not n & (n - 1)


@attrs.frozen
class Padding:
    """True and padded dims of one architecture; `index`, `pad`, `unpad` by axis kind
    (``vocab``, ``hidden``, ``ffn``, ``q``, ``kv``, ``r``)."""

    arch: LlamaArch
    r: int = 1

    def __attrs_post_init__(self):
        a = self.arch
        if not _is_pow2(a.head_dim):
            raise ConfigError(f"model: head_dim {a.head_dim} is not a power of two; padding "
                              f"head_dim is not supported (RoPE pairs dimension i with "
                              f"i + head_dim/2)")
        if not _is_pow2(self.r):
            raise ConfigError(f"model: LoRA rank r = {self.r} must be a power of two")

    @property
    def group(self) -> int:
        return self.arch.num_heads // self.arch.num_kv_heads

    @property
    def kv_heads(self) -> int:
        return pow2(self.arch.num_kv_heads)

    @property
    def group_p(self) -> int:
        return pow2(self.group)

    @property
    def heads(self) -> int:
        return self.kv_heads * self.group_p

    def true_size(self, kind: str) -> int:
        a = self.arch
        return {"vocab": a.vocab_size, "hidden": a.hidden_size, "ffn": a.intermediate_size,
                "q": a.q_dim, "kv": a.kv_dim, "r": self.r}[kind]

    def size(self, kind: str) -> int:
        """The padded length of an axis of this kind."""
        dh = self.arch.head_dim
        if kind == "q":
            return self.heads * dh
        if kind == "kv":
            return self.kv_heads * dh
        return pow2(self.true_size(kind))

    def padded(self, kind: str) -> bool:
        return self.size(kind) != self.true_size(kind)

    @property
    def any(self) -> bool:
        return any(self.padded(k) for k in ("vocab", "hidden", "ffn", "q", "kv"))

    def index(self, kind: str) -> torch.Tensor:
        """Padded position of each true position along an axis of this kind."""
        n = self.true_size(kind)
        if kind != "q":
            return torch.arange(n)
        dh, G, Gp = self.arch.head_dim, self.group, self.group_p
        c = torch.arange(n)
        h, j = c // dh, c % dh
        return ((h // G) * Gp + h % G) * dh + j

    def pad(self, x: torch.Tensor, kinds: Sequence[str]) -> torch.Tensor:
        """Zero-padded (and, for ``q`` axes, head-permuted) copy of ``x``."""
        if tuple(x.shape) != tuple(self.true_size(k) for k in kinds):
            raise ConfigError(f"padding: tensor of shape {tuple(x.shape)} is not "
                              f"{[self.true_size(k) for k in kinds]}")
        if not any(self.padded(k) for k in kinds):
            return x
        out = torch.zeros(tuple(self.size(k) for k in kinds), dtype=x.dtype)
        out[torch.meshgrid(*[self.index(k) for k in kinds], indexing="ij")] = x
        return out

    def unpad(self, x: torch.Tensor, kinds: Sequence[str]) -> torch.Tensor:
        """The true entries of a padded tensor (inverse of `pad` on them)."""
        if tuple(x.shape) != tuple(self.size(k) for k in kinds):
            raise ConfigError(f"padding: tensor of shape {tuple(x.shape)} is not "
                              f"{[self.size(k) for k in kinds]}")
        if not any(self.padded(k) for k in kinds):
            return x
        return x[torch.meshgrid(*[self.index(k) for k in kinds], indexing="ij")].clone()

    def mask(self, rows: int, kind: str) -> Structured | None:
        """The 0/1 mask of an activation (rows, size(kind)) that is 1 on the true
        columns, or None when the kind is not padded.  For ``q`` the columns are viewed
        as (KV head, group member, head dim)."""
        if not self.padded(kind):
            return None
        if kind != "q":
            return prefix_mask((rows, self.size(kind)), (rows, self.true_size(kind)))
        a = self.arch
        view = (rows, self.kv_heads, self.group_p, a.head_dim)
        inner = prefix_mask(view, (rows, a.num_kv_heads, self.group, a.head_dim))
        shape = (rows, self.size("q"))
        return Structured(shape, inner.describe, inner.evaluate,
                          lambda: inner.materialise().reshape(shape))

    def tensor_kinds(self, name: str) -> tuple[str, ...]:
        """Axis kinds of a committed input of the llama graph, by its name
        (``embed``, ``lm_head``, ``norm``, ``l{i}.ln1|ln2``, ``l{i}.{t}.W|A|B``)."""
        if name in ("embed", "lm_head"):
            return ("vocab", "hidden")
        if name == "norm" or name.endswith((".ln1", ".ln2")):
            return ("hidden",)
        t, ab = name.split(".")[-2:]
        out, inp = LINEAR_KINDS[t]
        return {"W": (out, inp), "A": ("r", inp), "B": (out, "r")}[ab]
