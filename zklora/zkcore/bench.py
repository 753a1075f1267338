"""``zklora bench``: prove/verify time, proof size and peak memory over a size sweep.

Each size runs in a fresh Python process (``python -m zklora.zkcore.bench --worker``)
so its peak resident memory (``ru_maxrss``) is its own.  The built-in shapes are
LLaMA architectures with seeded random weights written as a Hugging Face directory
(``tiny`` is the built-in tiny model itself); ``model`` adds a real checkpoint.  The
results go to ``bench.json``; ``bench.png`` plots time and memory against the model's
parameter count (matplotlib, the ``plot`` extra; skipped when it is not installed).

Throughput figures of every run (issue 13), also logged in the report:

* **prove CPU per activation element**: the process CPU time (all threads, user +
  system, `resource.getrusage`) of the `pyapi.prove` call, divided by the activation
  elements of the shape (`activation_elements`: the float forward pass's per-token
  tensors of every layer, the attention scores and the logits);
* **the float step**: one float32 training step (forward, causal-LM loss, backward,
  AdamW) of the same shape and batch, measured in the same worker after the proof:
  transformers + peft when installed, else a plain torch LLaMA of the same shape
  (`_TorchLlama`); median of `FLOAT_ROUNDS` steps after one warm-up, CPU and wall;
* their ratio (prove CPU / float-step CPU; the wall ratio too);
* a **per-op-kind table**: for every op kind of the graph prover (its ``profile``
  hook) and every prover phase, the number of nodes, seconds and share of the prove
  time.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from .errors import ConfigError, ZkLoraError
from .progress import Reporter

#: built-in shapes: LLaMA architectures (tiny = the built-in tiny model).  ``act_bits``:
#: the activation range (the model's default is 10 bits); ``small`` and ``medium``
#: declare a narrower one (from before the RMSNorm pre-shift, which now makes the default
#: fit at every width: `tests/test_bench_shapes.py` checks the training graph's bound
#: analysis of every shape).  ``batch`` / ``seq``: the shape's own default batch (else
#: `DEFAULT_BATCH` × `DEFAULT_SEQ`; ``--batch`` / ``--seq`` override).  ``25m`` and
#: ``84m`` are issue 13's acceptance shapes: 25M = hidden 512, FFN 1024, 8 layers,
#: vocab 4096, 16 heads (head_dim 32; docs/PERFORMANCE.md's "25M-parameter step"),
#: batch 1 × 64, 25,174,528 parameters; 84M = hidden 1024, FFN 4096, 4 layers, vocab
#: 8192, 32 heads (head_dim 32, as the 25M shape), batch 1 × 32, 83,895,296 parameters
#: (`param_count`, untied embeddings and head).
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(vocab=256, hidden=64, ffn=128, layers=2, heads=4),
    "small": dict(vocab=256, hidden=128, ffn=256, layers=2, heads=4, act_bits=9),
    "medium": dict(vocab=512, hidden=256, ffn=512, layers=2, heads=8, act_bits=8),
    "25m": dict(vocab=4096, hidden=512, ffn=1024, layers=8, heads=16, batch=1, seq=64),
    "84m": dict(vocab=8192, hidden=1024, ffn=4096, layers=4, heads=32, batch=1, seq=32),
}
#: batch and sequence length of a size without its own (and of ``--model``)
DEFAULT_BATCH, DEFAULT_SEQ = 1, 16
LORA = dict(r=4, alpha=8, targets=("q_proj", "v_proj"))


#: float training steps timed (after one warm-up); the median is reported
FLOAT_ROUNDS = 5


def batch_seq(size: str | None, batch: int | None = None,
              seq: int | None = None) -> tuple[int, int]:
    """The (batch, seq) a measurement of ``size`` runs: ``batch`` / ``seq`` where given,
    else the size's own (`SIZES`), else `DEFAULT_BATCH` / `DEFAULT_SEQ` (also for a
    ``--model`` checkpoint, ``size`` None)."""
    own = SIZES.get(size, {}) if size is not None else {}
    return (int(batch) if batch is not None else own.get("batch", DEFAULT_BATCH),
            int(seq) if seq is not None else own.get("seq", DEFAULT_SEQ))


def activation_elements(shape: dict[str, int], batch: int, seq: int) -> int:
    """Activation elements of one float forward pass: per token and layer the two norm
    outputs and the residual stream (4h with the attention and MLP outputs), q, k, v and
    the attention output (2q + 2kv), gate, up and their product (3f); the attention
    scores (batch·heads·seq² per layer); the logits (tokens·vocab)."""
    v, h, f, n, heads = (shape[k] for k in ("vocab", "hidden", "ffn", "layers", "heads"))
    kv_heads = shape.get("kv_heads", heads)
    head_dim = shape.get("head_dim", h // heads)
    q, kv = heads * head_dim, kv_heads * head_dim
    tokens = batch * seq
    per_layer = tokens * (4 * h + 2 * q + 2 * kv + 3 * f) + batch * heads * seq * seq
    return n * per_layer + tokens * v


def _cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def param_count(shape: dict[str, int]) -> int:
    """Base-model parameters of a shape (untied embeddings and head)."""
    v, h, f, n = shape["vocab"], shape["hidden"], shape["ffn"], shape["layers"]
    return 2 * v * h + h + n * (4 * h * h + 3 * h * f + 2 * h)


def _write_checkpoint(d: Path, shape: dict[str, int], seed: int = 0) -> tuple[Path, Path]:
    """A LlamaForCausalLM directory and a peft LoRA adapter for ``shape`` (random)."""
    import torch
    from safetensors.torch import save_file

    v, h, f, n, heads = (shape[k] for k in ("vocab", "hidden", "ffn", "layers", "heads"))
    g = torch.Generator().manual_seed(seed)

    def rnd(*s, std):
        return (torch.randn(s, generator=g) * std).contiguous()

    w = {"model.embed_tokens.weight": rnd(v, h, std=1.0), "lm_head.weight": rnd(v, h, std=h**-.5),
         "model.norm.weight": 1 + rnd(h, std=0.1)}
    mods = {"self_attn.q_proj": (h, h), "self_attn.k_proj": (h, h), "self_attn.v_proj": (h, h),
            "self_attn.o_proj": (h, h), "mlp.gate_proj": (f, h), "mlp.up_proj": (f, h),
            "mlp.down_proj": (h, f)}
    for i in range(n):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + rnd(h, std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + rnd(h, std=0.1)
        for m, (o, k) in mods.items():
            w[p + m + ".weight"] = rnd(o, k, std=k**-.5)
    model = d / "model"
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": v,
        "hidden_size": h, "intermediate_size": f, "num_hidden_layers": n,
        "num_attention_heads": heads, "num_key_value_heads": heads, "head_dim": h // heads,
        "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "max_position_embeddings": 256, "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32"}))
    save_file(w, str(model / "model.safetensors"), metadata={"format": "pt"})
    ad = d / "adapter"
    ad.mkdir()
    r = LORA["r"]
    a = {}
    for i in range(n):
        for t in LORA["targets"]:
            stem = f"base_model.model.model.layers.{i}.self_attn.{t}"
            a[stem + ".lora_A.weight"] = rnd(r, h, std=h**-.5)
            a[stem + ".lora_B.weight"] = rnd(h, r, std=0.05)
    (ad / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": LORA["alpha"],
        "lora_dropout": 0.0, "target_modules": list(LORA["targets"]), "bias": "none",
        "base_model_name_or_path": str(model.resolve())}))
    save_file(a, str(ad / "adapter_model.safetensors"), metadata={"format": "pt"})
    return model, ad


def measure(size: str, *, model: str | None = None, adapter: str | None = None,
            steps: int = 1, batch: int | None = None, seq: int | None = None,
            profile: str = "fast", repeat: int = 1, warmup: int = 0,
            workdir: str | None = None, progress: str = "none",
            zero_knowledge: bool = False, prover_cache: str | None = None,
            prover_cache_max_bytes: int | None = None) -> dict[str, Any]:
    """One measurement in this process (what a worker runs); with ``repeat`` > 1 the
    fastest of that many prove/verify runs (peak memory is the process's).  ``warmup``:
    prove the same step this many times first, untimed, so that the timed runs find the
    prover loaded (modules imported, numba kernels loaded from their cache, the prover
    cache's entry stored), as the float step is timed after a warm-up; the result
    records their CPU seconds (``warmup_cpu_seconds``).  ``batch`` /
    ``seq`` None: the size's own (`batch_seq`).  ``progress``: the prover's phase
    progress on stderr (`Reporter` mode: "log" in a worker, see `run`; "none" silent).
    ``zero_knowledge``: off unless asked, whatever the profile's default, so the
    figures stay comparable with docs/PERFORMANCE.md's (``fast``: WHIR).
    ``prover_cache``: prove with this prover cache (`zklora.zkcore.provercache`); a run
    that stored the entry (a miss) is followed by one more, so the kept figure is the
    steady per-step cost; the result's ``prover_cache`` says whether the kept run was a
    hit (``prover_cache_runs``: every run's status, ``prover_cache_cold``: the storing
    run's prove CPU and wall); ``prover_cache_max_bytes``: its size limit
    (`provercache.ProverCache.open`; None: ``ZKLORA_PROVER_CACHE_MAX_GB``, else none)."""
    from . import pyapi

    batch, seq = batch_seq(size if model is None else None, batch, seq)

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_p = Path(tmp)
        extra: dict[str, Any] = {}
        shape: dict[str, int] = {}
        model_shape: dict[str, int] | None = None
        if model is None:
            if size not in SIZES:
                raise ConfigError(f"bench size {size!r}; allowed: {', '.join(SIZES)}")
            shape = SIZES[size]
            params = param_count(shape)
            if "act_bits" in shape:
                extra["act_bits"] = shape["act_bits"]
            if size == "tiny":
                model, adapter = "tiny", None
            else:
                m, a = _write_checkpoint(tmp_p, shape)
                model, adapter = str(m), str(a)
        else:
            params = _checkpoint_params(model)
            model_shape = _checkpoint_shape(model)
        runs = []
        warm_cpu: list[float] = []
        for _ in range(max(0, warmup)):
            c0 = _cpu_seconds()
            cache = _open_cache(prover_cache, prover_cache_max_bytes)
            try:
                pyapi.prove(model=model, adapter=adapter, steps=steps, profile=profile,
                            zero_knowledge=zero_knowledge,
                            config={"task": {"model": "llama-train"},
                                    "model": {"batch": batch, "seq": seq, **extra}},
                            out=tmp_p / "bench.zkp", prover_cache=cache)
            finally:
                if cache is not prover_cache:
                    cache.close()
            warm_cpu.append(_cpu_seconds() - c0)
        todo = max(1, repeat)
        while len(runs) < todo:
            rep = _CountingReporter(progress)
            t0, c0 = time.perf_counter(), _cpu_seconds()
            cache = _open_cache(prover_cache, prover_cache_max_bytes)
            try:
                with rep if progress != "none" else nullcontext():
                    res = pyapi.prove(model=model, adapter=adapter, steps=steps,
                                      profile=profile, zero_knowledge=zero_knowledge,
                                      config={"task": {"model": "llama-train"},
                                              "model": {"batch": batch, "seq": seq,
                                                        **extra}},
                                      out=tmp_p / "bench.zkp", progress=rep,
                                      prover_cache=cache)
            finally:
                if cache is not prover_cache:
                    cache.close()
            wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
            ver = pyapi.verify(tmp_p / "bench.zkp")
            runs.append((res.prove_seconds, res, wall, ver, cpu, dict(rep.op_counts)))
            if res.prover_cache == "miss-stored" and len(runs) == 1:
                todo += 1   # the steady cost: once more, from the stored entry
        compile_s = sum(r[1].compile_seconds for r in runs)
        kept = [r for r in runs if r[1].prover_cache == "hit"] or runs
        _, res, wall, _, cpu, counts = min(kept, key=lambda r: r[0])
        cache_doc: dict[str, Any] = {}
        if prover_cache is not None:
            cold = [r for r in runs if r[1].prover_cache != "hit"]
            cache_doc = {"prover_cache_runs": [r[1].prover_cache for r in runs],
                         "prover_cache_cold": None if not cold else
                         {"prove_cpu_seconds": cold[0][4], "prove_wall": cold[0][2]}}
        ver = min((r[3] for r in runs), key=lambda v: v.seconds)
        dims = shape if model_shape is None else model_shape
        float_step = float_step_seconds(model, adapter, dims, batch, seq, tmp_p)
    from .progress import peak_rss_bytes

    acts = activation_elements(dims, batch, seq) * steps
    return {"size": size, "params": params, "steps": steps, "batch": batch, "seq": seq,
            "act_bits": extra.get("act_bits"),
            "profile": profile, "zero_knowledge": zero_knowledge,
            "prove_seconds": res.prove_seconds, "prove_wall": wall,
            "prove_cpu_seconds": cpu, "activation_elements": acts,
            "prove_cpu_us_per_activation": cpu / acts * 1e6,
            "float_step": float_step,
            "overhead_cpu": cpu / (float_step["cpu_seconds"] * steps),
            "overhead_wall": res.prove_seconds / (float_step["seconds"] * steps),
            "op_table": op_table(res.op_timings, counts, res.timings, res.prove_seconds),
            "verify_seconds": ver.seconds, "proof_size": res.proof_size,
            "peak_rss": peak_rss_bytes(), "compile_seconds": compile_s, "repeat": repeat,
            "warmup": max(0, warmup), "warmup_cpu_seconds": warm_cpu,
            "timings": res.timings,
            # whether the kept figure reused cached base-weight states: never a cold one
            "prover_cache": res.prover_cache, **cache_doc}


def _open_cache(prover_cache, max_bytes: int | None):
    """The prover-cache argument of one prove: the directory, or with a size limit the
    opened `ProverCache` (the caller closes it)."""
    if prover_cache is None or max_bytes is None:
        return prover_cache
    from .provercache import ProverCache

    return ProverCache.open(prover_cache, max_bytes=max_bytes)


class _CountingReporter(Reporter):
    """A silent `Reporter` that also counts the profiled nodes of every op kind."""

    def __init__(self, mode: str = "none"):
        super().__init__(mode)
        self.op_counts: dict[str, int] = {}

    def profile(self, kind: str, name: str, seconds: float) -> None:
        super().profile(kind, name, seconds)
        if kind in self.op_timings:
            self.op_counts[kind] = self.op_counts.get(kind, 0) + 1


#: prover phases listed in the per-op table next to the op kinds ("prove" = the op
#: groups: the op kinds' rows are parts of it)
PHASES = ("witness", "forward", "commitments", "prove", "lookups", "openings")


def op_table(op_timings: dict[str, float], counts: dict[str, int],
             timings: dict[str, float], prove_seconds: float) -> list[dict[str, Any]]:
    """Rows {kind, count, seconds, share} for every op kind (count = profiled nodes)
    and the prover phases `PHASES` (``[phase]``, count 1; an op kind's time is part of
    ``[prove]``), largest first; share of ``prove_seconds``."""
    rows = [{"kind": k, "count": counts.get(k, 0), "seconds": v} for k, v in op_timings.items()]
    rows += [{"kind": f"[{p}]", "count": 1, "seconds": timings[p]} for p in PHASES
             if p in timings]
    for r in rows:
        r["share"] = r["seconds"] / prove_seconds if prove_seconds > 0 else 0.0
    return sorted(rows, key=lambda r: -r["seconds"])


def float_step_seconds(model: str, adapter: str | None, shape: dict[str, int], batch: int,
                       seq: int, tmp: Path, rounds: int = FLOAT_ROUNDS) -> dict[str, Any]:
    """One float32 LoRA training step (forward, loss, backward, AdamW) of ``shape`` on a
    random batch: {seconds, cpu_seconds (medians), impl}.  transformers + peft on the
    checkpoint when both are installed (the built-in ``tiny`` written as a checkpoint of
    its shape first), else `_TorchLlama`."""
    import torch

    try:
        import peft
        import transformers
    except ImportError:
        peft = transformers = None
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, shape["vocab"], (batch, seq), generator=g)
    if peft is not None and transformers is not None:
        if model == "tiny" or adapter is None:
            model, adapter = (str(p) for p in _write_checkpoint(tmp / "float", shape))
        base = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
        net = peft.PeftModel.from_pretrained(base, adapter, is_trainable=True)
        impl = f"transformers {transformers.__version__} + peft {peft.__version__}"

        def loss():
            return net(input_ids=ids, labels=ids).loss
    else:
        net = _TorchLlama(shape)
        impl = f"torch {torch.__version__} (plain LLaMA, transformers/peft not installed)"

        def loss():
            return net.loss(ids)
    net.train()
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    walls, cpus = [], []
    for _ in range(rounds + 1):
        t0, c0 = time.perf_counter(), _cpu_seconds()
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_seconds() - c0)
    return {"seconds": statistics.median(walls[1:]), "cpu_seconds": statistics.median(cpus[1:]),
            "impl": impl, "rounds": rounds, "threads": torch.get_num_threads()}


def _TorchLlama(shape: dict[str, int]):  # noqa: N802  (torch imported on use)
    """A plain torch LLaMA of ``shape`` with LoRA (r = `LORA` r) on q and v, the float
    step's fallback when transformers or peft is missing."""
    from torch import nn

    v, h, f, n, heads = (shape[k] for k in ("vocab", "hidden", "ffn", "layers", "heads"))
    hd, r = h // heads, LORA["r"]

    class Lora(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Linear(h, h, bias=False).requires_grad_(False)
            self.a = nn.Linear(h, r, bias=False)
            self.b = nn.Linear(r, h, bias=False)

        def forward(self, x):
            return self.w(x) + self.b(self.a(x)) * (LORA["alpha"] / r)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = nn.RMSNorm(h), nn.RMSNorm(h)
            self.q, self.v = Lora(), Lora()
            self.k, self.o = nn.Linear(h, h, bias=False), nn.Linear(h, h, bias=False)
            self.gate, self.up = nn.Linear(h, f, bias=False), nn.Linear(h, f, bias=False)
            self.down = nn.Linear(f, h, bias=False)

        def forward(self, x):
            B, T, _ = x.shape
            y = self.n1(x)
            q, k, vv = (m(y).view(B, T, heads, hd).transpose(1, 2)
                        for m in (self.q, self.k, self.v))
            a = nn.functional.scaled_dot_product_attention(q, k, vv, is_causal=True)
            x = x + self.o(a.transpose(1, 2).reshape(B, T, h))
            y = self.n2(x)
            return x + self.down(nn.functional.silu(self.gate(y)) * self.up(y))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(v, h)
            self.layers = nn.ModuleList(Layer() for _ in range(n))
            self.norm, self.head = nn.RMSNorm(h), nn.Linear(h, v, bias=False)
            for p in [*self.emb.parameters(), *self.head.parameters()]:
                p.requires_grad_(False)
            for layer in self.layers:
                for m in (layer.k, layer.o, layer.gate, layer.up, layer.down, layer.n1,
                          layer.n2):
                    m.requires_grad_(False)

        def loss(self, ids):
            x = self.emb(ids)
            for layer in self.layers:
                x = layer(x)
            logits = self.head(self.norm(x))
            return nn.functional.cross_entropy(logits[:, :-1].reshape(-1, v),
                                               ids[:, 1:].reshape(-1))

    return Net()


def _checkpoint_shape(model: str) -> dict[str, int]:
    """The shape keys of `SIZES` read from a checkpoint's config.json."""
    c = json.loads((Path(model) / "config.json").read_text())
    heads = int(c["num_attention_heads"])
    out = dict(vocab=int(c["vocab_size"]), hidden=int(c["hidden_size"]),
               ffn=int(c["intermediate_size"]), layers=int(c["num_hidden_layers"]),
               heads=heads, kv_heads=int(c.get("num_key_value_heads") or heads))
    if c.get("head_dim"):
        out["head_dim"] = int(c["head_dim"])
    return out


def _checkpoint_params(model: str) -> int:
    from safetensors import safe_open

    n = 0
    for f in sorted(Path(model).glob("*.safetensors")):
        with safe_open(str(f), "pt") as st:
            for k in st.keys():  # noqa: SIM118  (safe_open has no __iter__)
                shape = st.get_slice(k).get_shape()
                c = 1
                for s in shape:
                    c *= s
                n += c
    return n


def run(*, sizes: Sequence[str], out_dir, model: str | None = None,
        adapter: str | None = None, steps: int = 1, batch: int | None = None,
        seq: int | None = None, profile: str = "fast", repeat: int = 1, warmup: int = 0,
        log: Callable[[str], None] | None = None,
        timeout: float | None = None, prover_cache=None,
        prover_cache_max_bytes: int | None = None) -> dict[str, Any]:
    """Measure every size (and ``model``) in a fresh process each; write
    ``out_dir/bench.json`` and ``out_dir/bench.png``; return the document.  ``batch`` /
    ``seq`` None: each size's own (`batch_seq`; 1 × 16 for ``model``).
    ``prover_cache`` / ``prover_cache_max_bytes``: `measure`'s."""
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise ConfigError(f"bench sizes {bad}; allowed: {', '.join(SIZES)}")
    if not sizes and model is None:
        raise ConfigError("bench: nothing to measure (give --sizes or --model)")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"bench --out {out}: {e.strerror or e}") from None
    jobs = [dict(size=s, **dict(zip(("batch", "seq"), batch_seq(s, batch, seq))))
            for s in sizes]
    if model is not None:
        jobs.append(dict(size=Path(model).name or "model", model=model, adapter=adapter,
                         **dict(zip(("batch", "seq"), batch_seq(None, batch, seq)))))
    results = []
    for job in jobs:
        # the worker logs the prover's phases on its stderr, which `_spawn` passes on
        job.update(steps=steps, profile=profile, repeat=repeat, warmup=warmup,
                   progress="log")
        if prover_cache is not None:
            job["prover_cache"] = os.path.abspath(os.fspath(prover_cache))
            if prover_cache_max_bytes is not None:
                job["prover_cache_max_bytes"] = int(prover_cache_max_bytes)
        if log:
            log(f"bench: {job['size']} ({steps} step(s), batch {job['batch']}, seq "
                f"{job['seq']}, profile {profile}) in a fresh process …")
        results.append(_spawn(job, timeout))
        if log:
            for line in report(results[-1]):
                log(line)
    doc = {"results": results, "json": str(out / "bench.json"), "png": None,
           "settings": {"sizes": list(sizes), "model": model, "steps": steps,
                        "batch": batch, "seq": seq, "profile": profile, "repeat": repeat,
                        "warmup": warmup,
                        "prover_cache": None if prover_cache is None else
                        os.path.abspath(os.fspath(prover_cache)),
                        "prover_cache_max_bytes": prover_cache_max_bytes}}
    doc["png"] = plot(results, out / "bench.png")
    from .proof import write_atomic

    write_atomic(out / "bench.json", (json.dumps(doc, indent=2, sort_keys=True) + "\n")
                 .encode())
    return doc


def report(r: dict[str, Any], top: int = 12) -> list[str]:
    """The throughput lines of one result: prove CPU per activation element, the float
    step and the ratio, and the per-op-kind table (``top`` rows); none for a result
    without them."""
    if "float_step" not in r or "op_table" not in r:
        return []
    fs = r["float_step"]
    lines = [
        f"bench: {r['size']}: prove CPU {r['prove_cpu_seconds']:.2f} s (wall "
        f"{r['prove_seconds']:.2f} s) over {r['activation_elements']:,} activation elements"
        f" = {r['prove_cpu_us_per_activation']:.2f} µs CPU per activation element",
        f"bench: {r['size']}: float step {fs['seconds'] * 1e3:.1f} ms wall, "
        f"{fs['cpu_seconds'] * 1e3:.1f} ms CPU ({fs['impl']}, {fs['threads']} threads); "
        f"overhead ×{r['overhead_cpu']:.0f} CPU, ×{r['overhead_wall']:.0f} wall",
        f"bench: {r['size']}: {'op kind / [phase]':<26} {'count':>6} {'seconds':>9} {'share':>7}",
    ]
    if r.get("warmup"):
        lines.insert(2, f"bench: {r['size']}: timed after {r['warmup']} untimed warm-up "
                        f"prove(s) in the same process (CPU "
                        + ", ".join(f"{c:.2f}" for c in r.get("warmup_cpu_seconds") or [])
                        + " s)")
    for row in r["op_table"][:top]:
        lines.append(f"bench: {r['size']}:   {row['kind']:<24} {row['count']:>6} "
                     f"{row['seconds']:>9.3f} {100 * row['share']:>6.1f}%")
    return lines


def _spawn(job: dict[str, Any], timeout: float | None,
           stream=None) -> dict[str, Any]:
    """Run one job in a fresh worker process; its stderr (the prover's phase progress)
    is passed on line by line to ``stream`` (default: this process's stderr) as it
    comes, prefixed with the size, and its tail kept for an error message."""
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "zklora.zkcore.bench", "--worker", json.dumps(job)]
    out = stream if stream is not None else sys.stderr
    tail: deque[str] = deque(maxlen=40)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)

    def relay() -> None:
        assert p.stderr is not None
        for line in p.stderr:
            tail.append(line)
            try:
                out.write(f"bench: {job['size']}: {line}")
                out.flush()
            except (OSError, ValueError):   # a closed stream: keep the tail only
                pass

    got: list[str] = []

    def collect() -> None:
        assert p.stdout is not None
        got.append(p.stdout.read())

    threads = [threading.Thread(target=f, name=f"zklora-bench-{f.__name__}", daemon=True)
               for f in (relay, collect)]
    for t in threads:
        t.start()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise ZkLoraError(f"bench {job['size']}: timed out after {timeout} s") from None
    finally:
        for t in threads:
            t.join(timeout=5)
    lines = [ln for ln in "".join(got).splitlines() if ln.startswith("{")]
    try:
        doc = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise ZkLoraError(f"bench {job['size']}: worker failed (exit {p.returncode}): "
                          f"{''.join(tail).strip()[-500:]}") from None
    if not doc.get("ok"):
        raise ConfigError(f"bench {job['size']}: {doc.get('error')}")
    return doc["result"]


def plot(results: Sequence[dict[str, Any]], png: Path) -> str | None:
    """Time and peak memory against parameter count; None if matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = sorted(results, key=lambda r: r["params"])
    x = [r["params"] for r in rs]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(x, [r["prove_seconds"] for r in rs], "o-", label="prove")
    ax1.plot(x, [r["verify_seconds"] for r in rs], "s-", label="verify")
    ax1.set_xlabel("model size (base parameters)")
    ax1.set_ylabel("time (s)")
    ax1.set_title("prove / verify time")
    ax1.legend()
    ax2.plot(x, [r["peak_rss"] / 2**20 for r in rs], "o-", color="tab:red",
             label="peak memory (MiB)")
    ax2.set_xlabel("model size (base parameters)")
    ax2.set_ylabel("peak resident memory (MiB)")
    ax2.set_title("memory and proof size")
    ax3 = ax2.twinx()
    ax3.plot(x, [r["proof_size"] / 2**10 for r in rs], "^--", color="tab:green",
             label="proof size (KiB)")
    ax3.set_ylabel("proof size (KiB)")
    from matplotlib.ticker import NullLocator

    def eng(n: int) -> str:
        return f"{n / 1e6:.2f}M" if n >= 10**6 else f"{n / 1e3:.0f}k"

    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(x, [f"{eng(n)}\n{r['size']}" for n, r in zip(x, rs)])
        ax.grid(True, alpha=0.3)
    for ax in (ax1, ax2, ax3):
        ax.set_ylim(bottom=0)
    h2, l2 = ax2.get_legend_handles_labels()
    h3, l3 = ax3.get_legend_handles_labels()
    ax2.legend(h2 + h3, l2 + l3, loc="upper left")
    r0 = rs[0]
    shapes = {(r["batch"], r["seq"]) for r in rs}
    bs = (f"batch {r0['batch']}, seq {r0['seq']}" if len(shapes) == 1 else
          "batch × seq " + ", ".join(f"{r['size']} {r['batch']}×{r['seq']}" for r in rs))
    fig.suptitle(f"zkLoRA, profile {r0['profile']}: {r0['steps']} training step(s), {bs}, "
                 f"one fresh process per size")
    fig.tight_layout()
    tmp = png.with_name(f".{png.name}.part")
    fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    os.replace(tmp, png)
    return str(png)


def _worker(arg: str) -> int:
    try:
        job = json.loads(arg)
        res = measure(job.pop("size"), **job) if "size" in job else None
        print(json.dumps({"ok": True, "result": res}), flush=True)
        return 0
    except ZkLoraError as e:
        print(json.dumps({"ok": False, "error": str(e)}), flush=True)
        return 3


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(_worker(sys.argv[2]))
    sys.exit("usage: python -m zklora.zkcore.bench --worker JSON")
