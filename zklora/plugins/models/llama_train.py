"""``llama-train``: T chained LoRA training steps of a LLaMA decoder, proven as one graph.

Step t (0-based; the optimiser's step index is start_step + t + 1 — a fresh optimiser
state at start_step 0, a linked proof's committed one otherwise) reads the adapters θ_t
(master scale s_θ, ``master_scale``) and the optimiser state (m̂_t, v̂_t) and computes,
all in the integer spec of the ops::

    A16, B16 = rescale(θ_t, s_θ − w)                      adapters the forward reads
    loss_t  = forward(ids, frozen weights, A16, B16)       `llama._Builder`, PUBLIC output
    dZ      = (P − onehot)/N                              cross_entropy_backward
    dxf     = rescale_w(dZ·lm_head);  dh = rmsnorm_bwd(final.norm, dxf)
    for each layer i, top to bottom (down to the first LoRA target):
      down:     dm = rescale(dh·W_down [+ LoRA]);  (dG, dU) = swiglu_bwd(dm)
      gate/up:  dx2 = rescale(dG·W_gate + dU·W_up [+ LoRA]);  dh1 = dh + rmsnorm_bwd(ln2, dx2)
      o:        do = rescale(dh1·W_o [+ LoRA]) → heads;  (dQ, dK, dV) = attention_bwd(do)
      q, k:     rope_bwd = rescale_s(rope(dQ|dK, transpose=True)) → merge heads
      q/k/v:    dx1 = rescale(dq·W_q + dk·W_k + dv·W_v [+ LoRA]);  dh = dh1 + rmsnorm_bwd(ln1, dx1)
    θ_{t+1}, m̂_{t+1}, v̂_{t+1} = adamw | adam | sgd (θ_t, dθ, m̂_t, v̂_t)

LoRA gradients of Y = X·Wᵀ + σ·(X·Aᵀ)·Bᵀ (peft layouts A (r, d_in), B (d_out, r);
σ = c/2^k as in the forward), never a d_out × d_in matrix::

    G  = rescale_w(dY·B)                      (N, r)      committed, scale s_g
    dA = rescale_{s+k}(c·Gᵀ·X)                (r, d_in)   committed, s_g
    dB = rescale_{s+k}(c·dYᵀ·XA)              (d_out, r)  committed, s_g  (XA: the forward's)
    dX = rescale_{w+k}(2^k·Σ dY·W + c·Σ G·A)  one rescale per shared input X

Gradients are at s_g = ``quant.grad_scale`` (24): every gradient tensor that is a
rescale output is committed with the declared bound |g| < 2^(grad_bits − 1) (real units),
range-checked; the residual stream's gradient is an exact sum (no bound of its own).
Rounding is treated as the identity in the backward (the straight-through gradient of
the real function).  Step 0 reads the committed initial adapters ``l{i}.{t}.A|B``
(master scale) and the public zero state — or, resuming at ``start_step`` > 0 (linked
proofs, `TrainState`, `LlamaTrain.chain_link`), the committed initial m̂, v̂
``opt0/l{i}.{t}.A|B/m|v``; step t + 1 reads step t's optimiser outputs;
the last step's θ, m̂, v̂ are committed graph outputs (`statement_tensors`).  The batch
is the same at every step unless the data has steps × batch rows (then step t reads
rows t·batch … (t+1)·batch − 1, one committed ``ids`` tensor per step), or the rows
split by ``batch_size`` (`data.split_batches`) make one batch per step.  Each batch is
committed as its token ids and its (unshifted, −100 = ignored) labels: ``ids`` /
``labels``, or ``s{t}/ids`` / ``s{t}/labels`` per step; the loss averages over the
batch's counted tokens N_t (the statement's ``num_tokens``, present when it differs
from B·(T − 1)).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import scratch, security
from zklora.zkcore import segments as segmentlib
from zklora.zkcore.build import builder
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.model import Model, ModelOption, ModelOptions
from zklora.zkcore.quant import Bound, to_fixed

from . import llama
from .data import (
    Batch,
    check_batch,
    count_tokens,
    default_num_tokens,
    load_batches,
    read_rows,
    tokenizer_dir,
)
from .hf import PEFT_PREFIX, TARGETS, Adapter, LoraPair
from .llama import (
    ACT_BITS,
    ForwardSpec,
    _Builder,
    _load_private,
    _public_num_tokens,
    add_pad_mask,
    add_rescale,
    quantize_inputs,
    scaling_fixed,
    tensor_names,
)
from .padding import LINEAR_KINDS

OPTIMIZERS = ("adamw", "adam", "sgd")
#: torch.optim.AdamW's defaults
DEFAULT_OPTIM = {"optimizer": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8,
                 "weight_decay": 1e-2}
MASTER_SCALE = 24
GRAD_BITS = 2
ADAPTER_BITS = 4
#: backward order of the projections inside a layer (0 = q/k/v … 3 = down)
STAGE = {"q": 0, "k": 0, "v": 0, "o": 1, "gate": 2, "up": 2, "down": 3}


# -- public spec ------------------------------------------------------------------------


def _num(d: Mapping, key: str) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"optim.{key} must be a finite number, got {v!r}")
    return float(v)


@attrs.frozen
class OptimSpec:
    """Optimiser hyper-parameters (public; defaults torch.optim.AdamW's)."""

    optimizer: str = "adamw"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 1e-2

    def __attrs_post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optim.optimizer: {self.optimizer!r} is not one of "
                              f"{', '.join(OPTIMIZERS)}")
        if not self.lr > 0:
            raise ConfigError(f"optim.lr must be > 0, got {self.lr}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"optim.betas must be two numbers in [0, 1), got "
                              f"{list(self.betas)}")
        if not self.eps > 0:
            raise ConfigError(f"optim.eps must be > 0, got {self.eps}")
        if not self.weight_decay >= 0:
            raise ConfigError(f"optim.weight_decay must be ≥ 0, got {self.weight_decay}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OptimSpec:
        extra = sorted(set(d) - set(DEFAULT_OPTIM))
        if extra:
            raise ConfigError(f"optim: unknown keys {extra}; allowed: {sorted(DEFAULT_OPTIM)}")
        full = {**DEFAULT_OPTIM, **d}
        opt = full["optimizer"]
        if not isinstance(opt, str):
            raise ConfigError(f"optim.optimizer must be a string, got {opt!r}")
        betas = full["betas"]
        if not isinstance(betas, list | tuple) or len(betas) != 2:
            raise ConfigError(f"optim.betas must be a list of 2 numbers, got {betas!r}")
        b = tuple(_num({"betas": x}, "betas") for x in betas)
        return cls(opt, _num(full, "lr"), b, _num(full, "eps"), _num(full, "weight_decay"))

    def to_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer, "lr": self.lr, "betas": list(self.betas),
                "eps": self.eps, "weight_decay": self.weight_decay}

    def torch_kwargs(self) -> dict[str, Any]:
        """Keywords of `zklora.plugins.models.reference.make_optimizer`."""
        d = self.to_dict()
        d["betas"] = tuple(d["betas"])
        return d


