"""Export one small model from each source framework to each portable or on-device format, run the
result where its runtime exists on Linux, and record what happened: docs/data/export-matrix.csv.

The model is a 64-64-32-10 perceptron that scikit-learn trains on its bundled 8x8 digits; the same
weights are loaded into PyTorch, Keras (on the TensorFlow and on the PyTorch backend) and a plain
JAX function. Every source/target pair is a configuration that runs in several independent worker
processes (TensorFlow, PyTorch and JAX loaded together interfere, and a conversion that crashes
must not take the others with it), in the randomised interleaved order of scripts/bench/harness.py,
each pinned to one CPU with one thread. For each pair the script records whether the conversion
works in every process (or the error, shortened), the conversion time (in each process, one
untimed warm-up conversion, then conversions timed for at least a minimum time; the median of the
per-process medians, with the lowest and highest per-process median as the spread, and the
targets of the same source whose spread overlaps it in convert_ties), the size of what the
conversion wrote, and the largest absolute difference between the source's logits and the target
runtime's logits on the 450 held-out digits.

    .venvs/main/bin/python -m scripts.bench.exports    # full run, writes docs/data/export-matrix.csv
    .venvs/main/bin/python -m scripts.bench.exports --smoke --out /tmp/x.csv   # three pairs, 2 processes

The full run starts 80 worker processes (16 pairs with a route x 5 processes) and takes about 15
minutes on a quiet 2-core machine; run it on a machine with nothing else running.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import ROOT
from scripts.bench import harness
from scripts.bench.harness import Job, summarise

DEFAULT_OUT = ROOT / "docs" / "data" / "export-matrix.csv"
SCHEMA = ROOT / "docs" / "data" / "export-matrix.schema.yaml"
SCRIPT = "scripts/bench/exports.py"
THREADS = 1
SETTINGS = {  # per process: untimed warm-up conversions, then timed ones for at least min_time seconds
    "full": {"warmup_calls": 1, "min_calls": 3, "min_time": 1.0},
    "smoke": {"warmup_calls": 0, "min_calls": 1, "min_time": 0.0},
}

SOURCES = ["PyTorch", "Keras (TensorFlow)", "Keras (PyTorch)", "JAX"]
TARGETS = ["ONNX", "LiteRT", "ExecuTorch", "Core ML", "OpenVINO IR"]
SMOKE_PAIRS = [("PyTorch", "ONNX"), ("Keras (TensorFlow)", "LiteRT"), ("JAX", "ExecuTorch")]
PACKAGES = ["torch", "tensorflow-cpu", "keras", "jax", "onnx", "onnxruntime", "onnxscript", "tf2onnx",
            "ai-edge-litert", "executorch", "coremltools", "openvino", "scikit-learn"]
KERAS_BACKEND = {"Keras (TensorFlow)": "tensorflow", "Keras (PyTorch)": "torch"}


@dataclass(frozen=True)
class Route:
    how: str            # the calls that make the conversion, as the CSV states them
    note: str = ""      # a fact about this route that the numbers alone do not say
    convert: bool = True  # False: no converter exists, nothing is run


ROUTES: dict[tuple[str, str], Route] = {
    ("PyTorch", "ONNX"): Route("torch.onnx.export(model, args, dynamo=True)"),
    ("PyTorch", "LiteRT"): Route(
        "litert_torch.convert(model, args).export(path)",
        "litert-torch (formerly ai-edge-torch) is the PyTorch-to-LiteRT converter; the main environment does not "
        "include it"),
    ("PyTorch", "ExecuTorch"): Route(
        "torch.export.export -> to_edge_transform_and_lower(XnnpackPartitioner) -> to_executorch"),
    ("PyTorch", "Core ML"): Route(
        "torch.export.export -> run_decompositions -> coremltools.convert(mlprogram, FLOAT32)",
        "Core ML runs only on Apple platforms: the .mlpackage is written here but not run"),
    ("PyTorch", "OpenVINO IR"): Route(
        "openvino.convert_model(model, example_input) -> openvino.save_model(compress_to_fp16=False)",
        "save_model stores float16 weights unless told otherwise; float32 is kept here to match the other targets"),
    ("Keras (TensorFlow)", "ONNX"): Route('model.export(path, format="onnx")', "Keras calls tf2onnx internally"),
    ("Keras (TensorFlow)", "LiteRT"): Route('model.export(path, format="litert")'),
    ("Keras (TensorFlow)", "ExecuTorch"): Route(
        "none", "ExecuTorch takes torch.export programs only; a TensorFlow graph has no route to it", convert=False),
    ("Keras (TensorFlow)", "Core ML"): Route(
        "tf.function(model).get_concrete_function -> coremltools.convert(mlprogram, FLOAT32)",
        "Core ML runs only on Apple platforms: the .mlpackage is written here but not run"),
    ("Keras (TensorFlow)", "OpenVINO IR"): Route('model.export(path, format="openvino")'),
    ("Keras (PyTorch)", "ONNX"): Route(
        'model.export(path, format="onnx")',
        "with a dynamic batch dimension Keras calls torch.onnx.export with dynamo=False (the TorchScript-based exporter)"),
    ("Keras (PyTorch)", "LiteRT"): Route(
        'model.export(path, format="litert")',
        "with the PyTorch backend Keras hands the conversion to litert-torch, which the main environment does not "
        "include"),
    ("Keras (PyTorch)", "ExecuTorch"): Route(
        "torch.export.export(keras_model) -> to_edge_transform_and_lower(XnnpackPartitioner) -> to_executorch",
        "a Keras model on the PyTorch backend is a torch.nn.Module, so torch.export captures it"),
    ("Keras (PyTorch)", "Core ML"): Route(
        "torch.export.export(keras_model) -> run_decompositions -> coremltools.convert(mlprogram, FLOAT32)",
        "Core ML runs only on Apple platforms: the .mlpackage is written here but not run"),
    ("Keras (PyTorch)", "OpenVINO IR"): Route('model.export(path, format="openvino")'),
    ("JAX", "ONNX"): Route(
        "jax2tf.convert -> tf.function -> tf2onnx.convert.from_function",
        "jax2tf wraps the whole function in one XlaCallModule op (serialised StableHLO), which tf2onnx does not "
        "translate; jax2onnx, a direct converter, is not in the main environment"),
    ("JAX", "LiteRT"): Route("jax2tf.convert -> tf.function -> TFLiteConverter.from_concrete_functions"),
    ("JAX", "ExecuTorch"): Route("none", "ExecuTorch takes torch.export programs only; JAX has no route to it",
                                 convert=False),
    ("JAX", "Core ML"): Route(
        "jax2tf.convert -> tf.function -> coremltools.convert(mlprogram, FLOAT32)",
        "coremltools' TensorFlow frontend has no translation for jax2tf's XlaCallModule op"),
    ("JAX", "OpenVINO IR"): Route(
        "openvino.convert_model(jax.make_jaxpr(f)(x)) -> openvino.save_model(compress_to_fp16=False)",
        "OpenVINO documents its JAX frontend as experimental"),
}


def short_error(exc: BaseException, limit: int = 220) -> str:
    """First meaningful line of an exception, without file paths that change between machines."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = next((line for line in lines if not line.startswith(("File ", "Traceback", "in user code"))),
                 lines[0] if lines else "")
    return shorten(f"{type(exc).__name__}: {first}" if first else type(exc).__name__, limit)


