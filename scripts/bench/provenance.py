"""Provenance for benchmark scripts: what a measurement row records about the machine and the
software that produced it, and a writer that validates rows against the file's schema before
anything is written.

The functions that describe the machine and the loaded libraries use the standard library only, so
that a benchmark's worker process can call them in any environment (the side environments do not
all have PyYAML); the schema machinery is imported by ``write_csv`` alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

from scripts import ROOT

CPUINFO = Path("/proc/cpuinfo")
SYS_CPU = Path("/sys/devices/system/cpu")

# Instruction-set extensions that decide which kernels BLAS libraries, oneDNN, XLA and compilers
# pick, as /proc/cpuinfo names them (x86: flags, Arm: Features). Only those present are recorded.
KERNEL_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512dq", "avx512cd",
                "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16",
                "amx_int8", "asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm", "sme")


def _cpuinfo_fields() -> dict[str, str]:
    """The fields of the first processor block of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        text = CPUINFO.read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields.setdefault(name.strip(), value.strip())
    return fields


def cpu_model() -> str:
    """The CPU's model name with what identifies it exactly: virtual machines often report a short
    name ("AMD EPYC"), and the family, model and stepping still tell the generation apart."""
    info = _cpuinfo_fields()
    name = info.get("model name") or platform.processor() or platform.machine()
    labels = (("vendor_id", ""), ("cpu family", "family "), ("model", "model "), ("stepping", "stepping "),
              ("CPU implementer", "implementer "), ("CPU part", "part "), ("CPU variant", "variant "))
    detail = " ".join(label + info[key] for key, label in labels if key in info)
    if "microcode" in info:
        detail += f", microcode {info['microcode']}"
    return f"{name} ({detail})" if detail else name


def cpu_flags() -> str:
    """The extensions of KERNEL_FLAGS that this CPU reports, space-separated ('none of them' if none)."""
    info = _cpuinfo_fields()
    present = set((info.get("flags") or info.get("Features") or "").split())
    return " ".join(f for f in KERNEL_FLAGS if f in present) or "none of them"


def kernel_release() -> str:
    return platform.release()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def governor(cpus: list[int]) -> str:
    """The cpufreq scaling governor of these CPUs ('not exposed' where the system has no cpufreq,
    as in most virtual machines)."""
    found = {_read(SYS_CPU / f"cpu{c}" / "cpufreq" / "scaling_governor") for c in cpus}
    found.discard(None)
    return ", ".join(sorted(found)) if found else "not exposed"


def smt_siblings(cpu: int) -> str | None:
    """The kernel's list of logical CPUs that share this CPU's core, e.g. '0,64' or '0-1'."""
    return _read(SYS_CPU / f"cpu{cpu}" / "topology" / "thread_siblings_list")


def describe_siblings(cpus: list[int]) -> str:
    """Each CPU with its SMT siblings: '0:0,64 1:1,65' (itself alone: no second thread on its core)."""
    return " ".join(f"{c}:{smt_siblings(c) or 'unknown'}" for c in cpus)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        # Data files are what the benchmarks write, so they do not make the code differ from the commit.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/data"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def versions(packages: list[str]) -> str:
    found = []
    for name in packages:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return " ".join([f"python={platform.python_version()}"] + found)


def blas() -> str:
    """The BLAS libraries and threading layers of this process, for the libraries it has loaded:
    NumPy's build configuration, PyTorch's (BLAS, ATen's parallel backend, the CPU capability its
    kernels dispatch to), and what threadpoolctl finds loaded, where it is installed."""
    parts = []
    if "numpy" in sys.modules:
        import numpy

        config = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        parts.append(f"numpy: {config.get('name', '?')} {config.get('version', '')}".strip())
    if "torch" in sys.modules:
        import torch

        blas_info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        backend = re.search(r"ATen parallel backend: (.+)", torch.__config__.parallel_info())
        parts.append(f"torch: {blas_info.group(1) if blas_info else '?'}, "
                     f"parallel backend {backend.group(1).strip() if backend else '?'}, "
                     f"kernels {torch.backends.cpu.get_cpu_capability()}")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        for pool in threadpool_info():
            count = f"{pool['num_threads']} thread" + ("s" if pool["num_threads"] != 1 else "")
            detail = ", ".join(v for v in (pool.get("threading_layer"), pool.get("architecture"), count) if v)
            parts.append(f"{pool['internal_api']} {pool.get('version') or pool['prefix']} ({detail})")
    return "; ".join(dict.fromkeys(parts)) or "none loaded"


def machine() -> dict:
    """The provenance columns that describe the machine and the repository when a run starts."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "cpu_flags": cpu_flags(), "kernel": kernel_release(),
            "load_avg": load_average(), "date": dt.date.today().isoformat(), "commit": commit()}


def write_csv(path: Path, rows: list[dict], schema: Path | None = None) -> None:
    """Write rows (own columns + provenance) after checking each against <name>.schema.yaml.

    ``schema`` is the data set's schema when ``path`` is written elsewhere (a smoke run's output): it
    is copied beside ``path``, where readers of the file look for it."""
    from scripts.site.datafiles import validate_value
    from scripts.site.datasets import PROVENANCE_FIELDS, load_schema

    path.parent.mkdir(parents=True, exist_ok=True)
    if schema is not None and schema.resolve() != path.with_suffix(".schema.yaml").resolve():
        shutil.copyfile(schema, path.with_suffix(".schema.yaml"))
    fields, _, _ = load_schema(path.with_suffix(".schema.yaml"))
    fields = fields + PROVENANCE_FIELDS
    for i, row in enumerate(rows, start=2):
        for f in fields:
            validate_value(row.get(f.name), f, f"{path}, row {i}")
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([f.header for f in fields])
        for row in rows:
            writer.writerow(["" if row.get(f.name) is None else row[f.name] for f in fields])
    os.replace(tmp, path)
