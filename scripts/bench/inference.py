"""Inference benchmark: one small CNN and one small transformer encoder through eager PyTorch,
torch.compile, TorchScript, torch.export, ONNX Runtime, OpenVINO, Keras (TensorFlow backend, XLA)
and JAX (Flax, jit), on the CPU, with the same weights everywhere.

    .venvs/main/bin/python -m scripts.bench.inference    # full run, writes docs/data/inference-bench.csv
    .venvs/main/bin/python -m scripts.bench.inference --smoke --out /tmp/x.csv   # tiny models, 2 processes

The full run starts 90 measuring processes (9 engines x 2 models x 5 processes) and takes about
15 to 20 minutes on a quiet 2-core machine; run it on a machine with nothing else running.

How it runs. A first process builds both PyTorch models from a seed, writes their weights as
NumPy arrays, converts them once (TorchScript trace + freeze, torch.export, ONNX export with a
dynamic batch axis), and computes the eager reference outputs. Then every engine and model is a
configuration that runs in several independent worker processes, in the randomised interleaved
order of scripts/bench/harness.py, each importing only what it needs (ONNX Runtime, OpenVINO,
TensorFlow or JAX do not import torch), pinned to the same CPUs and threads, with empty caches. A
worker loads the converted model (or, for Keras and JAX, re-implements the architecture in that
framework and copies the PyTorch weights into it), calls it once per batch size (the first call
compiles where the engine compiles lazily), warms up, then times single calls at batch 1 and
batch 32 on fixed inputs for at least a minimum measured time. Every engine's output is compared
with eager PyTorch's on the same inputs. Engines whose ranges of per-process median latencies
overlap at the same model and batch are listed in each other's latency_ties: the run cannot tell
them apart.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, median, sig, summarise

DEFAULT_OUT = ROOT / "docs" / "data" / "inference-bench.csv"
SCRIPT = "scripts/bench/inference.py"

ENGINES = ("eager", "torch-compile", "torchscript", "torch-export", "onnxruntime", "openvino-f32",
           "openvino-default", "keras-xla", "jax-jit")
MODELS = ("cnn", "transformer")
PACKAGES = ["torch", "onnx", "onnxscript", "onnxruntime", "openvino", "tensorflow-cpu", "keras", "jax", "jaxlib",
            "flax", "numpy"]

SETTINGS = {
    "full": {
        "cnn": {"image": 32, "channels": [32, 64, 128], "classes": 10},
        "transformer": {"seq": 64, "dim": 128, "heads": 4, "ff": 512, "layers": 2, "classes": 10},
        "batches": [1, 32], "warmup_calls": 10, "warmup_time": 0.2, "min_time": 1.0, "min_calls": 20,
    },
    "smoke": {
        "cnn": {"image": 8, "channels": [4, 8], "classes": 3},
        "transformer": {"seq": 4, "dim": 8, "heads": 2, "ff": 16, "layers": 1, "classes": 3},
        "batches": [1, 4], "warmup_calls": 1, "warmup_time": 0.0, "min_time": 0.02, "min_calls": 3,
    },
}
SEED = 0
LN_EPS = 1e-5
PREPARE_TIMEOUT = 900  # seconds for the converting process, whatever --timeout says for the measuring ones
# The conversion each engine loads (its time counts in the engine's one-time cost).
CONVERSION = {"eager": None, "torch-compile": None, "torchscript": "torchscript", "torch-export": "torch-export",
              "onnxruntime": "onnx", "openvino-f32": "onnx", "openvino-default": "onnx", "keras-xla": None,
              "jax-jit": None}


# ---------------------------------------------------------------------------------------------
# The two architectures, once per framework. Layouts: PyTorch NCHW, Keras and Flax NHWC; the
# inputs are the same numbers, transposed. Global average pooling before the head keeps the
# result independent of the layout.

def torch_models():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SmallCNN(nn.Module):
        def __init__(self, channels, classes, **_):
            super().__init__()
            layers, c_in = [], 3
            for c in channels:
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(c_in, classes)

        def forward(self, x):
            return self.head(self.features(x).mean(dim=(2, 3)))

    class Block(nn.Module):
        def __init__(self, dim, heads, ff):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = nn.LayerNorm(dim, eps=LN_EPS), nn.LayerNorm(dim, eps=LN_EPS)
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
            self.fc1, self.fc2 = nn.Linear(dim, ff), nn.Linear(ff, dim)

        def forward(self, x):
            b, t, d = x.shape
            qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.unbind(0)
            att = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
            x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class SmallEncoder(nn.Module):
        def __init__(self, seq, dim, heads, ff, layers, classes):
            super().__init__()
            self.blocks = nn.Sequential(*[Block(dim, heads, ff) for _ in range(layers)])
            self.norm = nn.LayerNorm(dim, eps=LN_EPS)
            self.head = nn.Linear(dim, classes)

        def forward(self, x):
            return self.head(self.norm(self.blocks(x)).mean(dim=1))

    return {"cnn": SmallCNN, "transformer": SmallEncoder}


def input_shape(model: str, cfg: dict, batch: int, layout: str = "torch") -> tuple:
    if model == "cnn":
        s = cfg["image"]
        return (batch, 3, s, s) if layout == "torch" else (batch, s, s, 3)
    return (batch, cfg["seq"], cfg["dim"])


def to_layout(x, model: str, layout: str):
    """Inputs are stored in PyTorch's layout; Keras and Flax take images channels-last."""
    return x.transpose(0, 2, 3, 1).copy() if model == "cnn" and layout == "nhwc" else x


