"""Quantisation benchmark: one small trained model under every quantisation method that runs on this
CPU, with the size of the saved model, latency at batch 1 and 32, and accuracy and error against
float32, side by side in one run.

    .venvs/main/bin/python -m scripts.bench.quantisation    # full run, writes docs/data/quantisation-bench.csv
    .venvs/main/bin/python -m scripts.bench.quantisation --smoke --out /tmp/q.csv   # tiny model, for tests

The model is a multilayer perceptron (64 inputs, three hidden layers of 2048 with ReLU, 10 classes;
8.5 million parameters, 34 MB in float32, a little more than this CPU's 32 MiB L3 cache) trained
on scikit-learn's bundled digits by a first process, which saves its weights, the test split, a
calibration set drawn from the training split, the float32 logits and an ONNX export. Every method
quantises the three hidden layers' weights (the 2048 x 10 head stays in float32 everywhere, as
output layers usually do) in its own worker process, in the environment its library is installed
in: torchao and bitsandbytes in .venvs/finetune (requirements/finetune.in), ONNX Runtime in
.venvs/main, OpenVINO with NNCF in .venvs/nncf (requirements/nncf.in). A worker saves the
quantised model and reports its size on disk, then computes the test split once (accuracy,
agreement with float32's predictions, relative error of the logits) and times single calls at each
batch size.

How it runs (scripts/bench/harness.py): each method is a configuration run in several worker
processes in randomised interleaved order, pinned to THREADS CPUs with every library told to use
that many threads. Rows report the median latency with its quartiles (per process, then the median
over processes) and the lowest and highest process median. Speed-ups are against the float32
model of the same runtime, measured in the same run; methods whose ranges of process medians
overlap are listed in each other's latency_ties.

The full run starts 55 processes (11 methods x 5) and takes about 10 minutes on a quiet 2-core
machine; run it with nothing else running.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, median, sig, summarise

DEFAULT_OUT = ROOT / "docs" / "data" / "quantisation-bench.csv"
SCRIPT = "scripts/bench/quantisation.py"
THREADS = 2
SEED = 0
PREPARE_TIMEOUT = 600
PACKAGES = ["torch", "torchao", "bitsandbytes", "onnx", "onnxruntime", "openvino", "nncf", "numpy", "scikit-learn"]
SETTINGS = {
    "full": {"hidden": 2048, "epochs": 30, "calibration": 300, "batches": [1, 32], "min_time": 1.0, "min_calls": 20,
             "warmup_time": 0.2},
    "smoke": {"hidden": 128, "epochs": 3, "calibration": 16, "batches": [1, 4], "min_time": 0.01, "min_calls": 3,
              "warmup_time": 0.0},
}
LAYERS = 3  # hidden layers; the Linear modules are net.0, net.2, net.4 and the head net.6
HEAD = f"net.{2 * LAYERS}"


@dataclass(frozen=True)
class Method:
    name: str
    env: str            # the environment under .venvs/ whose Python runs the worker
    runtime: str
    weights: str        # the hidden layers' weight format
    activations: str    # what the hidden layers' matrix products take as input
    calibration: str    # the data the method looks at before quantising

    @property
    def python(self) -> Path:
        return harness.environment_python(self.env)


METHODS = (
    Method("float32", "finetune", "PyTorch", "float32", "float32", "none"),
    Method("torchao int8 weight-only", "finetune", "PyTorch", "int8, per channel", "float32", "none"),
    Method("torchao int8 dynamic", "finetune", "PyTorch", "int8, per channel", "int8, per token at run time", "none"),
    Method("torchao int4 weight-only", "finetune", "PyTorch", "int4, groups of 32", "float32", "none"),
    Method("bitsandbytes int8", "finetune", "PyTorch", "int8, per channel (LLM.int8)", "int8, per token at run time",
           "none"),
    Method("bitsandbytes nf4", "finetune", "PyTorch", "NF4, blocks of 64", "float32", "none"),
    Method("onnxruntime float32", "main", "ONNX Runtime", "float32", "float32", "none"),
    Method("onnxruntime int8 dynamic", "main", "ONNX Runtime", "int8, per tensor", "uint8, per tensor at run time",
           "none"),
    Method("onnxruntime int8 static", "main", "ONNX Runtime", "int8, per tensor", "int8, per tensor, calibrated",
           "calibration set"),
    Method("openvino float32", "nncf", "OpenVINO", "float32", "float32", "none"),
    Method("openvino nncf int8", "nncf", "OpenVINO", "int8, per channel", "int8, per tensor, calibrated",
           "calibration set"),
)
BY_NAME = {m.name: m for m in METHODS}
REFERENCE = {"PyTorch": "float32", "ONNX Runtime": "onnxruntime float32", "OpenVINO": "openvino float32"}


# ---------------------------------------------------------------------------------------------
# The model and the data (first process, main environment)

def build_torch_model(hidden: int):
    from torch import nn

    sizes = [64] + [hidden] * LAYERS
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(*layers, nn.Linear(hidden, 10))

        def forward(self, x):
            return self.net(x)
    return MLP()


def prepare(workdir: Path, setting: dict) -> None:
    """Train the float32 model and save everything the workers load."""
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    torch.manual_seed(SEED)
    torch.set_num_threads(harness.worker_threads())
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.2, random_state=SEED,
                                                        stratify=digits.target)
    net = build_torch_model(setting["hidden"])
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(setting["epochs"]):
        for batch in torch.randperm(len(xt), generator=generator).split(64):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[batch]), yt[batch]).backward()
            optimiser.step()
    net.eval()
    with torch.inference_mode():
        logits = net(torch.from_numpy(x_test)).numpy()
    rng = np.random.default_rng(SEED)
    calibration = x_train[rng.choice(len(x_train), setting["calibration"], replace=False)]
    np.savez(workdir / "data.npz", x_test=x_test, y_test=y_test, logits=logits, calibration=calibration)
    torch.save(net.state_dict(), workdir / "float32.pt")
    batch = torch.export.Dim("batch", min=1, max=4096)
    torch.onnx.export(net, (torch.from_numpy(x_test[:8]),), workdir / "float32.onnx", input_names=["x"],
                      output_names=["y"], dynamic_shapes=({0: batch},), dynamo=True, external_data=False,
                      verbose=False)
    harness.emit({"accuracy": float((logits.argmax(1) == y_test).mean()), "parameters":
                  sum(p.numel() for p in net.parameters())}, PACKAGES)


# ---------------------------------------------------------------------------------------------
# One method (worker processes, each in its method's environment)

def torch_method(name: str, workdir: Path, setting: dict, folder: Path):
    """The quantised PyTorch model's forward function and its saved file."""
    import logging

    import torch
    from torch import nn

    torch.set_num_threads(harness.worker_threads())
    net = build_torch_model(setting["hidden"])
    net.load_state_dict(torch.load(workdir / "float32.pt"))
    net.eval()

    def hidden(module, fqn):
        return isinstance(module, nn.Linear) and fqn != HEAD
    if name.startswith("torchao"):
        logging.getLogger("torchao").setLevel(logging.ERROR)  # CUDA-only extensions that a CPU build cannot load
        from torchao.prototype.quantization.int4 import PrototypeInt4WeightOnlyConfig
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_

        config = {"torchao int8 weight-only": Int8WeightOnlyConfig(),
                  "torchao int8 dynamic": Int8DynamicActivationInt8WeightConfig(),
                  "torchao int4 weight-only": PrototypeInt4WeightOnlyConfig(group_size=32)}[name]
        quantize_(net, config, filter_fn=hidden)
    elif name.startswith("bitsandbytes"):
        import bitsandbytes as bnb

        for i in range(LAYERS):
            dense = net.net[2 * i]
            if name == "bitsandbytes int8":
                # threshold 6.0: LLM.int8()'s outlier split, the default of Transformers' BitsAndBytesConfig
                layer = bnb.nn.Linear8bitLt(dense.in_features, dense.out_features, has_fp16_weights=False,
                                            threshold=6.0)
                layer.weight = bnb.nn.Int8Params(dense.weight.data.clone(), requires_grad=False,
                                                 has_fp16_weights=False)
            else:
                layer = bnb.nn.Linear4bit(dense.in_features, dense.out_features, compute_dtype=torch.float32,
                                          quant_type="nf4")
                layer.weight = bnb.nn.Params4bit(dense.weight.data.clone(), requires_grad=False, quant_type="nf4")
            layer.bias = nn.Parameter(dense.bias.data.clone(), requires_grad=False)
            net.net[2 * i] = layer.to("cpu")  # moving to a device is what quantises the weights
    saved = folder / "model.pt"
    torch.save(net.state_dict(), saved)

    def forward(x):
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()
    return forward, [saved]