@attrs.frozen
class TrainSpec:
    """Everything public that defines the training graph."""

    fwd: ForwardSpec
    steps: int
    optim: OptimSpec = OptimSpec()
    master_scale: int = MASTER_SCALE
    grad_bits: int = GRAD_BITS
    adapter_bits: int = ADAPTER_BITS
    batches: int = 1  # 1: the same batch every step; steps: one batch per step
    #: optimiser steps already taken before this proof (0: fresh state; > 0: the proof
    #: resumes from committed θ, m̂, v̂ — a linked proof, docs/training.md § 6)
    start_step: int = 0

    def __attrs_post_init__(self):
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ConfigError(f"steps must be an integer ≥ 1, got {self.steps!r}")
        if isinstance(self.start_step, bool) or not isinstance(self.start_step, int) or \
                not 0 <= self.start_step < 1 << 40:
            raise ConfigError(f"start_step must be an integer in [0, 2^40), got "
                              f"{self.start_step!r}")
        if self.fwd.lora is None:
            raise ConfigError("training needs a LoRA adapter (the spec has none)")
        w = self.fwd.quant.weight_scale
        if not w <= self.master_scale <= 40:
            raise ConfigError(f"train.master_scale {self.master_scale} must be in "
                              f"[weight_scale = {w}, 40]")
        if not 1 <= self.grad_bits <= 12:
            raise ConfigError(f"train.grad_bits {self.grad_bits} must be in [1, 12]")
        if not 1 <= self.adapter_bits <= 12:
            raise ConfigError(f"train.adapter_bits {self.adapter_bits} must be in [1, 12]")
        if self.batches not in (1, self.steps):
            raise ConfigError(f"train.batches must be 1 or steps ({self.steps}), got "
                              f"{self.batches}")

    @property
    def grad_scale(self) -> int:
        return self.fwd.quant.grad_scale

    @property
    def resumed(self) -> bool:
        """Whether the initial optimiser state is committed (a resumed Adam run)."""
        return self.start_step > 0 and self.optim.optimizer != "sgd"

    def to_public(self) -> dict[str, Any]:
        out = self.fwd.to_public()
        out["steps"] = self.steps
        if self.start_step:  # absent for a fresh run: today's statements unchanged
            out["start_step"] = self.start_step
        out["optim"] = self.optim.to_dict()
        out["train"] = {"master_scale": self.master_scale, "grad_bits": self.grad_bits,
                        "adapter_bits": self.adapter_bits, "batches": self.batches}
        return out

    @classmethod
    def from_public(cls, d: Mapping[str, Any]) -> TrainSpec:
        fwd = ForwardSpec.from_public({k: v for k, v in d.items()
                                       if k in ("arch", "lora", "quant", "batch", "seq",
                                                "act_bits")})
        tr = dict(d.get("train", {}))
        extra = sorted(set(tr) - {"master_scale", "grad_bits", "adapter_bits", "batches"})
        if extra:
            raise ConfigError(f"train: unknown keys {extra}")
        try:
            steps = d["steps"]
        except KeyError:
            raise ConfigError("model: missing key 'steps'") from None
        return cls(fwd, steps, OptimSpec.from_dict(d.get("optim", {})),
                   int(tr.get("master_scale", MASTER_SCALE)),
                   int(tr.get("grad_bits", GRAD_BITS)),
                   int(tr.get("adapter_bits", ADAPTER_BITS)), int(tr.get("batches", 1)),
                   d.get("start_step", 0))


# -- names ---------------------------------------------------------------------------------


def lora_keys(spec: TrainSpec) -> list[tuple[int, str, str]]:
    """(layer, target, "A" | "B") of every adapter tensor, in a fixed order."""
    lo = spec.fwd.lora
    return [(i, t, ab) for i in range(spec.fwd.arch.num_layers) for t in TARGETS
            if t in lo.targets for ab in ("A", "B")]


def peft_tensor_name(i: int, t: str, ab: str) -> str:
    """peft's name of an adapter tensor (``base_model.model.model.layers.0.self_attn.
    q_proj.lora_A.weight``)."""
    return f"{PEFT_PREFIX}{i}.{TARGETS[t]}.lora_{ab}.weight"


def _opt_name(step: int, key) -> str:
    i, t, ab = key
    return f"s{step}/opt/l{i}.{t}.{ab}"


def ids_name(spec: TrainSpec, step: int) -> str:
    return "ids" if spec.batches == 1 else f"s{step}/ids"


def labels_name(spec: TrainSpec, step: int) -> str:
    """The committed (unshifted) labels step ``step`` reads."""
    return "labels" if spec.batches == 1 else f"s{step}/labels"


def _state_in_name(key, x: str) -> str:
    i, t, ab = key
    return f"opt0/l{i}.{t}.{ab}/{x}"


def statement_tensors(public: Mapping[str, Any]) -> dict[str, list[str]]:
    """The committed tensors the statement is about: ``frozen`` (base weights, what
    ``zklora commit-model`` commits), ``data`` (token ids and labels), ``adapters_in`` (initial
    adapters at the master scale), ``state_in`` (initial m̂, v̂ of a resumed Adam run,
    ``start_step`` > 0; empty otherwise), ``adapters_out`` / ``state_out`` (θ, m̂, v̂
    after the last step; ``state_out`` is empty for SGD), ``after_step`` (θ, m̂, v̂ after
    every step), ``losses`` (public loss tensors).  ``state_in[j]`` is ``state_out[j]``
    of the proof before (`LlamaTrain.chain_link`)."""
    spec = TrainSpec.from_public(public)
    keys = lora_keys(spec)
    last = spec.steps - 1
    out = {"frozen": frozen_tensors(public),
           "data": sorted({n for t in range(spec.steps)
                           for n in (ids_name(spec, t), labels_name(spec, t))}),
           "adapters_in": [f"l{i}.{t}.{ab}" for i, t, ab in keys],
           "state_in": [], "adapters_out": [f"{_opt_name(last, k)}/theta" for k in keys],
           "state_out": [], "losses": [f"s{t}/loss/loss" for t in range(spec.steps)]}
    state = () if spec.optim.optimizer == "sgd" else ("m", "v")
    if state:
        out["state_out"] = [f"{_opt_name(last, k)}/{x}" for k in keys for x in state]
    if spec.resumed:
        out["state_in"] = [_state_in_name(k, x) for k in keys for x in state]
    # adapters and optimiser state after every step (the chain's links)
    out["after_step"] = [f"{_opt_name(t, k)}/{x}" for t in range(spec.steps) for k in keys
                         for x in ("theta",) + state]
    return out


def frozen_tensors(public: Mapping[str, Any]) -> list[str]:
    """Names of the base-model tensors (everything frozen from the checkpoint)."""
    fwd = ForwardSpec.from_public({k: v for k, v in public.items()
                                   if k in ("arch", "lora", "quant", "batch", "seq",
                                            "act_bits")})
    return llama.frozen_names(fwd)


# -- the graph -------------------------------------------------------------------------------


