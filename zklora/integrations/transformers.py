"""``ZkLoraCallback``: prove the LoRA training a ``transformers.Trainer`` runs.

Add the callback to a Trainer that trains a peft LoRA model of a LLaMA::

    cb = ZkLoraCallback(base_model="path/to/base")        # or "tiny"
    trainer = Trainer(model=peft_model, args=args, train_dataset=ds, callbacks=[cb])
    trainer.train()
    cb.result.proven_adapter     # ← the adapter to ship (docs/trainer.md)

The callback records, for every optimiser step, the batch the model was trained on
(``input_ids``, ``labels`` and a right-padding ``attention_mask``) and the optimiser's
hyper-parameters (lr, betas, eps, weight decay, read from the optimiser itself, so a
learning-rate schedule is followed).  It proves the recorded steps with the
``llama-train`` model — at the end of training, or every ``prove_every`` steps — as a
sequence of *linked proofs* (`zklora.zkcore.chain`): consecutive steps with the same
hyper-parameters and batch shape share one proof; a new proof resumes from the exact
integer state (adapter, Adam m̂, v̂, step index) the previous one ended with.

What the proofs attest is the *integer* computation (the spec, docs/training.md), started
from the adapter the Trainer started from, on the batches it saw.  The float adapter the
Trainer produces differs slightly from it and is **not** what the proofs attest: ship
``result.proven_adapter`` (written next to the trained one).  Anything the spec does not
compute — gradient clipping, accumulation, label smoothing, left padding, several
devices, another optimiser — is refused with a `ConfigError` before it is
silently proven as something else.

Outputs, under ``output_dir`` (default ``<TrainingArguments.output_dir>/zklora``):
``initial_adapter/`` (the adapter at the start of training), ``proof-0001.zkp`` …
(the linked proofs, in order), ``adapter-0001/`` … (the proven adapter and optimiser
state after each proof), ``proven_adapter/`` (after the last), ``chain.json`` (the
manifest, with the command that verifies it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import attrs
import torch
from transformers import TrainerCallback

from zklora.zkcore.errors import ConfigError

#: optimisers of the spec: torch class name → llama-train's optimizer
_OPTIMIZERS = {"AdamW": "adamw", "Adam": "adam", "SGD": "sgd"}


@attrs.frozen
class StepRecord:
    """One recorded optimiser step: its batch and hyper-parameters."""

    step: int  # 1-based optimiser step index
    batch: TrainerBatch
    hyper: tuple  # (optimizer, lr, betas, eps, weight_decay)

    @property
    def input_ids(self) -> torch.Tensor:
        return self.batch.input_ids


@attrs.frozen
class TrainerBatch:
    """A recorded batch: ``input_ids``, ``labels`` (−100 = ignored) and the attention mask
    (None: no padding), int64 (batch, seq)."""

    input_ids: torch.Tensor
    labels: torch.Tensor
    attention_mask: torch.Tensor | None = None

    def rows(self) -> list[dict]:
        """JSONL rows in the data format of `zklora.plugins.models.data`."""
        out = []
        for b in range(self.input_ids.shape[0]):
            row = {"input_ids": self.input_ids[b].tolist(), "labels": self.labels[b].tolist()}
            if self.attention_mask is not None:
                row["attention_mask"] = self.attention_mask[b].tolist()
            out.append(row)
        return out


@attrs.frozen
class ProvenRun:
    """What the callback proved: the proof files in chain order, the adapters and the
    verification outcome."""

    proofs: list[Path]
    initial_adapter: Path
    proven_adapter: Path
    steps: int
    losses: list[float]  # the proven (integer-spec) loss of every step
    verified: bool
    float_deviation: float | None  # ‖float − proven‖_F / ‖proven‖_F of the adapters
    manifest: Path


def _unwrap_optimizer(opt):
    """The torch optimiser inside accelerate's wrapper."""
    seen = 0
    while type(opt).__name__ not in _OPTIMIZERS and hasattr(opt, "optimizer") and seen < 4:
        opt = opt.optimizer
        seen += 1
    return opt