def shorten(message: str, limit: int = 220) -> str:
    for prefix in (str(ROOT) + "/", sys.prefix + "/"):
        message = message.replace(prefix, "")
    return message if len(message) <= limit else message[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------
# Worker: one source/target pair in this process.


class Source:
    """The source model: a forward function on NumPy arrays and what the converters need."""

    def __init__(self, name: str, weights: list[tuple], example):
        self.name = name
        self.example = example  # one input row, shape (1, 64), float32
        if name == "PyTorch":
            import torch
            from torch import nn

            torch.set_num_threads(THREADS)
            layers: list = []
            for i, (w, b) in enumerate(weights):
                linear = nn.Linear(w.shape[0], w.shape[1])
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(w.T.copy()))
                    linear.bias.copy_(torch.from_numpy(b))
                layers += [linear] + ([nn.ReLU()] if i < len(weights) - 1 else [])
            self.model = nn.Sequential(*layers).eval()
            self.torch_example = torch.from_numpy(example)
        elif name.startswith("Keras"):
            import keras

            if name == "Keras (PyTorch)":
                import torch

                torch.set_num_threads(THREADS)
                self.torch_example = torch.from_numpy(example)
            else:
                import tensorflow as tf

                tf.config.threading.set_intra_op_parallelism_threads(THREADS)
                tf.config.threading.set_inter_op_parallelism_threads(THREADS)
            sizes = [w.shape[1] for w, _ in weights]
            layers = [keras.Input((weights[0][0].shape[0],))]
            layers += [keras.layers.Dense(n, activation="relu" if i < len(sizes) - 1 else None)
                       for i, n in enumerate(sizes)]
            self.model = keras.Sequential(layers)
            self.model.set_weights([a for pair in weights for a in pair])
        elif name == "JAX":
            import jax
            import jax.numpy as jnp

            params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]

            def forward(x):
                for i, (w, b) in enumerate(params):
                    x = x @ w + b
                    if i < len(params) - 1:
                        x = jnp.maximum(x, 0.0)
                return x

            self.forward = forward
            self.jitted = jax.jit(forward)
        else:
            raise ValueError(f"unknown source {name!r}")

    def predict(self, x):
        import numpy as np

        if self.name == "PyTorch":
            import torch

            with torch.no_grad():
                return self.model(torch.from_numpy(x)).numpy()
        if self.name.startswith("Keras"):
            import keras

            return np.asarray(keras.ops.convert_to_numpy(self.model(x)))
        return np.asarray(self.jitted(x))

    def tf_function(self):
        """The source as a tf.function with a fixed (1, 64) signature (TensorFlow-based routes)."""
        import tensorflow as tf

        spec = [tf.TensorSpec(self.example.shape, tf.float32, name="x")]
        if self.name == "JAX":
            from jax.experimental import jax2tf

            return tf.function(jax2tf.convert(self.forward), input_signature=spec, autograph=False)
        model = self.model
        return tf.function(lambda x: model(x), input_signature=spec)