class _TrainBuilder:
    """Graph construction for one `TrainSpec` (module doc)."""

    def __init__(self, spec: TrainSpec):
        self.spec = spec
        f = spec.fwd
        self.g = Graph()
        q = f.quant
        self.s, self.w, self.sg, self.st = q.act_scale, q.weight_scale, q.grad_scale, \
            spec.master_scale
        self.grad = Bound.bits(self.sg + spec.grad_bits)
        self.theta = Bound.bits(self.st + spec.adapter_bits)
        self.c, self.k = scaling_fixed(f.lora.scaling)
        self.targets = set(f.lora.targets)
        self.pad = f.padding
        self.first = min((i, STAGE[t]) for i in range(f.arch.num_layers) for t in self.targets)

    # -- declarations ---------------------------------------------------------------------

    def inputs(self) -> None:
        f, g = self.spec.fwd, self.g
        a = f.arch
        for name, shape in tensor_names(f).items():
            if name in ("ids", "labels"):
                continue
            bound = self.theta.as_tuple() if name.endswith((".A", ".B")) else None
            g.tensor(name, shape, "committed", bound)
        for n in sorted({ids_name(self.spec, t) for t in range(self.spec.steps)}):
            g.tensor(n, (f.tokens,), "committed", (0, a.vocab_size - 1))
        for n in sorted({labels_name(self.spec, t) for t in range(self.spec.steps)}):
            g.tensor(n, (f.tokens,), "committed")
        cos, sin = builder("rope.tables")(f.seq, a.head_dim, a.rope_theta, self.s,
                                          rope_scaling=a.rope_scaling)
        g.tensor("rope.cos", cos.shape, "public", value=cos)
        g.tensor("rope.sin", sin.shape, "public", value=sin)

    def committed(self, name: str, X: str, shift: int, bound: Bound, *,
                  derived: bool = False) -> str:
        """``name`` = rescale(X, shift), committed with ``bound`` (``derived``: the
        image of X's proven bound, `add_rescale`)."""
        return add_rescale(self.g, name, X, shift, bound, derived=derived)

    def virtual(self, name: str, shape, op: str, inputs: Sequence[str], **params) -> str:
        self.g.tensor(name, shape, "virtual")
        self.g.op(op, name, list(inputs), [name], **params)
        return name

    def shape(self, t: str) -> tuple[int, ...]:
        return tuple(self.g.tensors[t].shape)

    # -- backward pieces -----------------------------------------------------------------

    def linear_backward(self, pre: str, i: int, group: Sequence[tuple[str, str]], X: str,
                        xa: Mapping[str, str], adapters: Mapping, need_dx: bool,
                        grads: dict) -> str | None:
        """Backward of the projections ``group`` = [(target, dY)] that read the same X:
        LoRA grads into ``grads``; returns dX (committed, scale s_g) if ``need_dx``."""
        terms, coeffs = [], []
        n = self.shape(X)[0]
        for t, dY in group:
            # the forward masked the projection's padded outputs: so does the backward
            dY = add_pad_mask(self.g, self.pad, f"{pre}l{i}.{t}.bwd/pad", dY,
                              LINEAR_KINDS[t][0])
            lora = t in self.targets
            W = f"l{i}.{t}.W"
            if need_dx:
                terms.append(self.virtual(f"{pre}l{i}.{t}.bwd/dYW", (n, self.shape(W)[1]),
                                          "matmul", [dY, W]))
                coeffs.append(1 << self.k)
            if not lora:
                continue
            A, B = adapters[(i, t)]
            r = self.shape(A)[0]
            nm = f"{pre}l{i}.{t}.bwd"
            gb = self.virtual(f"{nm}/dYB", (n, r), "matmul", [dY, B])
            G = self.committed(f"{nm}/G", gb, self.w, self.grad)
            da = self.virtual(f"{nm}/GX", self.shape(A), "matmul", [G, X], transpose_a=True)
            db = self.virtual(f"{nm}/dYXA", self.shape(B), "matmul", [dY, xa[t]],
                              transpose_a=True)
            if self.c != 1:
                da = self.virtual(f"{nm}/cGX", self.shape(A), "scale", [da], c=self.c)
                db = self.virtual(f"{nm}/cdYXA", self.shape(B), "scale", [db], c=self.c)
            grads[(i, t, "A")] = self.committed(f"{nm}/dA", da, self.s + self.k, self.grad)
            grads[(i, t, "B")] = self.committed(f"{nm}/dB", db, self.s + self.k, self.grad)
            if need_dx:
                terms.append(self.virtual(f"{nm}/GA", self.shape(X), "matmul", [G, A]))
                coeffs.append(self.c)
        if not need_dx:
            return None
        name = f"{pre}l{i}.{group[0][0]}.bwd/dX"
        z = self.virtual(f"{name}/Z", self.shape(X), "lincomb", terms, coeffs=coeffs)
        return self.committed(name, z, self.w + self.k, self.grad)

    def rope_backward(self, name: str, dX: str) -> str:
        y = self.virtual(f"{name}/Y2", self.shape(dX), "rope", [dX, "rope.cos", "rope.sin"],
                         transpose=True)
        return self.committed(name, y, self.s, self.grad)

    def add(self, name: str, a: str, b: str) -> str:
        return self.virtual(name, self.shape(a), "add", [a, b])

    def backward(self, b: _Builder, pre: str, adapters: Mapping) -> dict:
        """Gradients of every adapter tensor of one step (module doc)."""
        g, a = self.g, self.spec.fwd.arch
        grads: dict = {}
        with g.segment(f"{pre}loss"):
            dh = self.head_backward(b, pre)
        for i in reversed(range(self.first[0], a.num_layers)):
            with g.segment(f"{pre}l{i}.bwd"):
                dh = self.layer_backward(b, pre, adapters, i, dh, grads)
            if dh is None:
                break
        return grads

    def head_backward(self, b: _Builder, pre: str) -> str:
        """The loss's, the head's and the final norm's backward: the gradient of the last
        layer's output."""
        add_cross_entropy_backward = builder("cross_entropy_backward")
        cross_entropy_saved = builder("cross_entropy_backward.saved")
        add_rmsnorm_backward = builder("rmsnorm_backward")
        sv, g, G = b.saved, self.g, self.grad
        dZ = add_cross_entropy_backward(g, f"{pre}loss.bwd", *cross_entropy_saved(sv["ce"]),
                                        scale=self.s, grad_scale=self.sg)
        head = b.lm_head()
        dxf = self.committed(f"{pre}logits.bwd/dX",
                             self.virtual(f"{pre}logits.bwd/dZW", self.shape(sv["xf"]),
                                          "matmul", [dZ, head]), self.w, G)
        return add_rmsnorm_backward(g, f"{pre}final.norm.bwd", sv["final.norm"], dxf,
                                    out_bound=G)

    def layer_backward(self, b: _Builder, pre: str, adapters: Mapping, i: int, dh: str,
                       grads: dict) -> str | None:
        """Layer i's backward from dh, the gradient of its output: its adapters'
        gradients into ``grads``; returns the gradient of its input, None where no
        earlier adapter needs it."""
        add_attention_backward = builder("attention_backward")
        add_rmsnorm_backward = builder("rmsnorm_backward")
        add_swiglu_backward = builder("swiglu_backward")
        sv, g, G = b.saved, self.g, self.grad
        need = {st: self.first < (i, st) for st in range(4)}
        xa = {t: sv[(i, t, "xa")] for t in self.targets if (i, t, "xa") in sv}
        dm = self.linear_backward(pre, i, [("down", dh)], sv[(i, "down", "x")], xa,
                                  adapters, need[3], grads)
        if dm is None:
            return None
        dG, dU = add_swiglu_backward(g, f"{pre}l{i}.mlp.bwd", sv[(i, "mlp")], dm,
                                     dg_bound=G, du_bound=G)
        mlp = [(t, d) for t, d in (("gate", dG), ("up", dU))
               if need[2] or t in self.targets]
        for t, d in (("gate", dG), ("up", dU)):
            if not (need[2] or t in self.targets):
                g.discard(d)
        dx2 = self.linear_backward(pre, i, mlp, sv[(i, "gate", "x")], xa, adapters,
                                   need[2], grads)
        if dx2 is None:
            return None
        dln2 = add_rmsnorm_backward(g, f"{pre}l{i}.ln2.bwd", sv[(i, "ln2")], dx2,
                                    out_bound=G)
        dh1 = self.add(f"{pre}l{i}.res1.bwd", dh, dln2)
        do = self.linear_backward(pre, i, [("o", dh1)], sv[(i, "o", "x")], xa, adapters,
                                  need[1], grads)
        if do is None:
            return None
        if self.pad.group_p != self.pad.group:
            do = add_pad_mask(g, self.pad, f"{pre}l{i}.attn.bwd/pad", do, "q")
        dO = b.heads(f"{pre}l{i}.o.bwd/heads", do, self.pad.heads)
        P = f"{sv[(i, 'attn')]}/softmax/P"
        dQ, dK, dV = add_attention_backward(
            g, f"{pre}l{i}.attn.bwd", sv[(i, "q")], sv[(i, "k")], sv[(i, "v")], P, dO,
            scale=self.s, bounds={r: G.as_tuple() for r in ("dP", "dQ", "dK", "dV")})
        # a projection's gradient is needed for its adapter or for dX (earlier
        # adapters); an unneeded branch (e.g. dK in the first adapted layer with no
        # adapter on k) is discarded, since the graph must not hold unproven ops
        want = {t: need[0] or t in self.targets for t in ("q", "k", "v")}
        group = []
        if want["q"]:
            group.append(("q", b.merge_heads(f"{pre}l{i}.q.bwd/merge",
                                             self.rope_backward(f"{pre}l{i}.q.bwd/rope",
                                                                dQ))))
        if want["k"]:
            group.append(("k", b.merge_heads(f"{pre}l{i}.k.bwd/merge",
                                             self.rope_backward(f"{pre}l{i}.k.bwd/rope",
                                                                dK))))
        if want["v"]:
            group.append(("v", b.merge_heads(f"{pre}l{i}.v.bwd/merge", dV)))
        for t, d in (("q", dQ), ("k", dK), ("v", dV)):
            if not want[t]:
                g.discard(d)
        dx1 = self.linear_backward(pre, i, group, sv[(i, "q", "x")], xa, adapters,
                                   need[0], grads)
        if dx1 is None:
            return None
        dln1 = add_rmsnorm_backward(g, f"{pre}l{i}.ln1.bwd", sv[(i, "ln1")], dx1,
                                    out_bound=G)
        return self.add(f"{pre}l{i}.res0.bwd", dh1, dln1)

    def optimiser(self, step: int, theta: dict, grads: dict, state: dict) -> tuple[dict, dict]:
        add_adam, add_sgd = builder("adam"), builder("sgd")
        o = self.spec.optim
        last = step == self.spec.steps - 1
        new_theta, new_state = {}, {}
        for key in lora_keys(self.spec):
            name = _opt_name(step, key)
            # the first step range-checks the graph inputs (θ, and a resumed m̂, v̂)
            check = [] if step else ["theta", "m", "v"] if self.spec.resumed else ["theta"]
            common = dict(lr=o.lr, weight_decay=o.weight_decay, theta_scale=self.st,
                          grad_scale=self.sg, theta_bound=self.theta.as_tuple(),
                          check_inputs=check, as_outputs=last)
            if o.optimizer == "sgd":
                new_theta[key] = add_sgd(self.g, name, theta[key], grads[key], **common)
                continue
            m, v = state[key]
            th, m2, v2 = add_adam(self.g, name, theta[key], grads[key], m, v,
                                  step=self.spec.start_step + step + 1,
                                  betas=o.betas, eps=o.eps,
                                  decoupled=o.optimizer == "adamw", **common)
            new_theta[key], new_state[key] = th, (m2, v2)
        return new_theta, new_state

    def initial_state(self) -> dict:
        """(m̂, v̂) per adapter tensor before the first step: the public zero tensors for
        fresh training (at step 1 Adam's weight on them is 0), committed inputs
        ``opt0/…/m|v`` (``state_in``) when resuming at ``start_step`` > 0."""
        adam_state_bounds = builder("adam.state_bounds")
        if self.spec.optim.optimizer == "sgd":
            return {}
        o = self.spec.optim
        mb, vb = adam_state_bounds(self.grad.as_tuple(), theta_bound=self.theta.as_tuple(),
                                   weight_decay=o.weight_decay,
                                   decoupled=o.optimizer == "adamw",
                                   theta_scale=self.st, grad_scale=self.sg)
        out = {}
        for key in lora_keys(self.spec):
            i, t, ab = key
            shape = self.shape(f"l{i}.{t}.{ab}")
            if self.spec.resumed:
                out[key] = (self.g.tensor(_state_in_name(key, "m"), shape, "committed", mb),
                            self.g.tensor(_state_in_name(key, "v"), shape, "committed", vb))
                continue
            z = torch.zeros(shape, dtype=torch.int64)
            out[key] = (self.g.tensor(f"opt0/l{i}.{t}.{ab}/m", shape, "public", mb, value=z),
                        self.g.tensor(f"opt0/l{i}.{t}.{ab}/v", shape, "public", vb, value=z))
        return out

    def build(self, losses: Sequence[int] | None,
              num_tokens: Sequence[int] | None = None) -> Graph:
        """The graph; ``num_tokens``: counted tokens per batch (default B·(T − 1))."""
        spec = self.spec
        self.inputs()
        theta = {k: f"l{k[0]}.{k[1]}.{k[2]}" for k in lora_keys(spec)}
        state = self.initial_state()
        self.builders = []
        shift = self.st - self.w
        wb = self.theta.rescaled(shift) if shift else self.theta
        for step in range(spec.steps):
            pre = f"s{step}/"
            # the forward copies at the weight scale: wb is the image of θ's bound, which
            # the proof proves (the optimiser's range checks on θ: the input at step 0,
            # its output after), so the copy's check may be one-sided (soundness.md §3.1)
            fwd_theta = {k: (self.committed(f"{pre}fwd/l{k[0]}.{k[1]}.{k[2]}", th, shift, wb,
                                            derived=True)
                             if shift else th) for k, th in theta.items()}
            adapters = {(i, t): (fwd_theta[(i, t, "A")], fwd_theta[(i, t, "B")])
                        for i, t, ab in fwd_theta if ab == "A"}
            b = _Builder(spec.fwd, g=self.g, prefix=pre, adapters=adapters,
                         ids=ids_name(spec, step))
            first = len(self.g.nodes)
            b.build(None if losses is None else int(losses[step]),
                    num_tokens=None if num_tokens is None else
                    int(num_tokens[step if spec.batches > 1 else 0]),
                    labels=labels_name(spec, step))
            self.forward_segments(pre, first)
            self.builders.append(b)
            grads = self.backward(b, pre, adapters)
            with self.g.segment(f"{pre}opt"):
                theta, state = self.optimiser(step, theta, grads, state)
        # the residual stream, its gradient and the forward tensors a layer's backward
        # reads (V's heads) cross segments: committed boundary tensors
        for t in segmentlib.crossing(self.g):
            self.g.commit_boundary(t)
        # rescales whose Y would be range-checked with limbs: Y virtual, defined by its
        # committed limbs (one committed tensor fewer each; `ops/rescale.py`)
        builder("rescale.limb_outputs")(self.g)
        self.final = theta, state
        return self.g

    def forward_segments(self, pre: str, first: int) -> None:
        """Segments of one step's forward (built by `llama._Builder`, which declares
        none): the adapters' rescales and the embedding, each layer, and the final norm,
        head and loss (``{pre}loss``, which the loss's backward continues)."""
        layer = re.compile(re.escape(pre) + r"l(\d+)\.")
        out = {n.name: f"{pre}embed" for n in self.g.nodes[:first]   # the adapters'
               if n.name not in self.g.node_segments}                # forward rescales
        for n in self.g.nodes[first:]:
            m = layer.match(n.name)
            out[n.name] = f"{pre}l{m.group(1)}.fwd" if m else \
                f"{pre}embed" if n.name.startswith(f"{pre}embed/") else f"{pre}loss"
        self.g.assign_segments(out)


