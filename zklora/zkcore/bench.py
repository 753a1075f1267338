"""``zklora bench``: prove/verify time, proof size and peak memory over a size sweep.

Each size runs in a fresh Python process (``python -m zklora.zkcore.bench --worker``)
so its peak resident memory (``ru_maxrss``) is its own.  The built-in shapes are
LLaMA architectures with seeded random weights written as a Hugging Face directory
(``tiny`` is the built-in tiny model itself); ``model`` adds a real checkpoint.  The
results go to ``bench.json``; ``bench.png`` plots time and memory against the model's
parameter count (matplotlib, the ``plot`` extra; skipped when it is not installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError, ZkLoraError

#: built-in shapes: LLaMA architectures (tiny = the built-in tiny model).  ``act_bits``:
#: the activation range (the model's default is 10 bits); at hidden 128 and more the
#: default range makes the RMSNorm sum of squares exceed its 2^62 bound, so the wider
#: shapes declare a narrower range (ample for these random weights).
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(vocab=256, hidden=64, ffn=128, layers=2, heads=4),
    "small": dict(vocab=256, hidden=128, ffn=256, layers=2, heads=4, act_bits=9),
    "medium": dict(vocab=512, hidden=256, ffn=512, layers=2, heads=8, act_bits=8),
}
LORA = dict(r=4, alpha=8, targets=("q_proj", "v_proj"))


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
            steps: int = 1, batch: int = 1, seq: int = 16, profile: str = "fast",
            repeat: int = 1, workdir: str | None = None) -> dict[str, Any]:
    """One measurement in this process (what a worker runs); with ``repeat`` > 1 the
    fastest of that many prove/verify runs (peak memory is the process's)."""
    from . import pyapi

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_p = Path(tmp)
        extra: dict[str, Any] = {}
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
        runs = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            res = pyapi.prove(model=model, adapter=adapter, steps=steps, profile=profile,
                              config={"task": {"model": "llama-train"},
                                      "model": {"batch": batch, "seq": seq, **extra}},
                              out=tmp_p / "bench.zkp")
            wall = time.perf_counter() - t0
            ver = pyapi.verify(tmp_p / "bench.zkp")
            runs.append((res.prove_seconds, res, wall, ver))
        compile_s = sum(r[1].compile_seconds for r in runs)
        _, res, wall, _ = min(runs, key=lambda r: r[0])
        ver = min((r[3] for r in runs), key=lambda v: v.seconds)
    from .progress import peak_rss_bytes

    return {"size": size, "params": params, "steps": steps, "batch": batch, "seq": seq,
            "act_bits": extra.get("act_bits"),
            "profile": profile, "prove_seconds": res.prove_seconds, "prove_wall": wall,
            "verify_seconds": ver.seconds, "proof_size": res.proof_size,
            "peak_rss": peak_rss_bytes(), "compile_seconds": compile_s, "repeat": repeat,
            "timings": res.timings}


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
        adapter: str | None = None, steps: int = 1, batch: int = 1, seq: int = 16,
        profile: str = "fast", repeat: int = 1, log: Callable[[str], None] | None = None,
        timeout: float | None = None) -> dict[str, Any]:
    """Measure every size (and ``model``) in a fresh process each; write
    ``out_dir/bench.json`` and ``out_dir/bench.png``; return the document."""
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
    jobs = [dict(size=s) for s in sizes]
    if model is not None:
        jobs.append(dict(size=Path(model).name or "model", model=model, adapter=adapter))
    results = []
    for job in jobs:
        job.update(steps=steps, batch=batch, seq=seq, profile=profile, repeat=repeat)
        if log:
            log(f"bench: {job['size']} ({steps} step(s), batch {batch}, seq {seq}, "
                f"profile {profile}) in a fresh process …")
        results.append(_spawn(job, timeout))
    doc = {"results": results, "json": str(out / "bench.json"), "png": None,
           "settings": {"sizes": list(sizes), "model": model, "steps": steps,
                        "batch": batch, "seq": seq, "profile": profile, "repeat": repeat}}
    doc["png"] = plot(results, out / "bench.png")
    from .proof import write_atomic

    write_atomic(out / "bench.json", (json.dumps(doc, indent=2, sort_keys=True) + "\n")
                 .encode())
    return doc


def _spawn(job: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "zklora.zkcore.bench", "--worker", json.dumps(job)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ZkLoraError(f"bench {job['size']}: timed out after {timeout} s") from None
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    try:
        doc = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise ZkLoraError(f"bench {job['size']}: worker failed (exit {p.returncode}): "
                          f"{p.stderr.strip()[-500:]}") from None
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
    fig.suptitle(f"zkLoRA, profile {r0['profile']}: {r0['steps']} training step(s), batch "
                 f"{r0['batch']}, seq {r0['seq']}, one fresh process per size")
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