def _torch_exported(src: Source):
    import torch

    return torch.export.export(src.model, (src.torch_example,))


def convert(src: Source, target: str, out: Path) -> None:
    """Write the target artefact(s) for the source into the empty folder ``out``."""
    name = src.name
    if target == "ONNX":
        path = out / "model.onnx"
        if name == "PyTorch":
            import torch

            torch.onnx.export(src.model, (src.torch_example,), str(path), dynamo=True, verbose=False)
        elif name.startswith("Keras"):
            src.model.export(str(path), format="onnx", verbose=False)
        else:
            import tf2onnx

            fn = src.tf_function()
            tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=17, output_path=str(path))
    elif target == "LiteRT":
        path = out / "model.tflite"
        if name == "PyTorch":
            import litert_torch  # the converter; ImportError when it is not installed

            litert_torch.convert(src.model, (src.torch_example,)).export(str(path))
        elif name.startswith("Keras"):
            src.model.export(str(path), format="litert", verbose=False)
        else:
            import tensorflow as tf

            fn = src.tf_function()
            converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
            path.write_bytes(converter.convert())
    elif target == "ExecuTorch":
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
            XnnpackPartitioner,
        )
        from executorch.exir import to_edge_transform_and_lower

        program = to_edge_transform_and_lower(_torch_exported(src), partitioner=[XnnpackPartitioner()])
        (out / "model.pte").write_bytes(program.to_executorch().buffer)
    elif target == "Core ML":
        import coremltools as ct

        options = dict(convert_to="mlprogram", compute_precision=ct.precision.FLOAT32)
        if name in ("PyTorch", "Keras (PyTorch)"):
            mlmodel = ct.convert(_torch_exported(src).run_decompositions({}), **options)
        else:
            fn = src.tf_function()
            mlmodel = ct.convert([fn.get_concrete_function()], source="tensorflow", **options)
        mlmodel.save(str(out / "model.mlpackage"))
    elif target == "OpenVINO IR":
        path = out / "model.xml"
        if name.startswith("Keras"):
            src.model.export(str(path), format="openvino", verbose=False)
        else:
            import openvino as ov

            if name == "PyTorch":
                ov_model = ov.convert_model(src.model, example_input=src.torch_example)
            else:
                import jax

                ov_model = ov.convert_model(jax.make_jaxpr(src.forward)(src.example))
            ov.save_model(ov_model, str(path), compress_to_fp16=False)
    else:
        raise ValueError(f"unknown target {target!r}")