def build_train_graph(spec: TrainSpec, losses: Sequence[int] | None = None,
                      num_tokens: Sequence[int] | None = None) -> Graph:
    """The training graph; ``losses`` are the public per-step losses (None: placeholders
    while the prover computes them), ``num_tokens`` the counted tokens of each batch
    (``train.batches`` values; None: B·(T − 1) each)."""
    if losses is not None and len(losses) != spec.steps:
        raise ConfigError(f"model.losses: {len(losses)} values for {spec.steps} steps")
    if num_tokens is not None and len(num_tokens) != spec.batches:
        raise ConfigError(f"model.num_tokens: {len(num_tokens)} values for "
                          f"{spec.batches} batches")
    return _TrainBuilder(spec).build(losses, num_tokens)


def with_losses(g: Graph, losses: Sequence[int]) -> Graph:
    """``g`` (`build_train_graph` with placeholder losses) made the graph of the public
    per-step ``losses``, in place: the losses enter the graph only as the values of the
    public tensors ``s{t}/loss/loss`` (`add_cross_entropy`), so this is the graph
    `build_train_graph` would build with them (tests/test_s33h5_graph_reuse.py)."""
    for t, loss in enumerate(losses):
        name = f"s{t}/loss/loss"
        g.publics[name] = torch.tensor([int(loss)], dtype=torch.int64).reshape(
            g.tensors[name].shape)
    return g