def _hyper(opt) -> tuple:
    """(optimizer, lr, betas, eps, weight_decay) of the group(s) holding trainable
    parameters; ConfigError for anything llama-train does not prove."""
    opt = _unwrap_optimizer(opt)
    name = type(opt).__name__
    if name not in _OPTIMIZERS:
        raise ConfigError(f"ZkLoraCallback: optimiser {name} is not proven; use AdamW "
                          "(optim='adamw_torch' / 'adamw_torch_fused'), Adam or SGD")
    kind = _OPTIMIZERS[name]
    groups = [g for g in opt.param_groups if any(p.requires_grad for p in g["params"])]
    if not groups:
        raise ConfigError("ZkLoraCallback: the optimiser holds no trainable parameters")
    hps = set()
    for g in groups:
        if g.get("amsgrad") or g.get("maximize"):
            raise ConfigError("ZkLoraCallback: amsgrad / maximize are not proven")
        if kind == "adam" and g.get("decoupled_weight_decay"):
            kind = "adamw"
        if kind == "sgd" and (g.get("momentum", 0) or g.get("nesterov") or
                              g.get("dampening", 0)):
            raise ConfigError("ZkLoraCallback: SGD with momentum is not proven (plain SGD "
                              "with weight decay is)")
        betas = tuple(float(b) for b in g.get("betas", (0.9, 0.999)))
        lr = g["lr"]
        lr = float(lr.item() if isinstance(lr, torch.Tensor) else lr)
        hps.add((kind, lr, betas if kind != "sgd" else None,
                 float(g.get("eps", 1e-8)) if kind != "sgd" else None,
                 float(g.get("weight_decay", 0.0))))
    if len(hps) != 1:
        raise ConfigError("ZkLoraCallback: the trainable parameters are in optimiser groups "
                          f"with different hyper-parameters {sorted(hps, key=str)}; one "
                          "group is proven")
    hp = hps.pop()
    if not hp[1] > 0:
        raise ConfigError(f"ZkLoraCallback: learning rate {hp[1]} at this step (a warm-up "
                          "from 0?); the proven optimiser needs lr > 0")
    return hp


def _pow2(v: int) -> bool:
    return v >= 1 and not v & (v - 1)


def check_batch(input_ids, attention_mask=None, labels=None, vocab_size: int | None = None
                ) -> TrainerBatch:
    """The batch as the proof reads it (`TrainerBatch`); ConfigError for a batch the spec
    does not prove: no labels, padding that is not right padding, a label other than −100
    on a padded position (transformers would count it through a padded query), ids or
    labels outside the vocabulary.  Shapes need not be powers of two: the prover pads."""
    if input_ids is None:
        raise ConfigError("ZkLoraCallback: the model was called without input_ids "
                          "(inputs_embeds are not proven)")
    ids = torch.as_tensor(input_ids).detach().to("cpu", torch.int64)
    if ids.ndim != 2 or ids.shape[1] < 2:
        raise ConfigError(f"ZkLoraCallback: input_ids of shape {tuple(ids.shape)}; expected "
                          "(batch, seq) with seq ≥ 2")
    if labels is None:
        raise ConfigError("ZkLoraCallback: the batch has no labels; the proven loss is the "
                          "causal-LM loss of the batch's labels")
    lab = torch.as_tensor(labels).detach().to("cpu", torch.int64)
    if lab.shape != ids.shape:
        raise ConfigError(f"ZkLoraCallback: labels of shape {tuple(lab.shape)} differ from "
                          f"input_ids {tuple(ids.shape)}")
    mask = None
    if attention_mask is not None:
        mask = torch.as_tensor(attention_mask).detach().to("cpu", torch.int64)
        if mask.shape != ids.shape or bool(((mask != 0) & (mask != 1)).any()):
            raise ConfigError("ZkLoraCallback: attention_mask must be 0/1 of input_ids' shape")
        if bool((mask[:, 1:] > mask[:, :-1]).any()):
            raise ConfigError("ZkLoraCallback: the batch is padded on the left (attention_mask "
                              "has a 1 after a 0); only right padding is proven — set the "
                              "tokenizer's padding_side='right'")
        if bool(((mask == 0) & (lab != -100)).any()):
            raise ConfigError("ZkLoraCallback: a padded position (attention_mask 0) has a "
                              "label other than -100; set labels to -100 under padding")
        if bool((mask == 1).all()):
            mask = None
    if vocab_size is not None:
        if bool(((ids < 0) | (ids >= vocab_size)).any()):
            raise ConfigError(f"ZkLoraCallback: a token id outside [0, {vocab_size})")
        if bool(((lab != -100) & ((lab < 0) | (lab >= vocab_size))).any()):
            raise ConfigError(f"ZkLoraCallback: a label outside [0, {vocab_size}) and not -100")
    return TrainerBatch(ids.clone(), lab.clone(), mask)