def onnx_head_node(path: Path) -> str:
    """The name of the graph's last matrix product: the head, which stays in float32."""
    import onnx

    products = [n.name for n in onnx.load(str(path)).graph.node if n.op_type in ("MatMul", "Gemm")]
    if len(products) != LAYERS + 1:
        raise SystemExit(f"{path}: expected {LAYERS + 1} matrix products, found {products}")
    return products[-1]


def onnxruntime_method(name: str, workdir: Path, calibration, folder: Path):
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)

    source = workdir / "float32.onnx"
    saved = folder / "model.onnx"
    head = [onnx_head_node(source)]
    if name == "onnxruntime float32":
        shutil.copy(source, saved)
    elif name == "onnxruntime int8 dynamic":
        quantize_dynamic(source, saved, weight_type=QuantType.QInt8, nodes_to_exclude=head)
    else:
        class Reader(CalibrationDataReader):
            def __init__(self):
                self.batches = iter([{"x": calibration[i:i + 32]} for i in range(0, len(calibration), 32)])

            def get_next(self):
                return next(self.batches, None)
        quantize_static(source, saved, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, nodes_to_exclude=head)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = harness.worker_threads(), 1
    session = ort.InferenceSession(str(saved), options, providers=["CPUExecutionProvider"])
    return (lambda x: session.run(None, {"x": x})[0]), [saved]


