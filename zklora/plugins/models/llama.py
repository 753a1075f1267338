"""``llama``: the proven forward pass and loss of a LLaMA decoder with LoRA adapters.

`build_graph` turns the public `ForwardSpec` (architecture, LoRA spec, scales, batch
shape) and the public loss into the tensor graph; both prover and verifier call it.
Every activation is at the activation scale s (``QuantConfig.act_scale``), weights at
the weight scale w; each op returns its main output at s (see docs/forward.md)::

    ids ─embedding(embed)─▶ h                                         (N, d), N = B·T
    for each layer i:
      x = rmsnorm(h, ln1)
      q, k, v = lora_linear(x, W_q|k|v [, A, B])                      (N, ·) at s
      q → (B, H, T, dh), k, v → (B, Hkv, T, dh)                        transpose (free)
      q, k = rescale_s(rope(q|k, cos, sin))                            public tables
      o = attention(q, k, v) → (N, H·dh);  h = h + lora_linear(o, W_o)
      x = rmsnorm(h, ln2);  h = h + lora_linear(swiglu(x W_gate, x W_up), W_down)
    logits = lm_head(rmsnorm(h, norm));  loss = cross_entropy(logits, shift(ids))

Committed inputs: the token ids, the embedding table, every base weight, every norm gain
and every LoRA A / B — each stored exactly as in the checkpoint (transformers' linear
(out, in), peft's A (r, in) and B (out, r)); the matmuls read them transposed, which is
free (``transpose_b``).  The loss is a public output: the statement carries it, and the
verifier checks that the committed inputs produce it.

LoRA linear (`add_lora_linear`), Y = X·W + σ·(X·A)·B, σ = α/r (α/√r with rsLoRA):
σ is the public integer c = round(σ·2^k) at the smallest k ≤ 16 that makes it exact
(k = 16 otherwise), and

    P = X·W (scale s+w),  XA = rescale_w(X·A) (scale s),  Q = XA·B (scale s+w),
    Y = rescale_{w+k}(2^k·P + c·Q)

— never a (d × d) matrix.  Without an adapter on a projection, Y = rescale_w(X·W).
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch

from zklora.kernels.fixed_point import fixed_rows
from zklora.zkcore import build, scratch
from zklora.zkcore import graph as graphlib
from zklora.zkcore.build import builder
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.model import Model, ModelOption, ModelOptions
from zklora.zkcore.quant import MAX_SCALE, Bound, QuantConfig, to_fixed

from .data import (
    Batch,
    check_batch,
    count_tokens,
    default_num_tokens,
    load_batch,
    random_batch,
    tokenizer_dir,
)
from .hf import TARGETS, Adapter, Checkpoint, LlamaArch, LoraSpec
from .padding import LINEAR_KINDS, Padding

#: default log2 width of activation ranges: |x| < 2^(act_bits − 1) real units
ACT_BITS = 10
#: the RMSNorm rsqrt's mantissa bits L and mantissa rsqrt scale K' (`ops/rmsnorm.py`),
#: tried before the op's 14 / 21: M = ⌊V/4^e⌋ and rM = ⌊√(N/M)⌋ both truncate, biasing r
#: low by up to ≈ 2^−14 per row at 14 / 21 and ≈ 2^−17 at 18 / 27 (docs/fidelity.md);
#: where a norm's plan does not fit at 18 / 27 (deep residual bounds at 4096 wide) the
#: op's defaults are used (`add_rmsnorm(precise=…)`)
RMS_PRECISE = ((18, 27),)
#: log2 width of the RMSNorm gains' range: |γ| < 2^(GAIN_BITS − 1) real units (proven in
#: every proof, `Graph.prove_bound`; the RMSNorm plans are sized from it)
GAIN_BITS = 7
MAX_SCALING_BITS = 16
ARCH_FIELDS = tuple(a.name for a in attrs.fields(LlamaArch))


# -- public spec ------------------------------------------------------------------------


def _pow2(name: str, v: int) -> int:
    if v < 1 or v & (v - 1):
        raise ConfigError(f"model: {name} = {v} must be a power of two (the data loader "
                          f"pads batches to powers of two)")
    return v


@attrs.frozen
class ForwardSpec:
    """Everything public that defines the forward graph."""

    arch: LlamaArch
    lora: LoraSpec | None
    quant: QuantConfig
    batch: int
    seq: int
    act_bits: int = ACT_BITS

    def __attrs_post_init__(self):
        a = self.arch
        for name, v in (("batch", self.batch), ("seq", self.seq)):
            _pow2(name, int(v))
        # vocab, hidden, FFN and the head counts are padded (`padding`); head_dim and r
        # must be powers of two (checked here)
        self.padding  # noqa: B018
        if self.seq > a.max_position_embeddings:
            raise ConfigError(f"model: seq {self.seq} exceeds max_position_embeddings "
                              f"{a.max_position_embeddings}")
        if not 4 <= self.act_bits <= 24:
            raise ConfigError(f"model.act_bits: {self.act_bits} must be in [4, 24]")
        if a.tie_word_embeddings and self.quant.weight_scale < self.quant.act_scale:
            raise ConfigError("model: tied embeddings need weight_scale ≥ act_scale (the "
                              "table, at the weight scale, is rescaled after the lookup)")

    @property
    def tokens(self) -> int:
        return self.batch * self.seq

    @property
    def padding(self) -> Padding:
        """True vs padded dims of the graph (`zklora.plugins.models.padding`)."""
        return Padding(self.arch, self.lora.r if self.lora is not None else 1)

    def to_public(self) -> dict[str, Any]:
        """JSON-stable dict (the statement's ``params`` minus the loss)."""
        arch = attrs.asdict(self.arch)
        lora = None
        if self.lora is not None:
            lora = {"r": self.lora.r, "alpha": float(self.lora.alpha),
                    "targets": list(self.lora.targets), "use_rslora": self.lora.use_rslora}
        return {"arch": arch, "lora": lora, "quant": self.quant.to_dict(),
                "batch": self.batch, "seq": self.seq, "act_bits": self.act_bits}

    @classmethod
    def from_public(cls, d: Mapping[str, Any]) -> ForwardSpec:
        try:
            arch_d = dict(d["arch"])
            if set(arch_d) != set(ARCH_FIELDS):
                raise ConfigError(f"model.arch: fields must be exactly {list(ARCH_FIELDS)}")
            arch = LlamaArch(**arch_d)
            lo = d.get("lora")
            lora = None if lo is None else LoraSpec(
                r=int(lo["r"]), alpha=float(lo["alpha"]), targets=tuple(lo["targets"]),
                use_rslora=bool(lo["use_rslora"]))
            quant = QuantConfig.from_dict(d.get("quant", {}))
            return cls(arch, lora, quant, int(d["batch"]), int(d["seq"]),
                       int(d.get("act_bits", ACT_BITS)))
        except KeyError as e:
            raise ConfigError(f"model: missing key {e.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as e:
            raise ConfigError(f"model: {e}") from None


# -- builders --------------------------------------------------------------------------


def scaling_fixed(scaling: float) -> tuple[int, int]:
    """(c, k) with c = round(σ·2^k), k the smallest in [0, 16] making it exact."""
    for k in range(MAX_SCALING_BITS + 1):
        v = scaling * (1 << k)
        if float(v).is_integer():
            return int(v), k
    return int(math.floor(scaling * (1 << MAX_SCALING_BITS) + 0.5)), MAX_SCALING_BITS


def add_rescale(g: Graph, name: str, X: str, shift: int, bound: Bound, *,
                derived: bool = False) -> str:
    """``{name}/Y`` = X/2^shift rounded (committed, declared ``bound``), remainder
    ``{name}/R`` committed advice; returns Y (``derived``: `build.add_rescale`)."""
    return build.add_rescale(g, name, X, shift, bound, y=f"{name}/Y", r=f"{name}/R",
                             derived=derived)


def add_lora_linear(g: Graph, name: str, X: str, W: str, A: str | None = None,
                    B: str | None = None, *, scaling: float = 1.0, weight_scale: int = 16,
                    bound: Bound, stored_out_in: bool = True) -> str:
    """Y = X·Wᵀ + σ·(X·Aᵀ)·Bᵀ at X's scale (module doc); X (…, n, d_in), and at
    ``weight_scale`` W (d_out, d_in), A (r, d_in), B (d_out, r) — transformers' and
    peft's layouts; with ``stored_out_in=False`` W (d_in, d_out), A (d_in, r),
    B (r, d_out) and no transposes.  Returns Y (committed, declared ``bound``)."""
    tb = bool(stored_out_in)
    xs = g.tensors[X].shape

    def cols(t):
        return g.tensors[t].shape[0 if tb else -1]

    out = tuple(xs[:-1]) + (cols(W),)
    p = g.tensor(f"{name}/XW", out, "virtual")
    g.op("matmul", f"{name}/xw", [X, W], [p], transpose_b=tb)
    if A is None:
        return add_rescale(g, f"{name}/out", p, weight_scale, bound)
    xa = g.tensor(f"{name}/XA", tuple(xs[:-1]) + (cols(A),), "virtual")
    g.op("matmul", f"{name}/xa", [X, A], [xa], transpose_b=tb)
    xa_s = add_rescale(g, f"{name}/xa_s", xa, weight_scale, bound)
    q = g.tensor(f"{name}/XAB", out, "virtual")
    g.op("matmul", f"{name}/xab", [xa_s, B], [q], transpose_b=tb)
    c, k = scaling_fixed(scaling)
    z = g.tensor(f"{name}/Z", out, "virtual")
    g.op("lincomb", f"{name}/z", [p, q], [z], coeffs=[1 << k, c])
    return add_rescale(g, f"{name}/out", z, weight_scale + k, bound)


def add_pad_mask(g: Graph, pad: Padding, name: str, X: str, kind: str) -> str:
    """X (rows, ·) with its padded columns of this axis kind zeroed by a public mask
    (`Padding.mask`; a ``hadamard`` node ``name`` → ``{name}/Y``, bound X's since the mask
    is 0/1); X itself when nothing is padded.  One public mask per (kind, rows)."""
    rows = g.tensors[X].shape[0]
    m = pad.mask(rows, kind)
    if m is None:
        return X
    M = f"pad.mask/{kind}/{rows}"
    if M not in g.tensors:
        g.tensor(M, m.shape, "public", value=m)
    y = g.tensor(f"{name}/Y", m.shape, "virtual", g.tensors[X].bound)
    g.op("hadamard", name, [X, M], [y])
    return y


def tensor_names(spec: ForwardSpec) -> dict[str, tuple[int, ...]]:
    """Committed input tensors of the graph and their shapes (in declaration order)."""
    a, pad = spec.arch, spec.padding
    names = ["embed"]
    for i in range(a.num_layers):
        names += [f"l{i}.ln1", f"l{i}.ln2"]
        for t in TARGETS:
            names.append(f"l{i}.{t}.W")
            if spec.lora is not None and t in spec.lora.targets:
                names += [f"l{i}.{t}.A", f"l{i}.{t}.B"]
    names.append("norm")
    if not a.tie_word_embeddings:
        names.append("lm_head")
    out: dict[str, tuple[int, ...]] = {"ids": (spec.tokens,), "labels": (spec.tokens,)}
    for n in names:
        out[n] = tuple(pad.size(k) for k in pad.tensor_kinds(n))
    return out


class _Builder:
    """Graph construction state for one `ForwardSpec`."""

    def __init__(self, spec: ForwardSpec, g: Graph | None = None, prefix: str = "",
                 adapters: Mapping[tuple[int, str], tuple[str, str]] | None = None,
                 ids: str = "ids"):
        """``g``: add to an existing graph (inputs already declared: `build` then skips
        `inputs`); ``prefix`` is prepended to every node and tensor the builder creates
        (not to the inputs); ``adapters`` maps (layer, target) to the (A, B) tensors the
        LoRA linears read (default ``l{i}.{t}.A`` / ``.B``); ``ids`` the token ids."""
        self.spec = spec
        self.own_graph = g is None
        self.g = Graph() if g is None else g
        self.pre = prefix
        self.adapters = dict(adapters or {})
        self.ids = ids
        #: tensors and node names the backward pass reads, by (layer, key) / key
        self.saved: dict = {}
        q = spec.quant
        self.s, self.w = q.act_scale, q.weight_scale
        self.act = Bound.bits(self.s + spec.act_bits)
        self.scaling = spec.lora.scaling if spec.lora is not None else 0.0
        self.pad = spec.padding

    def mask(self, name: str, X: str, kind: str) -> str:
        """`add_pad_mask` with this builder's graph and padding."""
        return add_pad_mask(self.g, self.pad, name, X, kind)

    def count(self) -> dict:
        """The RMSNorm keywords: the rsqrt's finer mantissa where it fits (`RMS_PRECISE`)
        and the true hidden size when it is padded."""
        kw: dict = {"precise": RMS_PRECISE}
        return kw | ({"count": self.spec.arch.hidden_size} if self.pad.padded("hidden") else {})

    def inputs(self) -> None:
        a = self.spec.arch
        for name, shape in tensor_names(self.spec).items():
            bound = (0, a.vocab_size - 1) if name == "ids" else None
            self.g.tensor(name, shape, "committed", bound)
        cos, sin = builder("rope.tables")(self.spec.seq, a.head_dim, a.rope_theta, self.s,
                                          rope_scaling=a.rope_scaling)
        self.g.tensor("rope.cos", cos.shape, "public", value=cos)
        self.g.tensor("rope.sin", sin.shape, "public", value=sin)

    def linear(self, name: str, X: str, layer: int, target: str) -> str:
        w = f"l{layer}.{target}.W"
        lora = self.spec.lora is not None and target in self.spec.lora.targets
        A, B = (f"l{layer}.{target}.A", f"l{layer}.{target}.B") if lora else (None, None)
        if lora:
            A, B = self.adapters.get((layer, target), (A, B))
            self.saved[(layer, target, "xa")] = f"{name}/xa_s/Y"
        self.saved[(layer, target, "x")] = X
        y = add_lora_linear(self.g, name, X, w, A, B, scaling=self.scaling,
                            weight_scale=self.w, bound=self.act)
        return self.mask(f"{name}/pad", y, LINEAR_KINDS[target][0])

    def gain(self, name: str) -> str:
        """The RMSNorm gain ``name`` (a frozen input) with its bound |γ| < 2^(GAIN_BITS−1)
        declared and proven by the proof itself: the model owner's commitment binds the
        values but not their range, and the norm's bound analysis relies on it."""
        return self.g.prove_bound(name, Bound.bits(self.s + GAIN_BITS).as_tuple())

    def heads(self, name: str, X: str, heads: int) -> str:
        """(N, heads·dh) → (B, heads, T, dh)."""
        sp, dh = self.spec, self.spec.arch.head_dim
        y = self.g.tensor(f"{name}/Y", (sp.batch, heads, sp.seq, dh), "virtual",
                          self.g.tensors[X].bound)
        self.g.op("transpose", name, [X], [y], axes=[0, 2, 1, 3],
                  view=[sp.batch, sp.seq, heads, dh], out=list(self.g.tensors[y].shape))
        return y

    def merge_heads(self, name: str, X: str) -> str:
        """(B, H, T, dh) → (N, H·dh)."""
        sp = self.spec
        b, h, t, dh = self.g.tensors[X].shape
        y = self.g.tensor(f"{name}/Y", (sp.tokens, h * dh), "virtual", self.g.tensors[X].bound)
        self.g.op("transpose", name, [X], [y], axes=[0, 2, 1, 3], view=[b, h, t, dh],
                  out=[sp.tokens, h * dh])
        return y

    def rope(self, name: str, X: str) -> str:
        shape = self.g.tensors[X].shape
        y = self.g.tensor(f"{name}/Y2", shape, "virtual")
        self.g.op("rope", name, [X, "rope.cos", "rope.sin"], [y])
        return add_rescale(self.g, f"{name}/rs", y, self.s, self.act)

    def attention_inputs(self, layer: int, x: str) -> tuple[str, str, str]:
        """Q (B, H, T, dh) and K (B, Hkv, T, dh) after RoPE, V (B, Hkv, T, dh)."""
        a = self.spec.arch
        p = f"{self.pre}l{layer}"
        del a
        H, Hkv = self.pad.heads, self.pad.kv_heads
        q = self.heads(f"{p}.q/heads", self.linear(f"{p}.q", x, layer, "q"), H)
        k = self.heads(f"{p}.k/heads", self.linear(f"{p}.k", x, layer, "k"), Hkv)
        v = self.heads(f"{p}.v/heads", self.linear(f"{p}.v", x, layer, "v"), Hkv)
        return self.rope(f"{p}.q/rope", q), self.rope(f"{p}.k/rope", k), v

    def residual(self, name: str, h: str, y: str) -> str:
        """h + y, virtual, with no declared bound: consumers derive it from the addends'
        (range-checked) bounds (`zklora.zkcore.build.declared_bound`), so every
        bound the graph relies on is implied by a proof."""
        out = self.g.tensor(name, self.g.tensors[h].shape, "virtual")
        self.g.op("add", name, [h, y], [out])
        return out

    def layer(self, i: int, h: str) -> str:
        add_rmsnorm, add_swiglu = builder("rmsnorm"), builder("swiglu")
        add_attention = builder("attention")
        a = self.spec.arch
        p = f"{self.pre}l{i}"
        x = add_rmsnorm(self.g, f"{p}.ln1", h, self.gain(f"l{i}.ln1"), eps=a.rms_norm_eps,
                        scale=self.s, **self.count())
        q, k, v = self.attention_inputs(i, x)
        o = add_attention(self.g, f"{p}.attn", q, k, v, scale=self.s)
        self.saved.update({(i, "q"): q, (i, "k"): k, (i, "v"): v, (i, "attn"): f"{p}.attn",
                           (i, "o"): o, (i, "ln1"): f"{p}.ln1", (i, "ln2"): f"{p}.ln2",
                           (i, "mlp"): f"{p}.mlp"})
        o = self.merge_heads(f"{p}.attn/merge", o)
        if self.pad.group_p != self.pad.group:
            # a padded query head of a real KV group averages real values: zero it
            o = self.mask(f"{p}.attn/pad", o, "q")
        o = self.linear(f"{p}.o", o, i, "o")
        h = self.residual(f"{p}.res1", h, o)
        x = add_rmsnorm(self.g, f"{p}.ln2", h, self.gain(f"l{i}.ln2"), eps=a.rms_norm_eps,
                        scale=self.s, **self.count())
        gt = self.linear(f"{p}.gate", x, i, "gate")
        up = self.linear(f"{p}.up", x, i, "up")
        m = add_swiglu(self.g, f"{p}.mlp", gt, up, scale=self.s)
        return self.residual(f"{p}.res2", h, self.linear(f"{p}.down", m, i, "down"))

    def lm_head(self) -> str:
        return "embed" if self.spec.arch.tie_word_embeddings else "lm_head"

    @property
    def embed_scale(self) -> int:
        """The embedding table's scale: the weight scale when tied (it is the LM head's
        weight too), else the activation scale."""
        return self.w if self.spec.arch.tie_word_embeddings else self.s

    def build(self, loss: int | None, *, with_loss: bool = True,
              num_tokens: int | None = None, labels: str = "labels") -> Graph:
        """The whole graph; ``with_loss=False`` stops at the logits (a committed output).
        ``labels``: the committed (unshifted, −100 = ignored) labels of the batch;
        ``num_tokens``: the statement's number of counted tokens (default B·(T − 1))."""
        add_rmsnorm = builder("rmsnorm")
        a = self.spec.arch
        pre = self.pre
        if self.own_graph:
            self.inputs()
        # a tied table is at the weight scale (it is the LM head too): its rows come back
        # to the activation scale by a proven rescale after the lookup
        up = self.embed_scale - self.s
        h = builder("embedding")(self.g, f"{pre}embed/lookup", self.ids, "embed",
                                 bound=(self.act * (1 << up)).as_tuple())
        # the rows of the frozen table the batch reads: their declared (activation) bound
        # sizes every RMSNorm plan downstream, so the proof checks it (docs/forward.md §4)
        self.g.prove_bound(h)
        if up:
            h = add_rescale(self.g, f"{pre}embed/down", h, up, self.act)
        h = self.mask(f"{pre}embed/pad", h, "hidden")
        for i in range(a.num_layers):
            h = self.layer(i, h)
        x = add_rmsnorm(self.g, f"{pre}final.norm", h, self.gain("norm"), eps=a.rms_norm_eps,
                        scale=self.s, **self.count())
        p = self.g.tensor(f"{pre}logits/XW", (self.spec.tokens, self.pad.size("vocab")),
                          "virtual")
        self.g.op("matmul", f"{pre}logits/xw", [x, self.lm_head()], [p], transpose_b=True)
        logits = add_rescale(self.g, f"{pre}logits", p, self.w, self.act)
        self.saved.update({"final.norm": f"{pre}final.norm", "xf": x, "logits": logits})
        self.logits, self.loss = logits, None
        if not with_loss:
            self.g.outputs.append(logits)
            return self.g
        # the batch's committed labels (transformers' unshifted convention), shifted for
        # the causal LM (a linear map, nothing committed); the cross-entropy proves that
        # exactly N = the statement's count of shifted labels are not −100, and that no
        # label selects a padded vocabulary column
        shifted = builder("shift_labels")(self.g, f"{pre}labels", labels, self.spec.seq,
                                          kind="virtual")
        N = default_num_tokens(self.spec.batch, self.spec.seq) if num_tokens is None \
            else int(num_tokens)
        out = builder("cross_entropy")(self.g, f"{pre}loss", logits, shifted, scale=self.s,
                                       loss=0 if loss is None else int(loss),
                                       num_tokens=N, vocab=a.vocab_size)
        if out not in self.g.outputs:
            self.g.outputs.append(out)
        self.saved["ce"] = f"{pre}loss"
        self.loss = out
        return self.g


def build_graph(spec: ForwardSpec, loss: int | None = None,
                num_tokens: int | None = None) -> Graph:
    """The forward graph for ``spec``; ``loss`` is the public loss (None: a placeholder
    while the prover computes it), ``num_tokens`` the counted tokens (default B·(T − 1))."""
    return _Builder(spec).build(loss, num_tokens=num_tokens)


# -- witness ---------------------------------------------------------------------------


#: entries converted at once by `_fixed_padded`'s torch path (float64 temporaries of this
#: many entries; tensors the kernel `fixed_rows` cannot take)
QUANT_CHUNK = 1 << 22

#: reuse the padded int64 weight matrices of the last `quantize_inputs` (same
#: architecture) that nothing references any more, instead of fresh memory (s40h4).
#: Off: the pool keeps one call's matrices alive for the whole next proof, which
#: otherwise spills and drops them: 84m from the prover cache, phsys run 1 witness
#: minflt 150k -> 0.5k, sys 0.22 -> 0.00 s, whole prove ~-0.3 s CPU with the lookups'
#: re-faults of freed memory gone too, but a one-prove process's peak RSS 1.10 -> 1.60
#: GiB (25m 810 -> 980 MiB; docs/perf/session40.md, s40h4)
REUSE_WEIGHTS = False


class _Reuse:
    """The last `quantize_inputs`'s matrices from `_fixed_padded`'s fill path, by shape,
    for the next call with the same ``key`` (architecture and LoRA).  A matrix is taken
    only when no tensor, view or numpy array shares its storage (`_take`), so what a
    caller still holds is never written; a repeated prove in one process then writes
    into pages it already has (at 84m ~140k minor faults and ~0.2 s system CPU a prove
    fewer: each new page costs a fault and a kernel clear, after a free the host may take
    it back).  Holds at most one call's matrices (the process keeps them after a prove:
    ~0.6 GiB at 84m)."""

    lock = threading.Lock()
    key: Any = None
    free: dict = {}


def _take(pool: dict | None, shape: tuple) -> torch.Tensor:
    """An int64 tensor of ``shape`` (contents unspecified): one of ``pool[shape]`` that
    nothing else references, else a new one."""
    lst = pool.get(shape) if pool else None
    while lst:
        t = lst.pop()
        try:
            sole = torch._C._storage_Use_Count(t.untyped_storage()._cdata) == 2
        except Exception:       # no such private API in this torch: never reuse
            return torch.empty(shape, dtype=torch.int64)
        # references: this frame's ``t`` and getrefcount's argument; storage users: t
        # and the temporary storage object
        if sole and sys.getrefcount(t) == 2 and t.dtype == torch.int64 and \
                t.is_contiguous() and t.storage_offset() == 0:
            return t
    return torch.empty(shape, dtype=torch.int64)


def _fixed_padded(pad: Padding, x: torch.Tensor, s: int, kinds: Sequence[str],
                  name: str, pool: dict | None = None,
                  made: list | None = None) -> torch.Tensor:
    """``pad.pad(to_fixed(x, s), kinds)`` computed straight into the padded int64 output
    (equal values; no float64 or unpadded copy): one pass of
    `zklora.kernels.fixed_point.fixed_rows` for float
    matrices (bfloat16/float16 widened to float32 first: exact), else a block of rows at
    a time through `to_fixed`.  The matrix comes from ``pool`` where one is free
    (`_take`) and is appended to ``made``."""
    true = tuple(pad.true_size(k) for k in kinds)
    if tuple(x.shape) != true:
        raise ConfigError(f"padding: tensor of shape {tuple(x.shape)} is not {list(true)}")
    if x.dim() != 2 or (x.numel() <= QUANT_CHUNK and not x.is_floating_point()):
        return pad.pad(to_fixed(x, s, name=name), kinds).contiguous()
    shape = tuple(pad.size(k) for k in kinds)
    rows, cols = pad.index(kinds[0]), pad.index(kinds[1])
    plain_cols = bool(torch.equal(cols, torch.arange(true[1])))
    # the fills below write every entry at (rows, cols) (`Padding.index`: distinct
    # indices); only the others are zeroed here (s40h4: no zero pass over a whole weight
    # matrix first, ~6 ms user a 32 MiB matrix)
    out = _take(pool, shape)
    if made is not None:
        made.append(out)
    if true[0] != shape[0]:
        free = torch.ones(shape[0], dtype=torch.bool)
        free[rows] = False
        out[free] = 0
    if true[1] != shape[1]:
        if plain_cols:
            out[:, true[1]:] = 0
        else:
            free = torch.ones(shape[1], dtype=torch.bool)
            free[cols] = False
            out[:, free] = 0
    if (x.is_floating_point() and x.numel() and type(s) is int
            and 0 <= s <= MAX_SCALE):
        xa = x.detach()
        if xa.dtype not in (torch.float32, torch.float64):
            xa = xa.to(torch.float32)
        xa = np.ascontiguousarray(xa.numpy())
        if fixed_rows(xa, float(1 << s), rows.numpy(), cols.numpy(), plain_cols,
                      out.numpy()):
            to_fixed(x, s, name=name)      # raises the error naming the value
            raise AssertionError("to_fixed accepted what fixed_rows rejected")
        return out
    step = max(1, QUANT_CHUNK // true[1])
    for r0 in range(0, true[0], step):
        q = to_fixed(x[r0:r0 + step], s, name=name)
        r = rows[r0:r0 + step]
        if plain_cols:
            out[r, :true[1]] = q
        else:
            out[r[:, None], cols[None, :]] = q
    return out


def quantize_inputs(spec: ForwardSpec, ckpt: Checkpoint, adapter: Adapter | None,
                    input_ids: Batch | torch.Tensor) -> dict[str, torch.Tensor]:
    """Integer values of every committed input tensor, padded (`Padding`); ``input_ids`` a
    `Batch` (ids and labels) or the ids (B, T) alone (labels = the ids).  Each weight is
    read from the checkpoint once and converted a block of rows at a time, so with a
    lazy checkpoint (`hf.load_model(lazy=True)`) the float weights never sit in memory
    together."""
    a, q = spec.arch, spec.quant
    if ckpt.arch != a:
        raise ConfigError("model: the checkpoint's architecture differs from the spec")
    data = check_batch(input_ids, (spec.batch, spec.seq), a.vocab_size)
    w = q.weight_scale
    pad = spec.padding

    made: list[torch.Tensor] = []
    pool = None
    if REUSE_WEIGHTS:
        with _Reuse.lock:
            key = (a, spec.lora)
            pool, _Reuse.free = (_Reuse.free if _Reuse.key == key else {}), {}
            _Reuse.key = key

    def fixed(key: str, x, scale: int, name: str) -> torch.Tensor:
        return _fixed_padded(pad, x, scale, pad.tensor_kinds(key), name, pool, made)

    out = {"ids": data.input_ids.reshape(-1).contiguous(),
           "labels": data.labels.reshape(-1).contiguous(),
           "embed": fixed("embed", ckpt.weights["model.embed_tokens.weight"],
                          w if a.tie_word_embeddings else q.act_scale,
                          "model.embed_tokens.weight")}
    for i in range(a.num_layers):
        pre = f"model.layers.{i}."
        out[f"l{i}.ln1"] = fixed(f"l{i}.ln1", ckpt.weights[pre + "input_layernorm.weight"],
                                 q.act_scale, pre + "input_layernorm.weight")
        out[f"l{i}.ln2"] = fixed(f"l{i}.ln2",
                                 ckpt.weights[pre + "post_attention_layernorm.weight"],
                                 q.act_scale, pre + "post_attention_layernorm.weight")
        for t, mod in TARGETS.items():
            out[f"l{i}.{t}.W"] = fixed(f"l{i}.{t}.W", ckpt.linear(i, t), w,
                                       pre + mod + ".weight")
            if spec.lora is not None and t in spec.lora.targets:
                if adapter is None:
                    raise ConfigError("model: the spec has LoRA targets but no adapter given")
                pair = adapter.pairs[(i, t)]
                out[f"l{i}.{t}.A"] = fixed(f"l{i}.{t}.A", pair.A, w,
                                           f"{pre}{mod}.lora_A.weight")
                out[f"l{i}.{t}.B"] = fixed(f"l{i}.{t}.B", pair.B, w,
                                           f"{pre}{mod}.lora_B.weight")
    out["norm"] = fixed("norm", ckpt.weights["model.norm.weight"], q.act_scale,
                        "model.norm.weight")
    if not a.tie_word_embeddings:
        out["lm_head"] = fixed("lm_head", ckpt.lm_head, w, "lm_head.weight")
    if REUSE_WEIGHTS:
        del pool
        free: dict = {}
        for t in made:
            free.setdefault(tuple(t.shape), []).append(t)
        with _Reuse.lock:
            if _Reuse.key == key:
                _Reuse.free = free
    return out


@attrs.frozen
class ForwardResult:
    """The integer forward: logits (B, T, V) and loss, as integers and reals."""

    logits_int: torch.Tensor
    loss_int: int
    scale: int
    values: dict
    #: the graph run (undropped) and the registry that ran it: what `graph.Traced`
    #: needs to hand ``values`` to a proof's forward pass
    graph: Any = None
    registry: Any = None

    @property
    def logits(self) -> torch.Tensor:
        return self.logits_int.to(torch.float64) / float(1 << self.scale)

    @property
    def loss(self) -> float:
        return self.loss_int / float(1 << self.scale)


def integer_forward(spec: ForwardSpec, inputs: Mapping[str, torch.Tensor], registry=None,
                    *, with_loss: bool = True) -> ForwardResult:
    """Run the graph's own integer forward (`zklora.zkcore.graph.forward`); with
    ``with_loss=False`` only up to the logits (loss_int is then 0)."""
    from zklora.zkcore.plugins import registry as default_registry
    b = _Builder(spec)
    lab = inputs.get("labels")
    g = b.build(None, with_loss=with_loss, num_tokens=None if lab is None else
                count_tokens(lab.reshape(spec.batch, spec.seq)))
    reg = registry or default_registry()
    values = graphlib.forward(g, {k: v for k, v in inputs.items() if k in g.tensors}, reg)
    logits = values[b.logits].reshape(spec.batch, spec.seq, -1)[..., :spec.arch.vocab_size]
    loss = int(values[b.loss].reshape(-1)[0]) if b.loss else 0
    return ForwardResult(logits, loss, spec.quant.act_scale, values, g, reg)


# -- data: `zklora.plugins.models.data` (load_batch, random_batch, Batch) ---------------


# -- frozen base weights (the model owner's commitment) -----------------------------------


def frozen_names(spec: ForwardSpec) -> list[str]:
    """Committed inputs that are the frozen base model: everything but the batch and
    the LoRA adapters."""
    return [n for n in tensor_names(spec)
            if n not in ("ids", "labels") and not n.endswith((".A", ".B"))]


def frozen_scope(spec: ForwardSpec) -> dict[str, Any]:
    """What a model commitment is made for: the architecture and the weight scales."""
    return {"arch": attrs.asdict(spec.arch), "weight_scale": spec.quant.weight_scale,
            "act_scale": spec.quant.act_scale}


def load_frozen(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(scope, quantised frozen tensors) of the model named by prover-side ``params``
    (``model``, ``quant``, ``kv_heads``), without adapter or data."""
    from .hf import load_model
    from .tiny import tiny_arch, tiny_weights

    src = params.get("model", "tiny")
    if src == "tiny":
        ckpt = tiny_weights(tiny_arch(int(params.get("kv_heads", 4))))
    else:
        ckpt = load_model(src, lazy=True)
    try:
        quant = QuantConfig.from_dict(params.get("quant", {}))
    except TypeError as e:
        raise ConfigError(f"model.quant: {e}") from None
    spec = ForwardSpec(ckpt.arch, None, quant, 1, 1, int(params.get("act_bits", ACT_BITS)))
    values = quantize_inputs(spec, ckpt, None, torch.zeros((1, 1), dtype=torch.int64))
    return frozen_scope(spec), {n: values[n] for n in frozen_names(spec)}


# -- statement limits (the verifier reads these shapes from an untrusted statement) -----------

#: per-dimension caps of a statement: generous for real LLaMA widths (vocab 128256,
#: hidden 4096, FFN 14336, seq 4096 and beyond); the total work of a statement is
#: bounded separately (`work_estimate`, `zklora.zkcore.security.MAX_STATEMENT_WORK`)
STATEMENT_LIMITS = {"vocab_size": 1 << 18, "hidden_size": 1 << 15,
                    "intermediate_size": 1 << 17, "num_layers": 1 << 9,
                    "num_attention_heads": 1 << 10, "num_key_value_heads": 1 << 10,
                    "head_dim": 1 << 10, "max_position_embeddings": 1 << 21,
                    "batch": 1 << 16, "seq": 1 << 17, "lora r": 1 << 12}


def check_limits(spec: ForwardSpec) -> ForwardSpec:
    """Refuse a forward spec with a dimension above `STATEMENT_LIMITS` (ConfigError
    naming it); cheap, before anything is built."""
    a = spec.arch
    dims = {"vocab_size": a.vocab_size, "hidden_size": a.hidden_size,
            "intermediate_size": a.intermediate_size, "num_layers": a.num_layers,
            "num_attention_heads": a.num_heads, "num_key_value_heads": a.num_kv_heads,
            "head_dim": a.head_dim, "max_position_embeddings": a.max_position_embeddings,
            "batch": spec.batch, "seq": spec.seq}
    if spec.lora is not None:
        dims["lora r"] = spec.lora.r
    for name, v in dims.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= STATEMENT_LIMITS[name]:
            raise ConfigError(f"model: {name} = {v!r} is outside [1, {STATEMENT_LIMITS[name]}] "
                              "(statement limit)")
    if spec.lora is not None and len(spec.lora.targets) > len(TARGETS):
        raise ConfigError(f"model: lora targets {list(spec.lora.targets)[:8]} are too many")
    return spec


def work_estimate(spec: ForwardSpec) -> int:
    """An estimate (within ~2× above, `tests/test_hostile_statement.py`) of the elements
    of every tensor of `build_graph(spec)`: weights, activations per token and layer,
    attention scores per head, logits — computed from the shapes alone."""
    a, pad = spec.arch, spec.padding
    N, B, T, L = spec.tokens, spec.batch, spec.seq, a.num_layers
    h, f, V, H = pad.size("hidden"), pad.size("ffn"), pad.size("vocab"), pad.heads
    q, kv = pad.size("q"), pad.size("kv")
    r = spec.lora.r if spec.lora is not None else 0
    heads = 1 if a.tie_word_embeddings else 2     # a tied LM head is the embedding
    weights = heads * V * h + L * (2 * q * h + 2 * kv * h + 3 * f * h + 2 * h + 8 * r * (h + f))
    per_layer = N * (24 * h + 16 * f + 32 * (q + kv) + 8 * r) + 16 * B * H * T * T
    return int(weights + L * per_layer + N * (20 * V + 64))


# -- the model plugin -------------------------------------------------------------------

_PUBLIC_KEYS = {"arch", "lora", "quant", "batch", "seq", "act_bits", "loss", "num_tokens"}
_PRIVATE_KEYS = {"model", "adapter", "data", "batch", "seq", "seed", "quant", "act_bits",
                 "kv_heads", "init"}


def _load_private(params: Mapping[str, Any]):
    """(spec, checkpoint, adapter, batch) from prover-side parameters (`data.Batch`:
    the data file padded to powers of two, or a seeded random batch)."""
    from .hf import load_adapter, load_model
    from .tiny import tiny_adapter, tiny_arch, tiny_weights

    for k in params:
        if k not in _PRIVATE_KEYS:
            raise ConfigError(f"model: unknown key {k!r}; allowed: "
                              f"{', '.join(sorted(_PRIVATE_KEYS))}")
    src = params.get("model", "tiny")
    if src == "tiny":
        arch = tiny_arch(int(params.get("kv_heads", 4)))
        ckpt = tiny_weights(arch)
        adapter = (load_adapter(params["adapter"], arch) if params.get("adapter")
                   else tiny_adapter(arch, init=str(params.get("init", "random"))))
    else:
        if "kv_heads" in params:
            raise ConfigError("model.kv_heads only applies to the built-in tiny model")
        ckpt = load_model(src, lazy=True)
        arch = ckpt.arch
        adapter = load_adapter(params["adapter"], arch) if params.get("adapter") else None
    if params.get("data"):
        ids = load_batch(params["data"], vocab=arch.vocab_size, tokenizer=tokenizer_dir(src),
                         batch=int(params["batch"]) if "batch" in params else None,
                         seq=int(params["seq"]) if "seq" in params else None)
    else:
        ids = Batch.of(random_batch(arch.vocab_size, int(params.get("batch", 4)),
                                    int(params.get("seq", 32)), int(params.get("seed", 0))))
    try:
        quant = QuantConfig.from_dict(params.get("quant", {}))
    except TypeError as e:
        raise ConfigError(f"model.quant: {e}") from None
    spec = ForwardSpec(arch, adapter.spec if adapter else None, quant, int(ids.shape[0]),
                       int(ids.shape[1]), int(params.get("act_bits", ACT_BITS)))
    return spec, ckpt, adapter, ids


def _public_num_tokens(public: Mapping[str, Any], batch: int, seq: int) -> int:
    """The statement's counted tokens: ``num_tokens`` (present only when it differs from
    B·(T − 1), the count of a batch without padding or ignored labels)."""
    n = public.get("num_tokens", default_num_tokens(batch, seq))
    if isinstance(n, bool) or not isinstance(n, int) or \
            not 1 <= n <= default_num_tokens(batch, seq):
        raise ConfigError(f"model.num_tokens must be an integer in [1, "
                          f"{default_num_tokens(batch, seq)}], got {n!r}")
    return n


class Llama(Model):
    """The LLaMA forward pass + loss (module doc).

    Prover-side parameters: ``model`` ("tiny" or a HF directory), ``adapter`` (peft
    directory; the tiny model defaults to its seeded adapter), ``data`` (JSONL / .npy;
    default a seeded random batch of ``batch`` × ``seq``), ``seed``, ``quant``,
    ``act_bits``, ``kv_heads`` and ``init`` (tiny only).  Public parameters (the
    statement): ``arch``, ``lora``, ``quant``, ``batch``, ``seq``, ``act_bits``, the
    integer ``loss`` at the activation scale and ``num_tokens`` (the tokens the loss
    averages over; absent when it is B·(T − 1)).
    """

    name = "llama"
    description = "LLaMA forward pass and causal-LM loss with LoRA adapters"

    def __init__(self):
        self._cache: dict[str, tuple[dict, dict]] = {}

    def _prepare(self, params, inputs: bool = True):
        """(public parameters, committed inputs) of ``params``, cached (the inputs until
        `witness` hands them over; ``inputs=False`` needs only the public part)."""
        key = json.dumps(params, sort_keys=True, default=str)
        if key not in self._cache or (inputs and self._cache[key][1] is None):
            spec, ckpt, adapter, ids = _load_private(params)
            inputs = quantize_inputs(spec, ckpt, adapter, ids)
            res = integer_forward(spec, inputs)
            # inside a proof's scratch session (`api.prove`) the run's values go with the
            # inputs (`witness`): the proof's forward pass takes them, computed once
            if scratch.current() is not None:
                inputs = graphlib.Traced(inputs, res.values,
                                         graphlib.trace_key(res.graph, False), res.registry)
            public = spec.to_public()
            public["loss"] = res.loss_int
            if ids.num_tokens != default_num_tokens(spec.batch, spec.seq):
                public["num_tokens"] = ids.num_tokens
            self._cache = {key: (public, inputs)}
        return self._cache[key]

    def public_params(self, params):
        if "loss" in params:
            extra = sorted(set(params) - _PUBLIC_KEYS)
            if extra:
                raise ConfigError(f"model: unknown public keys {extra}")
            try:
                spec = check_limits(ForwardSpec.from_public(params))
            except (OverflowError, RecursionError) as e:
                raise ConfigError(f"model: malformed parameter ({e})") from None
            loss = params["loss"]
            if not isinstance(loss, int) or isinstance(loss, bool):
                raise ConfigError("model.loss must be an integer")
            out = spec.to_public()
            out["loss"] = loss
            n = _public_num_tokens(params, spec.batch, spec.seq)
            if n != default_num_tokens(spec.batch, spec.seq):
                out["num_tokens"] = n
            return out
        return dict(self._prepare(params, inputs=False)[0])

    def work_estimate(self, public) -> int:
        """Elements of the graph `build(public)` would create (`work_estimate`)."""
        return work_estimate(check_limits(ForwardSpec.from_public(public)))

    def build(self, public):
        return build_graph(ForwardSpec.from_public(public), int(public["loss"]),
                           _public_num_tokens(public, int(public["batch"]),
                                              int(public["seq"])))

    def witness(self, params):
        """The committed inputs, handed over: the cache keeps the public parameters only,
        so the quantised weights live as long as the caller's proof, not the process (a
        second call recomputes them)."""
        public, inputs = self._prepare(params)
        key = json.dumps(params, sort_keys=True, default=str)
        self._cache = {key: (public, None)}
        if isinstance(inputs, graphlib.Traced) and inputs.holds \
                and scratch.current() is not None:
            return inputs     # with the loss's run's values (`graph.Traced`)
        return dict(inputs)

    def frozen_tensors(self, public):
        return frozen_names(ForwardSpec.from_public(public))

    def frozen_scope(self, public):
        return frozen_scope(ForwardSpec.from_public(public))

    def frozen_witness(self, params):
        return load_frozen(params)

    def losses(self, public) -> list[float]:
        """The public loss, the integer at the activation scale, as a real number."""
        return [public["loss"] / (1 << int(public["quant"]["act_scale"]))]


@hookimpl
def zk_models():
    return [Llama()]


#: Options of the forward model (the training model takes them too): ``zklora prove
#: --task forward --model DIR --adapter DIR --data FILE`` / ``zklora.prove(model=…)``.
OPTIONS = (
    ModelOption("model", "A Hugging Face LLaMA directory, or 'tiny' (the built-in model).",
                type="path", default="tiny", metavar="DIR|tiny", frozen=True),
    ModelOption("adapter", "A peft LoRA adapter directory (default: the tiny model's seeded "
                "adapter).", type="dir"),
    ModelOption("data", 'Token batch: JSONL rows of {"input_ids": [...]} (optionally '
                '"attention_mask", right padding, and "labels", -100 = ignored) or '
                '{"text": "..."} (tokenised with the model\'s tokenizer.json), or an '
                "integer .npy [batch, seq]; ragged rows are padded (default: a seeded random "
                "batch; docs/training.md).", type="file"),
)


@hookimpl
def zk_model_options():
    return [ModelOptions("llama", OPTIONS, task="forward")]
