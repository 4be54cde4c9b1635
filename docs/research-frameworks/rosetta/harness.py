"""Run one Rosetta implementation in this process and print one JSON line of measurements.

    python harness.py pytorch --epochs 20 --threads 1 [--backend jax] [--data digits.npz]

Thread limits and CPU affinity are set before the framework is imported, since most read them
once at start-up. Import time is the time to import the implementation file, which imports its
framework. Latency is measured per call of the implementation's predict() after warm-up calls.
"""
import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("pytorch", "tensorflow", "keras", "jax", "mlx", "lightning", "fastai")
PACKAGES = {  # distributions whose versions a result reports
    "pytorch": ["torch"], "tensorflow": ["tensorflow-cpu", "tensorflow", "keras"],
    "keras": ["keras", "tensorflow-cpu", "jax", "torch"], "jax": ["jax", "jaxlib", "flax", "optax"],
    "mlx": ["mlx", "mlx-cpu"], "lightning": ["lightning", "torch"], "fastai": ["fastai", "fastcore", "torch"],
}


def limit_threads(n, first=0):
    """Pin this process to n CPUs (from the first-th allowed one) and tell every library to use n threads."""
    allowed = sorted(os.sched_getaffinity(0))
    cpus = (allowed[first:] + allowed[:first])[:n]
    os.sched_setaffinity(0, cpus)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    return cpus


def load_data(path):
    import numpy as np
    if path:
        d = np.load(path)
        return d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    return X_train, y_train, X_test, y_test


def time_calls(fn, x, repeats, warmup):
    for _ in range(warmup):
        fn(x)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        samples.append(time.perf_counter() - start)
    return samples


def versions(names):
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"), help="Keras backend")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="0: leave the defaults")
    parser.add_argument("--first-cpu", type=int, default=0, help="with --threads: index of the first CPU to use")
    parser.add_argument("--data", help="an .npz with X_train, y_train, X_test, y_test (default: load digits)")
    parser.add_argument("--latency-repeats", type=int, default=0, help="0: skip the latency measurement")
    args = parser.parse_args(argv)

    cpus = limit_threads(args.threads, args.first_cpu) if args.threads else sorted(os.sched_getaffinity(0))
    if args.framework == "keras":
        os.environ["KERAS_BACKEND"] = args.backend or "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    X_train, y_train, X_test, y_test = load_data(args.data)

    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"{args.framework}_mlp", HERE / f"{args.framework}_mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import_s = time.perf_counter() - start

    start = time.perf_counter()
    result = module.train(X_train, y_train, X_test, y_test, epochs=args.epochs, seed=args.seed)
    train_s = time.perf_counter() - start

    out = {"framework": args.framework, "backend": os.environ.get("KERAS_BACKEND") if args.framework == "keras" else None,
           "epochs": args.epochs, "threads": args.threads or None, "cpus": len(cpus),
           "accuracy": float(result["accuracy"]), "import_s": import_s, "train_s": train_s,
           "epoch_s": [float(s) for s in result["epoch_seconds"]],
           "python": platform.python_version(), "versions": versions(PACKAGES[args.framework])}
    if args.latency_repeats:
        predict = result["predict"]
        warmup = max(3, args.latency_repeats // 10)
        out["latency_b1_s"] = time_calls(predict, X_test[:1], args.latency_repeats, warmup)
        out["latency_b256_s"] = time_calls(predict, X_test[:256], max(3, args.latency_repeats // 2), warmup)
    out["loaded"] = [m for m in ("torch", "tensorflow", "jax", "mlx") if m in sys.modules]
    out["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    sys.stdout.flush()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