def openvino_method(name: str, workdir: Path, calibration, folder: Path):
    import openvino as ov

    model = ov.Core().read_model(str(workdir / "float32.onnx"))
    if name == "openvino nncf int8":
        import nncf

        head = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "MatMul"][-1]
        dataset = nncf.Dataset([calibration[i:i + 1] for i in range(len(calibration))])
        model = nncf.quantize(model, dataset, subset_size=len(calibration),
                              ignored_scope=nncf.IgnoredScope(names=[head]))
    saved = folder / "model.xml"
    ov.save_model(model, str(saved), compress_to_fp16=False)
    # f32 hint: on CPUs with bf16 units OpenVINO would otherwise compute float layers in bf16
    compiled = ov.Core().compile_model(str(saved), "CPU", {"INFERENCE_PRECISION_HINT": "f32",
                                                           "INFERENCE_NUM_THREADS": harness.worker_threads()})
    request = compiled.create_infer_request()
    return (lambda x: request.infer({0: x})[0].copy()), [saved, saved.with_suffix(".bin")]


def run_method(name: str, workdir: Path, setting: dict, min_time: float) -> None:
    """One process: quantise, save, check against float32 on the test split, time each batch size."""
    import numpy as np

    data = np.load(workdir / "data.npz")
    folder = Path(tempfile.mkdtemp(dir=workdir))
    runtime = BY_NAME[name].runtime
    if runtime == "PyTorch":
        forward, files = torch_method(name, workdir, setting, folder)
    elif runtime == "ONNX Runtime":
        forward, files = onnxruntime_method(name, workdir, data["calibration"], folder)
    else:
        forward, files = openvino_method(name, workdir, data["calibration"], folder)
    x_test, reference = data["x_test"], data["logits"].astype(np.float64)
    logits = np.concatenate([forward(x_test[i:i + 32]) for i in range(0, len(x_test), 32)]).astype(np.float64)
    quality = {"accuracy": float((logits.argmax(1) == data["y_test"]).mean()),
               "agreement": float((logits.argmax(1) == reference.argmax(1)).mean()),
               "rel_error": float(np.linalg.norm(logits - reference) / np.linalg.norm(reference)),
               "max_abs_error": float(np.abs(logits - reference).max())}
    timings = {}
    for batch in setting["batches"]:
        x = np.ascontiguousarray(x_test[:batch])
        timings[batch] = harness.time_calls(lambda: forward(x), min_time, setting["min_calls"], setting["warmup_time"])
    harness.emit({"size": sum(f.stat().st_size for f in files), **quality, "samples": timings}, PACKAGES)


# ---------------------------------------------------------------------------------------------
# Parent