def batch_num_tokens(spec: TrainSpec, inputs: Mapping[str, torch.Tensor]) -> list[int]:
    """Counted tokens of each committed batch of ``inputs`` (`train_inputs`)."""
    B, T = spec.fwd.batch, spec.fwd.seq
    return [count_tokens(inputs[labels_name(spec, t)].reshape(B, T))
            if labels_name(spec, t) in inputs else default_num_tokens(B, T)
            for t in range(spec.batches)]


# -- witness ------------------------------------------------------------------------------


def train_inputs(spec: TrainSpec, ckpt, adapter: Adapter,
                 batches: Sequence[Batch | torch.Tensor],
                 state: TrainState | None = None) -> dict[str, torch.Tensor]:
    """Integer values of every committed input: frozen weights (as the forward), token
    ids and labels (one pair, or one per step: `data.Batch`, or ids alone with labels =
    ids), adapters at the master scale — from ``state``
    (exact integers) when resuming, else ``adapter`` quantised — and a resumed run's
    initial m̂, v̂ (``state``, required iff ``spec.start_step`` > 0)."""
    if (state is None) != (spec.start_step == 0):
        raise ConfigError("resuming needs the previous run's state and start_step > 0 "
                          f"(start_step = {spec.start_step}, state "
                          f"{'missing' if state is None else 'given'})")
    if state is not None:
        state.check(spec)
    if spec.fwd.lora is not None and adapter.spec != spec.fwd.lora:
        raise ConfigError("model: the adapter's LoRA config differs from the spec")
    if len(batches) != spec.batches:
        raise ConfigError(f"data: {len(batches)} batches for train.batches = {spec.batches}")
    inputs = quantize_inputs(spec.fwd, ckpt, adapter, batches[0])
    del inputs["ids"], inputs["labels"]
    vocab = spec.fwd.arch.vocab_size
    for t in range(spec.batches):
        data = check_batch(batches[t], (spec.fwd.batch, spec.fwd.seq), vocab,
                           f"data: batch {t}")
        inputs[ids_name(spec, t)] = data.input_ids.reshape(-1)
        inputs[labels_name(spec, t)] = data.labels.reshape(-1)
    pad = spec.fwd.padding
    for key in lora_keys(spec):
        i, t, ab = key
        kinds = pad.tensor_kinds(f"l{i}.{t}.{ab}")
        if state is not None:
            inputs[f"l{i}.{t}.{ab}"] = pad.pad(state.theta[key].clone(), kinds)
            if spec.resumed:
                inputs[_state_in_name(key, "m")] = pad.pad(state.m[key].clone(), kinds)
                inputs[_state_in_name(key, "v")] = pad.pad(state.v[key].clone(), kinds)
            continue
        pair = adapter.pairs[(i, t)]
        inputs[f"l{i}.{t}.{ab}"] = pad.pad(
            to_fixed(getattr(pair, ab), spec.master_scale,
                     name=f"layer {i} {TARGETS[t]}.lora_{ab}"), kinds)
    return inputs


# -- the optimiser state between linked proofs -------------------------------------------

#: written next to the peft adapter by ``zklora prove --adapter-out`` and read by
#: ``--resume``: the exact integers the next linked proof starts from
STATE_FILE = "optimizer_state.safetensors"
STATE_FORMAT = "zklora-llama-train-state/1"


def _peft_name(key) -> str:
    return peft_tensor_name(*key)


@attrs.frozen
class TrainState:
    """The integer training state after ``step`` optimiser steps: θ (master scale), and
    Adam's bias-corrected m̂ (scale s_g), v̂ (2·s_g) per `lora_keys` key (empty for SGD)."""

    step: int
    optimizer: str
    betas: tuple[float, float]
    master_scale: int
    grad_scale: int
    theta: dict
    m: dict = attrs.field(factory=dict)
    v: dict = attrs.field(factory=dict)

    def check(self, spec: TrainSpec) -> None:
        """ConfigError unless a run of ``spec`` can start from this state."""
        o = spec.optim
        if self.step != spec.start_step:
            raise ConfigError(f"resume: the state is after step {self.step}, the run starts "
                              f"at step {spec.start_step}")
        want = (o.optimizer, spec.master_scale, spec.grad_scale)
        have = (self.optimizer, self.master_scale, self.grad_scale)
        if want != have:
            raise ConfigError(f"resume: the state was written for (optimizer, master_scale, "
                              f"grad_scale) = {have}, the run uses {want}")
        if o.optimizer != "sgd" and tuple(self.betas) != tuple(o.betas):
            raise ConfigError(f"resume: the state's Adam betas {list(self.betas)} differ from "
                              f"the run's {list(o.betas)}")
        parts = [("theta", self.theta)] + ([("m", self.m), ("v", self.v)]
                                           if o.optimizer != "sgd" else [])
        keys = lora_keys(spec)
        r = spec.fwd.lora.r
        for what, d in parts:
            if set(d) != set(keys):
                raise ConfigError(f"resume: the state's {what} tensors do not match the "
                                  "adapter's LoRA targets and layers")
            for key in keys:
                out_f, in_f = spec.fwd.arch.linear_shape(key[1])
                want = (r, in_f) if key[2] == "A" else (out_f, r)
                if tuple(d[key].shape) != want:
                    raise ConfigError(f"resume: {what} of {_peft_name(key)} has shape "
                                      f"{tuple(d[key].shape)}, expected {want}")

    @classmethod
    def from_values(cls, spec: TrainSpec, values: Mapping[str, torch.Tensor]) -> TrainState:
        """The state after the last step of a run of ``spec`` (its graph's values)."""
        last = spec.steps - 1
        adam = spec.optim.optimizer != "sgd"
        keys = lora_keys(spec)

        pad = spec.fwd.padding

        def get(x):  # the true entries (the padded ones stay zero, `padding`)
            return {k: pad.unpad(values[f"{_opt_name(last, k)}/{x}"].to(torch.int64),
                                 pad.tensor_kinds("l{}.{}.{}".format(*k))).clone()
                    for k in keys}

        return cls(spec.start_step + spec.steps, spec.optim.optimizer,
                   tuple(spec.optim.betas), spec.master_scale, spec.grad_scale, get("theta"),
                   get("m") if adam else {}, get("v") if adam else {})

    def save(self, directory) -> Path:
        """Write `STATE_FILE` into ``directory`` (atomically: temporary file + rename)."""
        import os

        from safetensors.torch import save_file

        d = Path(directory)
        tensors = {}
        for what, dd in (("theta", self.theta), ("m", self.m), ("v", self.v)):
            for k, val in dd.items():
                tensors[f"{what}.{_peft_name(k)}"] = val.to(torch.int64).contiguous()
        meta = {"format": STATE_FORMAT, "step": str(self.step), "optimizer": self.optimizer,
                "betas": json.dumps(list(self.betas)), "master_scale": str(self.master_scale),
                "grad_scale": str(self.grad_scale)}
        tmp = d / f".{STATE_FILE}.tmp"
        try:
            save_file(tensors, str(tmp), metadata=meta)
            os.replace(tmp, d / STATE_FILE)
        finally:
            tmp.unlink(missing_ok=True)
        return d / STATE_FILE

    @classmethod
    def load(cls, directory) -> TrainState:
        """Read `STATE_FILE` from ``directory``; ConfigError naming what is wrong."""
        from safetensors import SafetensorError
        from safetensors.torch import safe_open

        path = Path(directory) / STATE_FILE
        if not path.is_file():
            raise ConfigError(f"resume: {path} not found (written by `zklora prove "
                              "--adapter-out` of the previous run)")
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                raw = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        except (OSError, SafetensorError, ValueError) as e:
            raise ConfigError(f"resume: cannot read {path}: {e}") from None
        if meta.get("format") != STATE_FORMAT:
            raise ConfigError(f"resume: {path} is not a zkLoRA training state "
                              f"(format {meta.get('format')!r})")
        try:
            betas = tuple(float(b) for b in json.loads(meta["betas"]))
            step, ms, gs = int(meta["step"]), int(meta["master_scale"]), int(meta["grad_scale"])
            optimizer = meta["optimizer"]
        except (KeyError, ValueError, TypeError):
            raise ConfigError(f"resume: {path} has malformed metadata") from None
        parts: dict[str, dict] = {"theta": {}, "m": {}, "v": {}}
        short = {v: k for k, v in TARGETS.items()}
        pat = re.compile(r"(theta|m|v)\." + re.escape(PEFT_PREFIX)
                         + r"(\d+)\.(.+)\.lora_([AB])\.weight")
        for name, val in raw.items():
            mt = pat.fullmatch(name)
            if mt is None or mt[3] not in short or val.dtype != torch.int64:
                raise ConfigError(f"resume: {path}: unexpected tensor {name} ({val.dtype})")
            parts[mt[1]][(int(mt[2]), short[mt[3]], mt[4])] = val
        if step < 1:
            raise ConfigError(f"resume: {path}: step {step} must be ≥ 1")
        return cls(step, optimizer, betas, ms, gs, parts["theta"], parts["m"], parts["v"])