def _base_weights(base_model: str):
    from zklora.plugins.models.hf import load_model
    from zklora.plugins.models.tiny import tiny_arch, tiny_weights

    if base_model == "tiny":
        return tiny_weights(tiny_arch())
    return load_model(base_model)


def _check_base(model, base_model: str) -> None:
    """The Trainer's frozen base weights must be ``base_model``'s (the proofs commit the
    latter): compare every checkpoint tensor."""
    ckpt = _base_weights(base_model)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    sd = {k.replace(".base_layer.", "."): v for k, v in base.state_dict().items()
          if "lora_" not in k}
    for name, w in ckpt.weights.items():
        have = sd.get(name)
        if have is None or tuple(have.shape) != tuple(w.shape) or not torch.equal(
                have.detach().to("cpu", torch.float32), w.to(torch.float32)):
            raise ConfigError(f"ZkLoraCallback: the Trainer's base model differs from "
                              f"base_model={base_model!r} at {name}; the proofs would be "
                              "about another model")


class ZkLoraCallback(TrainerCallback):
    """Record every optimiser step of a ``Trainer`` and prove them (module doc).

    ``base_model``: the base checkpoint the proofs commit — a HF LLaMA directory, or
    "tiny"; the Trainer's frozen weights are checked against it (``check_base``).
    ``output_dir``: where proofs and adapters go (default ``<args.output_dir>/zklora``;
    must be new or empty).  ``prove_every``: prove every N steps during training
    (default: everything at the end).  ``profile``: proof profile (fast | paper | …).
    ``model_commitment``: a published base-model commitment the proofs must be bound to.
    ``verify``: verify the chain and the written adapters at the end.
    ``train_params``: extra llama-train prover parameters (``grad_bits``,
    ``adapter_bits``, ``master_scale``, ``quant``, ``act_bits``).
    ``zero_knowledge``: prove the chunks in zero knowledge (default False, whatever the
    profile's default: the chunks are chained by their adapter commitments and checked
    against the written adapters, which hiding commitments cannot do yet —
    docs/zero-knowledge.md §5.5; with True, chaining and those checks refuse).
    ``prover_cache``: a directory of the base weights' prover states, reused by every
    chunk's proof (`zklora.prove`'s ``prover_cache``; not with zero knowledge).
    """

    def __init__(self, base_model: str | os.PathLike = "tiny", *,
                 output_dir: str | os.PathLike | None = None, prove_every: int | None = None,
                 profile: str = "fast", model_commitment: str | os.PathLike | None = None,
                 verify: bool = True, check_base: bool = True, progress: bool = False,
                 train_params: dict[str, Any] | None = None, zero_knowledge: bool = False,
                 prover_cache: str | os.PathLike | None = None):
        if prove_every is not None and (isinstance(prove_every, bool) or
                                        not isinstance(prove_every, int) or prove_every < 1):
            raise ConfigError(f"ZkLoraCallback: prove_every must be an integer ≥ 1, got "
                              f"{prove_every!r}")
        extra = sorted(set(train_params or {}) - {"grad_bits", "adapter_bits", "master_scale",
                                                  "quant", "act_bits"})
        if extra:
            raise ConfigError(f"ZkLoraCallback: train_params: unknown keys {extra}")
        self.base_model = os.fspath(base_model)
        self.output_dir = None if output_dir is None else Path(output_dir)
        self.prove_every = prove_every
        self.profile = profile
        self.model_commitment = model_commitment
        self.verify = verify
        self.check_base = check_base
        self.progress = progress
        self.train_params = dict(train_params or {})
        # chained chunks, adapter and base-model checks recommit: not with hiding
        # commitments (docs/zero-knowledge.md §5.5), so off unless asked
        self.zero_knowledge = zero_knowledge
        self.prover_cache = prover_cache
        self.result: ProvenRun | None = None
        self._reset()

    def _reset(self) -> None:
        self._pending: list[StepRecord] = []
        self._batch: torch.Tensor | None = None
        self._calls = 0
        self._proofs: list[Path] = []
        self._losses: list[float] = []
        self._last_adapter: Path | None = None
        self._hook = None
        self._model = None
        self._vocab = None

    # -- Trainer events ------------------------------------------------------------------

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._reset()
        if args.gradient_accumulation_steps != 1:
            raise ConfigError("ZkLoraCallback: gradient_accumulation_steps must be 1 (one "
                              "proven step is one batch)")
        if args.max_grad_norm:
            raise ConfigError(f"ZkLoraCallback: gradient clipping (max_grad_norm="
                              f"{args.max_grad_norm}) is not part of the proven computation; "
                              "set TrainingArguments(max_grad_norm=0)")
        if getattr(args, "label_smoothing_factor", 0):
            raise ConfigError("ZkLoraCallback: label smoothing is not proven")
        if getattr(args, "world_size", 1) != 1:
            raise ConfigError("ZkLoraCallback: one process only (the batch of each step "
                              "must be seen whole)")
        if state.global_step:
            raise ConfigError("ZkLoraCallback: resuming a Trainer checkpoint is not supported "
                              "(the callback must see every step from the start)")
        if model is None or not hasattr(model, "peft_config"):
            raise ConfigError("ZkLoraCallback: the Trainer's model must be a peft model")
        if optimizer is not None:
            _hyper(optimizer)  # fail before the first step
        if self.check_base:
            _check_base(model, self.base_model)
        self._vocab = getattr(getattr(model, "config", None), "vocab_size", None)
        out = self.output_dir or Path(args.output_dir) / "zklora"
        if out.exists() and any(out.iterdir()):
            raise ConfigError(f"ZkLoraCallback: output_dir {out} exists and is not empty")
        out.mkdir(parents=True, exist_ok=True)
        self._out = out
        self._initial = out / "initial_adapter"
        model.save_pretrained(str(self._initial))
        self._model = model
        self._hook = model.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        if not module.training:
            return None
        ids = kwargs.get("input_ids", args[0] if args else None)
        try:
            pos = kwargs.get("position_ids")
            if pos is not None and ids is not None:
                pos = torch.as_tensor(pos).detach().to("cpu", torch.int64)
                want = torch.arange(torch.as_tensor(ids).shape[-1]).expand_as(pos)
                if not torch.equal(pos, want):
                    raise ConfigError("ZkLoraCallback: the batch has position_ids other than "
                                      "0..seq−1 (packed sequences); the proven forward uses "
                                      "positions 0..seq−1")
            self._batch = check_batch(ids, kwargs.get("attention_mask"), kwargs.get("labels"),
                                      self._vocab)
        except ConfigError:
            self._detach()  # training stops here; leave the model as it was
            raise
        self._calls += 1
        return None

    def _detach(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        if self._batch is None or self._calls != 1:
            raise ConfigError(f"ZkLoraCallback: step {state.global_step + 1} ran "
                              f"{self._calls} training forward passes; one is proven")
        hp = _hyper(optimizer)
        rec = StepRecord(state.global_step + 1, self._batch, hp)
        self._batch, self._calls = None, 0
        if self._pending and (self._pending[0].hyper != hp or
                              self._pending[0].input_ids.shape != rec.input_ids.shape):
            self._prove_pending()  # a new link: other hyper-parameters or batch shape
        self._pending.append(rec)

    def on_step_end(self, args, state, control, **kwargs):
        if self.prove_every and len(self._pending) >= self.prove_every:
            self._prove_pending()

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self._detach()
        if self._model is None:
            return
        self._prove_pending()
        if not self._proofs:
            raise ConfigError("ZkLoraCallback: no training step was recorded")
        self.result = self._finish(model or self._model)

    # -- proving -------------------------------------------------------------------------

    def _prove_pending(self) -> None:
        if not self._pending:
            return
        from zklora.zkcore import pyapi

        steps, self._pending = self._pending, []
        k = len(self._proofs) + 1
        kind, lr, betas, eps, wd = steps[0].hyper
        b = int(steps[0].input_ids.shape[0])
        data = self._out / f"data-{k:04d}.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for st in steps for r in st.batch.rows()))
        proof = self._out / f"proof-{k:04d}.zkp"
        adapter_out = self._out / f"adapter-{k:04d}"
        start = {"adapter": self._initial} if self._last_adapter is None else \
            {"resume": self._last_adapter}
        cfg = {"task": {"model": "llama-train"},
               "model": {"batch": b, **self.train_params}}
        res = pyapi.prove(config=cfg, profile=self.profile, model=self.base_model, data=data,
                          steps=len(steps), optimizer=kind, lr=lr, betas=betas, eps=eps,
                          weight_decay=wd, out=proof, adapter_out=adapter_out,
                          model_commitment=self.model_commitment, progress=self.progress,
                          zero_knowledge=self.zero_knowledge,
                          prover_cache=self.prover_cache, **start)
        self._proofs.append(proof)
        self._losses.extend(res.losses)
        self._last_adapter = adapter_out

    def _finish(self, model) -> ProvenRun:
        from zklora.zkcore import api, chain, pyapi

        proven = self._out / "proven_adapter"
        tmp = self._out / ".proven_adapter.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(self._last_adapter, tmp)
        tmp.rename(proven)
        verified = False
        digests = []
        if self.verify:
            res = chain.verify_chain_files(self._proofs, start=0,
                                           trusted_model=pyapi._trusted(self.model_commitment))
            api.check_adapter(res.statements[0], "in", self._initial)
            api.check_adapter(res.statements[-1], "out", proven)
            digests = [pyapi.statement_digest(s) for s in res.statements]
            verified = True
        dev = _float_deviation(model, proven)
        manifest = self._out / "chain.json"
        names = [p.name for p in self._proofs]
        doc = {"proofs": names, "statement_digests": digests, "steps": len(self._losses),
               "losses": self._losses, "initial_adapter": "initial_adapter",
               "proven_adapter": "proven_adapter", "base_model": self.base_model,
               "float_adapter_deviation": dev,
               "verify": "zklora verify " + " ".join(names)
                         + " --adapter-in initial_adapter --adapter-out proven_adapter"}
        tmpm = manifest.with_suffix(".json.tmp")
        tmpm.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmpm.replace(manifest)
        return ProvenRun(list(self._proofs), self._initial, proven, len(self._losses),
                         list(self._losses), verified, dev, manifest)


def _float_deviation(model, proven: Path) -> float | None:
    """‖float − proven‖_F / ‖proven‖_F over the adapter tensors (None if not comparable)."""
    try:
        import peft

        from zklora.plugins.models.hf import load_adapter
        from zklora.plugins.models.reference import relative_frobenius

        fl = {k: v.detach().to("cpu", torch.float64)
              for k, v in peft.get_peft_model_state_dict(model).items()}
        pr = load_adapter(proven).flat()
        if set(fl) != set(pr):
            return None
        return relative_frobenius(fl, pr)
    except Exception:  # noqa: BLE001 — an informative figure only
        return None