def keras_model(model: str, cfg: dict, w: dict):
    import keras
    from keras import layers, ops

    if model == "cnn":
        net = keras.Sequential([keras.Input(input_shape(model, cfg, 1, "nhwc")[1:])])
        for c in cfg["channels"]:
            net.add(layers.Conv2D(c, 3, padding="same", activation="relu"))
            net.add(layers.MaxPooling2D(2))
        net.add(layers.GlobalAveragePooling2D())
        net.add(layers.Dense(cfg["classes"]))
        convs = [layer for layer in net.layers if isinstance(layer, layers.Conv2D)]
        for i, conv in enumerate(convs):
            idx = 3 * i
            conv.set_weights([w[f"features.{idx}.weight"].transpose(2, 3, 1, 0), w[f"features.{idx}.bias"]])
        net.layers[-1].set_weights([w["head.weight"].T, w["head.bias"]])
        return net

    heads, dim = cfg["heads"], cfg["dim"]

    class Block(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.ln1, self.ln2 = layers.LayerNormalization(epsilon=LN_EPS), layers.LayerNormalization(epsilon=LN_EPS)
            self.qkv, self.proj = layers.Dense(3 * dim), layers.Dense(dim)
            self.fc1, self.fc2 = layers.Dense(cfg["ff"]), layers.Dense(dim)

        def call(self, x):
            b, t = ops.shape(x)[0], ops.shape(x)[1]
            qkv = ops.transpose(ops.reshape(self.qkv(self.ln1(x)), (b, t, 3, heads, dim // heads)), (2, 0, 3, 1, 4))
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = ops.softmax(ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) * (dim // heads) ** -0.5, axis=-1)
            x = x + self.proj(ops.reshape(ops.transpose(ops.matmul(att, v), (0, 2, 1, 3)), (b, t, dim)))
            return x + self.fc2(keras.activations.gelu(self.fc1(self.ln2(x)), approximate=False))

    inputs = keras.Input(input_shape(model, cfg, 1)[1:])
    blocks = [Block() for _ in range(cfg["layers"])]
    h = inputs
    for block in blocks:
        h = block(h)
    norm, head = layers.LayerNormalization(epsilon=LN_EPS), layers.Dense(cfg["classes"])
    net = keras.Model(inputs, head(ops.mean(norm(h), axis=1)))
    for i, block in enumerate(blocks):
        p = f"blocks.{i}."
        for name in ("ln1", "ln2"):
            getattr(block, name).set_weights([w[p + name + ".weight"], w[p + name + ".bias"]])
        for name in ("qkv", "proj", "fc1", "fc2"):
            getattr(block, name).set_weights([w[p + name + ".weight"].T, w[p + name + ".bias"]])
    norm.set_weights([w["norm.weight"], w["norm.bias"]])
    head.set_weights([w["head.weight"].T, w["head.bias"]])
    return net


def flax_model(model: str, cfg: dict, w: dict):
    """A Flax (linen) module and its parameters, copied from the PyTorch weights."""
    import jax
    import jax.numpy as jnp
    from flax import linen as nn

    dense = lambda name: {"kernel": w[name + ".weight"].T, "bias": w[name + ".bias"]}  # noqa: E731
    norm = lambda name: {"scale": w[name + ".weight"], "bias": w[name + ".bias"]}  # noqa: E731

    if model == "cnn":
        class SmallCNN(nn.Module):
            @nn.compact
            def __call__(self, x):
                for i, c in enumerate(cfg["channels"]):
                    x = nn.max_pool(nn.relu(nn.Conv(c, (3, 3), padding="SAME", name=f"conv{i}")(x)), (2, 2), (2, 2))
                return nn.Dense(cfg["classes"], name="head")(x.mean(axis=(1, 2)))

        params = {f"conv{i}": {"kernel": w[f"features.{3 * i}.weight"].transpose(2, 3, 1, 0),
                               "bias": w[f"features.{3 * i}.bias"]} for i in range(len(cfg["channels"]))}
        params["head"] = dense("head")
        return SmallCNN(), params

    heads, dim = cfg["heads"], cfg["dim"]

    class Block(nn.Module):
        @nn.compact
        def __call__(self, x):
            b, t, d = x.shape
            h = nn.Dense(3 * d, name="qkv")(nn.LayerNorm(epsilon=LN_EPS, name="ln1")(x))
            q, k, v = h.reshape(b, t, 3, heads, d // heads).transpose(2, 0, 3, 1, 4)
            att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) * (d // heads) ** -0.5, axis=-1)
            x = x + nn.Dense(d, name="proj")((att @ v).transpose(0, 2, 1, 3).reshape(b, t, d))
            h = nn.Dense(cfg["ff"], name="fc1")(nn.LayerNorm(epsilon=LN_EPS, name="ln2")(x))
            return x + nn.Dense(d, name="fc2")(jax.nn.gelu(h, approximate=False))

    class SmallEncoder(nn.Module):
        @nn.compact
        def __call__(self, x):
            for i in range(cfg["layers"]):
                x = Block(name=f"block{i}")(x)
            return nn.Dense(cfg["classes"], name="head")(jnp.mean(nn.LayerNorm(epsilon=LN_EPS, name="norm")(x), axis=1))

    params = {f"block{i}": {**{n: norm(f"blocks.{i}.{n}") for n in ("ln1", "ln2")},
                            **{n: dense(f"blocks.{i}.{n}") for n in ("qkv", "proj", "fc1", "fc2")}}
              for i in range(cfg["layers"])}
    params["norm"], params["head"] = norm("norm"), dense("head")
    return SmallEncoder(), params


# ---------------------------------------------------------------------------------------------
# Worker processes

def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def prepare(workdir: Path, setting: str) -> None:
    """Build the PyTorch models, save weights and inputs, convert once, compute eager outputs."""
    import numpy as np
    import torch

    s = SETTINGS[setting]
    classes = torch_models()
    record = {}
    for model in MODELS:
        torch.manual_seed(SEED)
        net = classes[model](**s[model]).eval()
        np.savez(workdir / f"{model}.weights.npz", **{k: v.numpy() for k, v in net.state_dict().items()})
        torch.save(net.state_dict(), workdir / f"{model}.pt")
        rng = np.random.default_rng(SEED)
        inputs = {}
        for b in s["batches"]:
            x = rng.standard_normal(input_shape(model, s[model], b)).astype(np.float32)
            inputs[b] = torch.from_numpy(x)
            np.save(workdir / f"{model}.input.{b}.npy", x)
            with torch.inference_mode():
                np.save(workdir / f"{model}.eager.{b}.npy", net(inputs[b]).numpy())
        example = inputs[max(s["batches"])]  # batch > 1, so that export can keep the batch size symbolic
        times = {}
        with torch.inference_mode():
            t0 = time.perf_counter()
            traced = torch.jit.freeze(torch.jit.trace(net, example))
            torch.jit.save(traced, workdir / f"{model}.ts.pt")
            times["torchscript"] = time.perf_counter() - t0
        batch = torch.export.Dim("batch", min=1, max=1024)
        t0 = time.perf_counter()
        exported = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
        torch.export.save(exported, workdir / f"{model}.pt2")
        times["torch-export"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        torch.onnx.export(net, (example,), workdir / f"{model}.onnx", input_names=["x"], output_names=["y"],
                          dynamic_shapes=({0: batch},), dynamo=True, verbose=False)
        times["onnx"] = time.perf_counter() - t0
        record[model] = times
    harness.emit(record, PACKAGES)


def load_engine(engine: str, model: str, cfg: dict, workdir: Path):
    """Return (call, to_input, precision): call(x) computes and materialises the output on the host."""
    import numpy as np

    if engine in ("eager", "torch-compile", "torchscript", "torch-export"):
        import torch

        torch.set_num_threads(harness.worker_threads())
        if engine in ("eager", "torch-compile"):
            net = torch_models()[model](**cfg).eval()
            net.load_state_dict(torch.load(workdir / f"{model}.pt"))
        elif engine == "torchscript":
            net = torch.jit.load(workdir / f"{model}.ts.pt")
        else:
            net = torch.export.load(workdir / f"{model}.pt2").module()
        if engine == "torch-compile":
            # dynamic=False: each new batch size compiles a graph of its own, specialised to that shape,
            # on its first call (which is when Dynamo and Inductor run).
            fn = torch.compile(net, dynamic=False)

            def call(x):
                with torch.inference_mode():
                    return fn(x).numpy()
        else:
            def call(x):
                with torch.inference_mode():
                    return net(x).numpy()
        return call, torch.from_numpy, "f32"

    if engine == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = harness.worker_threads()
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(workdir / f"{model}.onnx"), so, providers=["CPUExecutionProvider"])
        return (lambda x: session.run(None, {"x": x})[0]), (lambda x: x), "f32"

    if engine.startswith("openvino"):
        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": harness.worker_threads()}
        if engine == "openvino-f32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        compiled = core.compile_model(core.read_model(workdir / f"{model}.onnx"), "CPU", config)
        precision = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()  # what the CPU plugin chose
        request = compiled.create_infer_request()

        def call(x):
            return request.infer({0: x})[0].copy()
        return call, (lambda x: x), precision

    weights = dict(np.load(workdir / f"{model}.weights.npz"))
    if engine == "keras-xla":
        import tensorflow as tf

        net = keras_model(model, cfg, weights)
        fn = tf.function(lambda x: net(x, training=False), jit_compile=True)
        return (lambda x: fn(x).numpy()), (lambda x: tf.constant(to_layout(x, model, "nhwc"))), "f32"

    if engine == "jax-jit":
        import jax
        import jax.numpy as jnp

        module, params = flax_model(model, cfg, weights)
        params = jax.tree_util.tree_map(jnp.asarray, params)
        fn = jax.jit(lambda p, x: module.apply({"params": p}, x))
        return (lambda x: np.asarray(fn(params, x))), (lambda x: jax.device_put(to_layout(x, model, "nhwc"))), "f32"

    raise ValueError(f"unknown engine {engine!r}")


def run_engine(engine: str, model: str, workdir: Path, setting: str, min_time: float) -> None:
    """Time one engine on one model at every batch size; print the results for the parent."""
    threads = harness.worker_threads()
    s = SETTINGS[setting]
    cfg = s[model]
    if engine == "keras-xla":
        import keras  # noqa: F401  (import cost stays out of the measured load time)
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif engine == "jax-jit":
        import flax.linen  # noqa: F401
        import jax  # noqa: F401
    elif engine.startswith("openvino"):
        import openvino  # noqa: F401
    elif engine == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        import torch  # noqa: F401
    import numpy as np

    baseline = rss_mib()
    t0 = time.perf_counter()
    call, to_input, precision = load_engine(engine, model, cfg, workdir)
    load_s = time.perf_counter() - t0
    results = []
    for b in s["batches"]:
        x_np = np.load(workdir / f"{model}.input.{b}.npy")
        reference = np.load(workdir / f"{model}.eager.{b}.npy")
        x = to_input(x_np)
        t0 = time.perf_counter()
        y = call(x)
        first_s = time.perf_counter() - t0
        samples = harness.time_calls(lambda: call(x), min_time, s["min_calls"], s["warmup_time"],
                                           s["warmup_calls"])
        assert y.shape == reference.shape, (engine, model, y.shape, reference.shape)
        results.append({"batch": b, "samples": samples, "first_s": first_s, "peak_rss": peak_rss_mib(),
                        "max_abs_diff": float(np.abs(y.astype(np.float64) - reference).max())})
    harness.emit({"precision": precision, "load_s": load_s, "baseline_rss": baseline, "results": results},
                       PACKAGES)


# ---------------------------------------------------------------------------------------------
# Parent: drive the workers, summarise, write the CSV

def rows_for(engine: str, model: str, processes: list[dict], converted: dict) -> list[dict]:
    """One row per batch size from one engine's processes on one model (speed-ups and ties come later)."""
    convert_s = converted[model][CONVERSION[engine]] if CONVERSION[engine] else 0.0
    rows = []
    for i, batch in enumerate(processes[0]["results"]):
        at = [p["results"][i] for p in processes]
        latency = summarise([r["samples"] for r in at]).scaled(1000)
        setup = summarise([[convert_s + p["load_s"] + r["first_s"]] for p, r in zip(processes, at)])
        rows.append({
            "engine": engine, "model": model, "batch": batch["batch"],
            "series": f"{model}, batch {batch['batch']}", "precision": processes[0]["precision"],
            "latency_p50": sig(latency.median), "latency_q1": sig(latency.q1), "latency_q3": sig(latency.q3),
            "latency_p90": sig(latency.p90), "latency_p50_low": sig(latency.low),
            "latency_p50_high": sig(latency.high), "repeats": latency.samples,
            "throughput": sig(batch["batch"] / latency.median * 1000),
            "convert": round(convert_s, 3), "load": round(median([p["load_s"] for p in processes]), 3),
            "first_call": round(median([r["first_s"] for r in at]), 3),
            "setup": round(setup.median, 3), "setup_low": round(setup.low, 3), "setup_high": round(setup.high, 3),
            "peak_rss": round(median([r["peak_rss"] for r in at]), 1),
            "baseline_rss": round(median([p["baseline_rss"] for p in processes]), 1),
            "max_abs_diff": sig(max(r["max_abs_diff"] for r in at), 3),
        })
    return rows


def compare(rows: list[dict]) -> None:
    """Speed-ups over eager (with the range the two spreads allow) and the engines each row ties with."""
    groups: dict[tuple, dict[str, dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["batch"]), {})[row["engine"]] = row
    for group in groups.values():
        eager = group["eager"]
        tied = harness.ties({e: (r["latency_p50_low"], r["latency_p50_high"]) for e, r in group.items()})
        for engine, row in group.items():
            row["speedup"] = round(eager["latency_p50"] / row["latency_p50"], 3)
            row["speedup_low"] = round(eager["latency_p50_low"] / row["latency_p50_high"], 3)
            row["speedup_high"] = round(eager["latency_p50_high"] / row["latency_p50_low"], 3)
            row["latency_ties"] = ", ".join(tied[engine]) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny models and few calls, for tests")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--worker", choices=("prepare", "run"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=600)
    args = parser.parse_args(argv)
    setting = "smoke" if args.smoke else "full"
    min_time = args.min_time if args.min_time is not None else SETTINGS[setting]["min_time"]

    if args.worker == "prepare":
        prepare(args.workdir, setting)
        return 0
    if args.worker == "run":
        run_engine(args.engine, args.model, args.workdir, setting, min_time)
        return 0

    run = harness.Run.from_args(args, SCRIPT, PACKAGES, args.threads)

    from scripts.bench.provenance import write_csv  # PyYAML only

    engines = ["eager"] + [e for e in args.engines if e != "eager"]  # speed-ups need the eager row
    workdir = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    started = time.perf_counter()
    try:
        command = [sys.executable, "-m", "scripts.bench.inference", "--workdir", str(workdir)]
        command += ["--smoke"] if args.smoke else []
        converted = run.once(Job("preparing the models", command + ["--worker", "prepare"], args.threads),
                             workdir, PREPARE_TIMEOUT)
        print(f"prepared models in {time.perf_counter() - started:.0f} s", flush=True)
        jobs = [Job(f"engine {engine}, model {model}",
                    command + ["--worker", "run", "--engine", engine, "--model", model, "--min-time", str(min_time)],
                    args.threads, env={"KERAS_BACKEND": "tensorflow"}, key=(engine, model))
                for engine in engines for model in args.models]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)

    rows = []
    for outcome in outcomes:
        engine, model = outcome.job.key
        rows += [{**row, **run.provenance(outcome)} for row in rows_for(engine, model, outcome.results, converted)]
    compare(rows)
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