def runner(target: str, out: Path):
    """(runtime description, function running one input row) for the artefact in ``out``; None where the
    target's runtime does not exist on this platform."""
    import importlib.metadata as md

    if target == "ONNX":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = THREADS
        session = ort.InferenceSession(str(out / "model.onnx"), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return f"onnxruntime {ort.__version__}", lambda row: session.run(None, {name: row})[0]
    if target == "LiteRT":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(out / "model.tflite"), num_threads=THREADS)
        inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(inp["index"], [1, 64])
        interpreter.allocate_tensors()

        def run(row):
            interpreter.set_tensor(inp["index"], row)
            interpreter.invoke()
            return interpreter.get_tensor(outp["index"])

        return f"ai-edge-litert {md.version('ai-edge-litert')} Interpreter", run
    if target == "ExecuTorch":
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(out / "model.pte")).load_method("forward")
        return (f"executorch {md.version('executorch')} runtime (Python bindings)",
                lambda row: method.execute([torch.from_numpy(row)])[0].numpy())
    if target == "OpenVINO IR":
        import openvino as ov

        compiled = ov.Core().compile_model(str(out / "model.xml"), "CPU", {
            "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": THREADS})
        return f"openvino {ov.__version__.split('-')[0]} CPU, f32", lambda row: compiled(row)[0]
    return None  # Core ML: prediction needs macOS


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def worker(source: str, target: str, workdir: Path, setting: dict, min_time: float) -> dict:
    import numpy as np

    data = np.load(workdir / "model.npz")
    weights = [(data[f"w{i}"], data[f"b{i}"]) for i in range(int(data["layers"]))]
    x_test = data["x_test"]
    result: dict = {}
    stage = "building the source model"
    outputs = (Path(os.environ["TMPDIR"]) / f"conversion-{i}" for i in itertools.count())  # this process's own
    written: list[Path] = []
    try:
        src = Source(source, weights, x_test[:1].copy())
        reference = src.predict(x_test)
        stage = "converting"

        def convert_once():
            out = next(outputs)
            out.mkdir()
            convert(src, target, out)
            written.append(out)

        times = harness.time_calls(convert_once, min_time, setting["min_calls"],
                                         warmup_calls=setting["warmup_calls"])
        out = written[-1]
        result.update(convert_s=times, size=folder_size(out) / 1000)
        stage = "running the converted model"
        run = runner(target, out)
        if run is None:
            result["outcome"] = "converts only"
            return result
        result["runtime"], call = run
        got = np.concatenate([np.asarray(call(x_test[i:i + 1].copy())).reshape(1, -1) for i in range(len(x_test))])
        result["max_abs_diff"] = float(np.abs(got - reference).max())
        result["top1_agree"] = float((got.argmax(1) == reference.argmax(1)).mean() * 100)
        result["outcome"] = "runs"
    except ImportError as exc:
        result = {"outcome": "not installed" if stage == "converting" else "fails", "error": short_error(exc)}
    except Exception as exc:  # the error is the measurement
        result = {"outcome": "fails", "error": short_error(exc) if stage == "converting"
                  else f"{stage}: {short_error(exc)}"}
    return result


# ---------------------------------------------------------------------------------------------------
# Parent: the data, the model, one process per pair, the CSV.


def prepare(workdir: Path) -> float:
    """Train the perceptron on the digits and save its weights and the held-out images; return its
    test accuracy."""
    import warnings

    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=0,
                                                        stratify=digits.target)
    clf = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train, y_train)
    arrays = {"layers": len(clf.coefs_), "x_test": x_test}
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float32), b.astype(np.float32)
    np.savez(workdir / "model.npz", **arrays)
    return float(clf.score(x_test, y_test))


def pair_env(source: str) -> dict:
    """What a pair's worker needs besides the harness's thread and cache settings."""
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1",
           "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={THREADS}"}
    if source in KERAS_BACKEND:
        env["KERAS_BACKEND"] = KERAS_BACKEND[source]
    return env