def rows_from(outcomes: list, setting: dict, provenance) -> list[dict]:
    rows = []
    for outcome in outcomes:
        method, results = outcome.job.key, outcome.results
        for batch in setting["batches"]:
            latency = summarise([r["samples"][str(batch)] for r in results]).scaled(1000)
            rows.append({
                "method": method.name, "runtime": method.runtime, "weights": method.weights,
                "activations": method.activations, "calibration": method.calibration, "batch": batch,
                "series": f"batch {batch}",
                "size_mb": sig(median([r["size"] for r in results]) / 1e6),
                "latency_p50": sig(latency.median), "latency_q1": sig(latency.q1), "latency_q3": sig(latency.q3),
                "latency_p50_low": sig(latency.low), "latency_p50_high": sig(latency.high),
                "repeats": latency.samples,
                "accuracy": round(median([r["accuracy"] for r in results]), 4),
                "agreement": round(median([r["agreement"] for r in results]), 4),
                "rel_error": sig(max(r["rel_error"] for r in results), 3),
                "max_abs_error": sig(max(r["max_abs_error"] for r in results), 3),
                "reference": REFERENCE[method.runtime], **provenance(outcome),
            })
    compare(rows)
    return rows


def compare(rows: list[dict]) -> None:
    """Size ratio, speed-up against the same runtime's float32 model, and the ties of each row."""
    groups: dict[tuple, dict[str, dict]] = {}
    for row in rows:
        groups.setdefault((row["runtime"], row["batch"]), {})[row["method"]] = row
    for group in groups.values():
        tied = harness.ties({m: (r["latency_p50_low"], r["latency_p50_high"]) for m, r in group.items()})
        for name, row in group.items():
            ref = group[row["reference"]]
            row["size_ratio"] = round(ref["size_mb"] / row["size_mb"], 3)
            row["speedup"] = round(ref["latency_p50"] / row["latency_p50"], 3)
            row["speedup_low"] = round(ref["latency_p50_low"] / row["latency_p50_high"], 3)
            row["speedup_high"] = round(ref["latency_p50_high"] / row["latency_p50_low"], 3)
            row["latency_ties"] = ", ".join(tied[name]) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny model and few calls (for tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (schema beside the default)")
    parser.add_argument("--threads", type=int, default=THREADS, help="cores and threads every library may use")
    parser.add_argument("--methods", nargs="+", choices=list(BY_NAME), default=list(BY_NAME), metavar="METHOD",
                        help="methods to run (default: all; each runtime's float32 model is always added)")
    parser.add_argument("--worker", choices=["prepare", *BY_NAME], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=600)
    args = parser.parse_args(argv)
    setting = SETTINGS["smoke" if args.smoke else "full"]
    min_time = args.min_time if args.min_time is not None else setting["min_time"]
    if args.worker == "prepare":
        prepare(args.workdir, setting)
        return 0
    if args.worker:
        run_method(args.worker, args.workdir, setting, min_time)
        return 0

    methods = [m for m in METHODS if m.name in args.methods or m.name in REFERENCE.values()
               and any(BY_NAME[n].runtime == m.runtime for n in args.methods)]
    harness.require_environments(SCRIPT, {x.env for x in methods})
    run = harness.Run.from_args(args, SCRIPT, PACKAGES, args.threads)

    from scripts.bench.provenance import write_csv  # PyYAML only

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-quantisation-"))
    try:
        command = ["-m", "scripts.bench.quantisation", "--workdir", str(workdir), "--min-time", str(min_time)]
        command += ["--smoke"] if args.smoke else []
        prepared = run.once(Job("training the model", [sys.executable, *command, "--worker", "prepare"], args.threads),
                            workdir, PREPARE_TIMEOUT)
        print(f"  trained {prepared['parameters']:,} parameters to test accuracy {prepared['accuracy']:.3f}")
        jobs = [Job(m.name, [str(m.python), *command, "--worker", m.name], args.threads, key=m) for m in methods]
        outcomes = run.execute(jobs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    run.stop_on_failure(outcomes, args.out)
    rows = rows_from(outcomes, setting, run.provenance)
    for row in rows:
        print(f"  {row['method']:26} batch {row['batch']:3}  {row['size_mb']:7.2f} MB  median {row['latency_p50']:8.3f} ms"
              f" ({row['latency_p50_low']:.3f} to {row['latency_p50_high']:.3f})  x{row['speedup']:.2f} vs "
              f"{row['reference']}  accuracy {row['accuracy']:.3f}  rel. error {row['rel_error']:.2e}")
    write_csv(args.out, rows, schema=DEFAULT_OUT.with_suffix(".schema.yaml"))
    print(f"wrote {len(rows)} rows to {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