@attrs.frozen
class TrainResult:
    """The integer run: per-step losses and the final adapter / state values."""

    losses: list[int]
    values: dict

    def loss_floats(self, scale: int) -> list[float]:
        return [v / float(1 << scale) for v in self.losses]


def integer_train(spec: TrainSpec, inputs: Mapping[str, torch.Tensor],
                  registry=None, keep: Collection[str] | None = None,
                  traced: list | None = None, final_graph: bool = True,
                  placeholder: list | None = None
                  ) -> tuple[Graph | None, TrainResult]:
    """Run the graph's integer forward (placeholder losses), read the losses, and return
    the final graph (with the real losses) and every value — or, given ``keep``, only
    the values of those tensors (and the losses): the forward then drops each
    segment's intermediate values once the segment ends (`graph.forward` ``drop``), so
    the run holds about what a proof's phase 1 holds, not the whole step.

    ``traced`` (a list, with ``keep``): receives the inputs as a `graph.Traced` that
    carries the run's whole phase-1 witness, which the proof's `graph.forward` of the
    final graph then takes over instead of computing it again (the losses are outputs
    of the forward, so both graphs run the same ops on the same inputs).
    ``final_graph=False``: the final graph is not built (None returned).
    ``placeholder`` (a list): receives the graph the forward ran (placeholder losses),
    which `with_losses` turns into the final graph without building it again."""
    from zklora.zkcore.plugins import registry as default_registry
    reg = registry or default_registry()
    nt = batch_num_tokens(spec, inputs)
    g0 = build_train_graph(spec, None, nt)
    loss_names = [f"s{t}/loss/loss" for t in range(spec.steps)]
    drop = keep is not None and bool(g0.node_segments) and all(
        g0.tensors[n].kind != "virtual" for n in list(keep) + loss_names if n in g0.tensors)
    if traced is not None and keep is not None and drop == bool(g0.node_segments):
        held, values = graphlib.Traced.run(g0, inputs, reg, drop=drop)
        traced.append(held)
    else:
        values = graphlib.forward(g0, inputs, reg, drop=drop)
    losses = [int(values[n].reshape(-1)[0]) for n in loss_names]
    g = build_train_graph(spec, losses, nt) if final_graph else None
    if placeholder is not None:
        placeholder.append(g0)
    if keep is not None:
        values = {n: values[n] for n in dict.fromkeys(list(keep) + loss_names)
                  if n in values}
    for n, loss in zip(loss_names, losses):
        values[n] = torch.tensor([loss], dtype=torch.int64)   # the final graph's public
    return g, TrainResult(losses, values)


def adapter_from_values(spec: TrainSpec, values: Mapping[str, torch.Tensor],
                        names: Sequence[str] | None = None) -> Adapter:
    """The adapter held by the tensors ``names`` (default: after the last step) as float32
    tensors in peft's layout."""
    keys = lora_keys(spec)
    if names is None:
        names = statement_tensors(spec.to_public())["adapters_out"]
    pad = spec.fwd.padding
    flat = {k: pad.unpad(values[n], pad.tensor_kinds("l{}.{}.{}".format(*k))).to(torch.float64)
            / float(1 << spec.master_scale) for k, n in zip(keys, names)}
    pairs = {(i, t): LoraPair(flat[(i, t, "A")].float(), flat[(i, t, "B")].float())
             for i, t, ab in keys if ab == "A"}
    return Adapter(spec.fwd.lora, pairs)


# -- the model plugin -------------------------------------------------------------------------

#: most training steps one statement may hold (the verifier's limit)
MAX_STATEMENT_STEPS = 1 << 10


def llama_adapter_elements(spec: TrainSpec) -> int:
    """Elements of one copy of the adapters (every LoRA A and B)."""
    a, lo = spec.fwd.arch, spec.fwd.lora
    total = 0
    for t in lo.targets:
        o, n = a.linear_shape(t) if t in TARGETS else (0, 0)
        total += lo.r * (o + n)
    return a.num_layers * total


_PUBLIC_KEYS = {"arch", "lora", "quant", "batch", "seq", "act_bits", "steps", "start_step",
                "optim", "train", "losses", "num_tokens"}
_TRAIN_KEYS = {"steps", "optimizer", "lr", "betas", "eps", "weight_decay", "master_scale",
               "grad_bits", "adapter_bits", "resume", "batch_size"}


def _optim_from_params(params: Mapping[str, Any]) -> OptimSpec:
    d = {k: params[k] for k in ("optimizer", "lr", "betas", "eps", "weight_decay")
         if k in params}
    if isinstance(params.get("optim"), Mapping):
        d = {**params["optim"], **d}
    return OptimSpec.from_dict(d)


def load_private(params: Mapping[str, Any]):
    """(spec, checkpoint, adapter, batches) from prover-side parameters."""
    return load_private_state(params)[:4]


def load_private_state(params: Mapping[str, Any]):
    """(spec, checkpoint, adapter, batches, state) from prover-side parameters; ``state``
    is the `TrainState` read from the ``resume`` directory (None for a fresh run), and
    ``spec.start_step`` its step."""
    steps = params.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ConfigError(f"steps must be an integer ≥ 1, got {steps!r}")
    if steps < 1:
        raise ConfigError(f"steps must be an integer ≥ 1, got {steps}")
    fwd_params = {k: v for k, v in params.items() if k not in _TRAIN_KEYS and k != "optim"}
    state = None
    if params.get("resume"):
        if fwd_params.get("adapter"):
            raise ConfigError("model.resume holds the adapter to continue from; do not also "
                              "give model.adapter")
        state = TrainState.load(params["resume"])
        fwd_params["adapter"] = str(params["resume"])
    per_step = params.get("batch_size")
    data = fwd_params.get("data")
    tok = tokenizer_dir(fwd_params.get("model", "tiny"))
    if per_step is not None:
        if isinstance(per_step, bool) or not isinstance(per_step, int) or per_step < 1:
            raise ConfigError(f"batch_size must be an integer ≥ 1, got {per_step!r}")
        if not data:
            raise ConfigError("batch_size splits a data file into per-step batches: give "
                              "data too")
        if "batch" in fwd_params:
            raise ConfigError("give batch_size (rows per step) or model.batch, not both")
    elif data and "batch" in fwd_params and steps > 1:
        # steps × batch rows: one batch per step (as batch_size = batch)
        if len(read_rows(data, tokenizer=tok)) == int(fwd_params["batch"]) * steps:
            per_step = int(fwd_params.pop("batch"))
    fspec, ckpt, adapter, ids = _load_private(fwd_params)
    if adapter is None:
        raise ConfigError("model.adapter: training needs a LoRA adapter (a peft directory)")
    if per_step:
        seq = fwd_params.get("seq")
        batches = load_batches(data, per_step, vocab=fspec.arch.vocab_size, tokenizer=tok,
                               seq=None if seq is None else int(seq))
        if len(batches) not in (1, steps):
            raise ConfigError(f"data: {len(read_rows(data, tokenizer=tok))} rows in batches "
                              f"of {per_step} make {len(batches)} batches, but steps = "
                              f"{steps}: give steps × batch_size rows (one batch per step) "
                              f"or at most batch_size rows (the same batch every step)")
        B, T = batches[0].shape
        fspec = attrs.evolve(fspec, batch=B, seq=T)
    else:
        batches = [ids]
    spec = TrainSpec(fspec, steps, _optim_from_params(params),
                     int(params.get("master_scale", MASTER_SCALE)),
                     int(params.get("grad_bits", GRAD_BITS)),
                     int(params.get("adapter_bits", ADAPTER_BITS)), len(batches),
                     state.step if state is not None else 0)
    return spec, ckpt, adapter, batches, state