def merge(row: dict, outcome: harness.Outcome) -> dict:
    """The row of one pair from its processes: it runs only if it ran in every process."""
    if outcome.failure:
        return {**row, "outcome": "fails", "error": shorten(outcome.failure)}
    results = outcome.results
    first = results[0]
    for i, other in enumerate(results[1:], start=2):
        if other["outcome"] != first["outcome"]:
            why = other.get("error") or other["outcome"]
            return {**row, "outcome": "fails",
                    "error": shorten(f"process {i} of {len(results)}: {why} (process 1: {first['outcome']})")}
    merged = {**row, "outcome": first["outcome"], "error": first.get("error"), "runtime": first.get("runtime"),
              "size": first.get("size")}
    if "convert_s" in first:
        t = summarise([r["convert_s"] for r in results])
        merged.update(convert_median=t.median, convert_min=t.minimum, convert_max=t.maximum,
                      convert_median_low=t.low, convert_median_high=t.high, repeats=t.samples)
    if "max_abs_diff" in first:
        merged["max_abs_diff"] = max(r["max_abs_diff"] for r in results)
        merged["top1_agree"] = min(r["top1_agree"] for r in results)
    return merged


def add_ties(rows: list[dict]) -> None:
    """convert_ties: the targets of the same source whose conversion-time spread overlaps the row's."""
    for source in SOURCES:
        timed = {r["target"]: r for r in rows if r["source"] == source and r.get("convert_median_low") is not None}
        tied = harness.ties({t: (r["convert_median_low"], r["convert_median_high"]) for t, r in timed.items()})
        for target, row in timed.items():
            row["convert_ties"] = ", ".join(tied[target]) or "none"


def finish(row: dict) -> dict:
    row["works"] = {"runs": "yes", "converts only": "partial"}.get(row["outcome"], "no")
    for key in ("convert_median", "convert_min", "convert_max", "convert_median_low", "convert_median_high"):
        if row.get(key) is not None:
            row[key] = round(row[key], 4)
    if row.get("size") is not None:
        row["size"] = round(row["size"], 2)
    if row.get("max_abs_diff") is not None:
        row["max_abs_diff"] = float(f"{row['max_abs_diff']:.3g}")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="three pairs, one conversion per process, no warm-up")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (its schema is copied beside it)")
    parser.add_argument("--worker", nargs=2, metavar=("SOURCE", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    harness.add_arguments(parser, timeout=240)
    args = parser.parse_args(argv)
    setting = SETTINGS["smoke" if args.smoke else "full"]
    min_time = args.min_time if args.min_time is not None else setting["min_time"]

    if args.worker:
        result = worker(args.worker[0], args.worker[1], args.workdir, setting, min_time)
        harness.emit(result, PACKAGES)
        return 0

    run = harness.Run.from_args(args, SCRIPT, PACKAGES, THREADS, log=lambda line: print(line, file=sys.stderr))

    from scripts.bench.provenance import write_csv

    pairs = SMOKE_PAIRS if args.smoke else [(s, t) for s in SOURCES for t in TARGETS]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        workdir = Path(tmp)
        accuracy = prepare(workdir)
        print(f"scikit-learn perceptron: test accuracy {accuracy:.3f}; {len(pairs)} pairs", file=sys.stderr)
        command = [sys.executable, "-m", "scripts.bench.exports", "--workdir", str(workdir), "--min-time",
                   str(min_time)] + (["--smoke"] if args.smoke else [])
        jobs = [Job(f"{s} -> {t}", command + ["--worker", s, t], THREADS, env=pair_env(s), key=(s, t))
                for s, t in pairs if ROUTES[(s, t)].convert]
        outcomes = {o.job.key: o for o in run.execute(jobs, workdir)}
    rows = []
    for source, target in pairs:
        route = ROUTES[(source, target)]
        row = {"source": source, "target": target, "route": route.how, "note": route.note or None}
        outcome = outcomes.get((source, target))
        row = merge(row, outcome) if outcome else {**row, "outcome": "no path"}
        rows.append(finish({**row, **run.provenance(outcome, threads=THREADS)}))
    add_ties(rows)
    out = args.out.resolve()
    write_csv(out, rows, schema=SCHEMA)
    print(f"wrote {len(rows)} rows to {out} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