def _train_num_tokens(public: Mapping[str, Any], spec: TrainSpec) -> list[int]:
    """The statement's counted tokens per batch: ``num_tokens`` (a list of
    ``train.batches`` integers; absent when each is B·(T − 1))."""
    B, T = spec.fwd.batch, spec.fwd.seq
    nt = public.get("num_tokens", [default_num_tokens(B, T)] * spec.batches)
    if not isinstance(nt, list) or len(nt) != spec.batches:
        raise ConfigError(f"model.num_tokens must be a list of {spec.batches} integers")
    return [_public_num_tokens({"num_tokens": n}, B, T) for n in nt]


#: `LlamaTrain.witness` caches the inputs it computes again for a second proof of the
#: same parameters (a later call takes them as they are).  They then stay resident for
#: that whole proof, which otherwise spills and drops them: 84m from the prover cache, a
#: second proof in one process (phsys run 1) peaks at 1.64 GiB with them cached, 1.20
#: without (as a first proof: 1.10), but its lookups phase then faults the freed memory
#: again (sys 1.13 -> 1.74 s in one pair; s40h4, docs/perf/session40.md).  A prover-only
#: knob: the same integers either way
CACHE_RECOMPUTED_INPUTS = True


class LlamaTrain(Model):
    """T LoRA training steps of a LLaMA (module doc).

    Prover-side parameters: those of the ``llama`` model (``model``, ``adapter``,
    ``data``, ``batch``, ``seq``, ``seed``, ``quant``, ``act_bits``, ``kv_heads``,
    ``init``) plus ``steps``, ``optimizer``, ``lr``, ``betas``, ``eps``,
    ``weight_decay`` (or an ``optim`` table), ``master_scale``, ``grad_bits``,
    ``adapter_bits``, ``batch_size`` (split the data's rows into per-step batches), and
    ``resume`` (a directory written by ``--adapter-out`` of the
    previous run: continue from its exact θ, m̂, v̂ and step index).  Public parameters:
    the forward spec's, ``steps``, ``start_step`` (only when > 0), ``optim``, ``train``,
    ``losses`` (one integer per step, at the activation scale) and ``num_tokens`` (counted
    tokens per batch, only when one differs from B·(T − 1)).
    """

    name = "llama-train"
    description = "LLaMA LoRA training steps (forward, loss, backward, optimiser), chained"

    def __init__(self):
        self._cache: dict[str, Any] = {}
        #: (key, `graph.Traced`): the inputs carrying the phase-1 witness of the last
        #: `_prepare` run inside a proof's scratch session, until `witness` hands it over
        self._traced: tuple[str, graphlib.Traced] | None = None
        #: (spec, counted tokens, graph): the placeholder-loss graph of the last
        #: `_prepare` run inside a proof's scratch session, until `build` takes it
        self._graph0: tuple[TrainSpec, list[int], Graph] | None = None

    def _prepare(self, params):
        key = json.dumps(params, sort_keys=True, default=str)
        if key not in self._cache:
            self._traced = self._graph0 = None
            spec, ckpt, adapter, batches, state = load_private_state(params)
            public = spec.to_public()
            # the verifier's work budget from the shapes alone, before the training
            # step is computed (the statement's losses need it)
            security.check_statement_work(self.work_estimate(public))
            inputs = train_inputs(spec, ckpt, adapter, batches, state)
            # only what the statement names (adapters, state, losses) is kept: the
            # proof recomputes its witness, and a cached full trace would stay resident
            # for the whole proof
            # (not the frozen weights: the proof has its own reference to them, and
            # the cached result would pin every layer's padded integer weights)
            keep = [n for cat, names in statement_tensors(public).items()
                    if cat != "frozen" for n in names]
            # inside a proof's scratch session (`api.prove`) the run's phase-1 witness is
            # kept (spilled) for the proof's forward pass (`witness`): computed once
            traced: list | None = [] if scratch.current() is not None else None
            graphs: list | None = [] if traced is not None else None
            _, res = integer_train(spec, inputs, keep=keep, traced=traced,
                                   final_graph=False, placeholder=graphs)
            if traced:
                self._traced = (key, traced[0])
            public["losses"] = list(res.losses)
            nt = batch_num_tokens(spec, inputs)
            if graphs:
                self._graph0 = (spec, nt, graphs[0])
            if nt != [default_num_tokens(spec.fwd.batch, spec.fwd.seq)] * spec.batches:
                public["num_tokens"] = nt
            self._cache = {key: (spec, public, inputs, res)}
        return self._cache[key]

    def public_params(self, params):
        if "losses" in params:
            extra = sorted(set(params) - _PUBLIC_KEYS)
            if extra:
                raise ConfigError(f"model: unknown public keys {extra}")
            try:
                spec = TrainSpec.from_public(params)
            except (OverflowError, RecursionError) as e:
                raise ConfigError(f"model: malformed parameter ({e})") from None
            llama.check_limits(spec.fwd)
            if spec.steps > MAX_STATEMENT_STEPS:
                raise ConfigError(f"model: steps = {spec.steps} is outside "
                                  f"[1, {MAX_STATEMENT_STEPS}] (statement limit)")
            losses = params["losses"]
            if not isinstance(losses, list) or len(losses) != spec.steps or not all(
                    isinstance(x, int) and not isinstance(x, bool) for x in losses):
                raise ConfigError(f"model.losses must be a list of {spec.steps} integers")
            out = spec.to_public()
            out["losses"] = list(losses)
            nt = _train_num_tokens(params, spec)
            if nt != [default_num_tokens(spec.fwd.batch, spec.fwd.seq)] * spec.batches:
                out["num_tokens"] = nt
            return out
        return dict(self._prepare(params)[1])

    def work_estimate(self, public) -> int:
        """Elements of the graph `build(public)` would create: per step a forward pass,
        its backward (≈ the forward again), the rescales' limb tensors (Y and R defined
        by their limbs, `rescale.limb_outputs`: ≈ half a forward more) and the adapters'
        optimiser update."""
        spec = TrainSpec.from_public(public)
        fwd = llama.work_estimate(llama.check_limits(spec.fwd))
        return int(spec.steps * (5 * fwd // 2 + 64 * llama_adapter_elements(spec)))

    def build(self, public):
        spec = TrainSpec.from_public(public)
        losses = [int(x) for x in public["losses"]]
        nt = _train_num_tokens(public, spec)
        held, self._graph0 = self._graph0, None
        if held is not None and held[0] == spec and held[1] == nt \
                and len(losses) == spec.steps:
            # the graph `_prepare`'s forward ran, built from the same spec and counted
            # tokens: only the losses differ, so it is not built a second time (once)
            return with_losses(held[2], losses)
        return build_train_graph(spec, losses, nt)

    def witness(self, params):
        """The committed inputs; inside the scratch session of the `_prepare` run that
        computed the statement's losses, a `graph.Traced` handing that run's phase-1
        witness to the proof's `graph.forward` (once)."""
        spec, public, inputs, res = self._prepare(params)
        key = json.dumps(params, sort_keys=True, default=str)
        held, self._traced = self._traced, None
        if held is not None and held[0] == key and held[1].holds \
                and scratch.current() is not None:
            # the proof holds the inputs now (the Traced, then its witness, which spills
            # them): the cache keeps none, so the padded integer weights (68 MiB a
            # SmolLM layer, 512 MiB the embedding) are not pinned for the whole proof
            self._cache[key] = (spec, public, None, res)
            return held[1]
        if inputs is None:   # handed to an earlier proof: computed again
            _, ckpt, adapter, batches, state = load_private_state(params)
            inputs = train_inputs(spec, ckpt, adapter, batches, state)
            if CACHE_RECOMPUTED_INPUTS:
                self._cache[key] = (spec, public, inputs, res)
        return dict(inputs)

    def frozen_tensors(self, public) -> list[str]:
        return frozen_tensors(public)

    def frozen_scope(self, public) -> dict[str, Any]:
        """The same scope as the forward model's: one model commitment serves both."""
        return llama.frozen_scope(TrainSpec.from_public(public).fwd)

    def frozen_witness(self, params):
        return llama.load_frozen(params)

    def losses(self, public) -> list[float]:
        """The public per-step losses (integers at the activation scale) as reals."""
        s = int(public["quant"]["act_scale"])
        return [v / (1 << s) for v in public["losses"]]

    def statement_tensors(self, public) -> dict[str, list[str]]:
        return statement_tensors(public)

    def adapter_values(self, public, path, which: str) -> dict[str, torch.Tensor]:
        """The statement tensors of a peft adapter directory: ``which`` = "in" (the
        initial adapter) or "out" (the adapter after the last step), quantised at the
        master scale exactly as the prover did — so their commitments can be compared
        with the statement's."""
        from .hf import load_adapter

        spec = TrainSpec.from_public(public)
        ad = load_adapter(path, spec.fwd.arch)
        if ad.spec != spec.fwd.lora:
            raise ConfigError(f"adapter {path}: its LoRA config differs from the proof's")
        names = statement_tensors(public)["adapters_in" if which == "in" else "adapters_out"]
        pad = spec.fwd.padding
        return {n: pad.pad(to_fixed(getattr(ad.pairs[(i, t)], ab), spec.master_scale,
                                    name=f"{path}: {peft_tensor_name(i, t, ab)}"),
                           pad.tensor_kinds(f"l{i}.{t}.{ab}"))
                for n, (i, t, ab) in zip(names, lora_keys(spec))}

    def adapter_labels(self, public, which: str) -> dict[str, str]:
        """Statement name → peft tensor name of the adapter tensors `adapter_values`
        returns (what error messages show)."""
        spec = TrainSpec.from_public(public)
        names = statement_tensors(public)["adapters_in" if which == "in" else "adapters_out"]
        return {n: peft_tensor_name(i, t, ab)
                for n, (i, t, ab) in zip(names, lora_keys(spec))}

    def trained_adapter(self, params) -> tuple[Adapter, list[float]]:
        """(adapter after the last step, float32 in peft's layout; per-step losses)."""
        spec, _, _, res = self._prepare(params)
        return adapter_from_values(spec, res.values), res.loss_floats(spec.fwd.quant.act_scale)

    def trained_state(self, params) -> TrainState:
        """The exact integer state after the last step (what a linked proof resumes from)."""
        spec, _, _, res = self._prepare(params)
        return TrainState.from_values(spec, res.values)

    def save_training_state(self, params, directory) -> None:
        """Write `STATE_FILE` (θ, m̂, v̂ as integers, the step index) into ``directory``,
        next to the adapter ``--adapter-out`` writes; ``--resume`` reads it."""
        self.trained_state(params).save(directory)

    def chain_link(self, public) -> dict[str, Any]:
        """What `zklora.zkcore.chain.verify_chain` links: ``start`` / ``end`` (optimiser
        steps before / after the proof), ``initial[j]`` — the committed tensor the proof
        starts from — must carry the commitment of the previous proof's ``final[j]``, and
        ``fixed`` must be equal along a chain (architecture, LoRA, scales, optimiser kind
        and moments' parameters; lr and weight decay may change, as under a schedule)."""
        spec = TrainSpec.from_public(public)
        names = statement_tensors(public)
        adam = spec.optim.optimizer != "sgd"
        initial = list(names["adapters_in"])
        final = list(names["adapters_out"])
        if adam:
            # a fresh Adam run starts from the public zero state: its link names no m̂, v̂
            # tensors, so only a first proof (start 0) can be fresh
            if spec.resumed:
                initial += names["state_in"]
                final += names["state_out"]
            else:
                final += names["state_out"]
        fixed = {k: v for k, v in spec.to_public().items()
                 if k in ("arch", "lora", "quant", "act_bits")}
        fixed["optim"] = {"optimizer": spec.optim.optimizer,
                          **({"betas": list(spec.optim.betas), "eps": spec.optim.eps}
                             if adam else {})}
        fixed["train"] = {"master_scale": spec.master_scale, "grad_bits": spec.grad_bits,
                          "adapter_bits": spec.adapter_bits}
        return {"start": spec.start_step, "end": spec.start_step + spec.steps,
                "initial": initial, "final": final, "fixed": fixed}


@hookimpl
def zk_models():
    return [LlamaTrain()]


def _betas(value) -> list[float]:
    """``--betas 0.9,0.999`` or ``betas=(0.9, 0.999)`` → [0.9, 0.999]."""
    parts = value.split(",") if isinstance(value, str) else value
    try:
        b1, b2 = (float(x) for x in parts)
    except (TypeError, ValueError):
        raise ConfigError(f"betas: expected two numbers, e.g. 0.9,0.999; got {value!r}") \
            from None
    return [b1, b2]


#: Options of the training model: the forward model's plus the optimiser's and
#: ``resume`` (``zklora prove --task train --steps 2 --lr 1e-3`` / ``zklora.prove(…)``).
OPTIONS = (
    *llama.OPTIONS,
    ModelOption("steps", "Optimiser steps to prove.", type="int", min=1, default=1),
    ModelOption("batch_size", "Rows of the data file per step: steps × batch_size rows give "
                "one batch per step, at most batch_size rows one batch for every step "
                "(default: the whole file, every step).", type="int", min=1),
    ModelOption("optimizer", "The optimiser.", choices=("adamw", "adam", "sgd"),
                default=DEFAULT_OPTIM["optimizer"]),
    ModelOption("lr", "Learning rate.", type="float", default=DEFAULT_OPTIM["lr"]),
    ModelOption("betas", "Adam betas, e.g. 0.9,0.999.", parse=_betas, metavar="B1,B2",
                default=",".join(map(str, DEFAULT_OPTIM["betas"]))),
    ModelOption("eps", "Adam epsilon.", type="float", default=DEFAULT_OPTIM["eps"]),
    ModelOption("weight_decay", "Weight decay (as torch.optim.AdamW).", type="float",
                default=DEFAULT_OPTIM["weight_decay"]),
    ModelOption("resume", "Continue from the --adapter-out directory of the run's previous "
                "proof (adapter, Adam state, step index); verify the proofs as a chain.",
                type="dir"),
)


@hookimpl
def zk_model_options():
    """``--task train``; ``--task auto`` prefers it (any LoRA option means training)."""
    return [ModelOptions("llama-train", OPTIONS, task="train", priority=1,
                         example={"model": "tiny", "steps": 1})]


__all__ = ["ACT_BITS", "LlamaTrain", "OptimSpec", "TrainSpec", "build_train_graph",
           "integer_train", "statement_tensors", "train_inputs"]
