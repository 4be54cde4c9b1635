"""The capability matrix (docs/data/capabilities.yaml) must agree with the other data files that
state the same facts; the build stops, naming both files, the row and the field, when they do not.

What is compared, because it can be compared without reading prose:

- **Hardware**, against the tools registry (docs/data/tools/): a GPU cell that says "yes" needs the
  registry to list that hardware, and one that says "no" needs it not to. "partial" is left alone:
  it stands for support through another package or runtime (a backend's ROCm build, a vendor's
  plug-in), which a registry entry may fairly count either way.
- **Phones**, against the registry's platforms: "yes" needs Android or iOS among them, "no" neither.
- **Export**, against the export matrix (docs/data/export-matrix.csv): a tool the matrix shows
  converting a model (works "yes" or "partial") does not say "no" to exporting.
- **Routes to phones**, against the export matrix: when the matrix shows a source's model running
  under a runtime whose own phone cell is "yes", the source's phone cell does not say "no", and a
  note that restricts the routes ("only ...") names that runtime.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.site.errors import BuildError
from scripts.site.registry import Registry

MATRIX_FILE = "export-matrix.csv"
# The export matrix names sources and targets as its rows show them; each is a registry tool here.
# A target format is represented by the runtime that runs it (ONNX files run under ONNX Runtime).
MATRIX_TOOLS = {
    "source": {"PyTorch": "pytorch", "Keras (TensorFlow)": "keras", "Keras (PyTorch)": "keras", "JAX": "jax"},
    "target": {"ONNX": "onnxruntime", "LiteRT": "litert", "ExecuTorch": "executorch", "Core ML": "coreml",
               "OpenVINO IR": "openvino"},
}
CAPABILITY_HARDWARE = {"gpu-nvidia": "nvidia", "gpu-amd": "amd", "apple-silicon": "apple"}
PHONE_PLATFORMS = {"android", "ios"}
RESTRICTS = re.compile(r"\bonly\b", re.IGNORECASE)


def check_capabilities_agree(cells: list[dict], registry: Registry, capabilities_path: Path,
                             matrix_rows: list[dict], matrix_path: Path) -> None:
    """``cells``: the validated cells of capabilities.yaml in file order (tool, capability, value,
    note); ``matrix_rows``: the validated rows of the export matrix."""
    numbered = {(c["tool"], c["capability"]): (i, c) for i, c in enumerate(cells, start=1)}

    def where(key: tuple[str, str], field: str) -> str:
        number, _ = numbered[key]
        return f"{capabilities_path}, cell {number} (tool '{key[0]}', capability '{key[1]}'), field '{field}'"

    for key, (_, cell) in numbered.items():
        tool = registry.tools[cell["tool"]]
        hardware = CAPABILITY_HARDWARE.get(cell["capability"])
        if hardware and cell["value"] != "partial" and (cell["value"] == "yes") != (hardware in tool.hardware):
            listed = "lists" if hardware in tool.hardware else "does not list"
            raise BuildError(where(key, "value"), f"says {cell['value']!r}, but {tool.path} {listed} {hardware!r} "
                                                  f"(field 'hardware'): make the two files agree")
        if cell["capability"] == "mobile" and cell["value"] != "partial":
            on_phones = bool(PHONE_PLATFORMS & set(tool.platforms))
            if (cell["value"] == "yes") != on_phones:
                listed = "lists" if on_phones else "lists neither"
                raise BuildError(where(key, "value"), f"says {cell['value']!r}, but {tool.path} {listed} android "
                                                      f"or ios (field 'platforms'): make the two files agree")

    for row in matrix_rows:
        source, target = (_matrix_tool(row, column, registry, matrix_path) for column in ("source", "target"))
        row_where = (f"{matrix_path}, row source={row['source']!r} target={row['target']!r}, field 'works' "
                     f"(outcome {row['outcome']!r})")
        export = (source, "export")
        if row["works"] != "no" and export in numbered and numbered[export][1]["value"] == "no":
            raise BuildError(where(export, "value"), f"says 'no', but {row_where} shows the model converting")
        mobile, runtime_mobile = (source, "mobile"), (target, "mobile")
        if (row["works"] != "yes" or mobile not in numbered or runtime_mobile not in numbered
                or numbered[runtime_mobile][1]["value"] != "yes"):
            continue
        cell, runtime = numbered[mobile][1], registry.tools[target].name
        if cell["value"] == "no":
            raise BuildError(where(mobile, "value"), f"says 'no', but {row_where} shows the model running under "
                                                     f"{runtime}, which runs on phones")
        note = cell["note"] or ""
        if RESTRICTS.search(note) and runtime.lower() not in note.lower():
            raise BuildError(where(mobile, "note"), f"restricts the routes to phones ({note!r}), but {row_where} "
                                                    f"shows the model running under {runtime}, which runs on "
                                                    f"phones: name it in the note, or correct the matrix")


def _matrix_tool(row: dict, column: str, registry: Registry, matrix_path: Path) -> str:
    where = f"{matrix_path}, row source={row['source']!r} target={row['target']!r}, field '{column}'"
    name = row[column]
    if name not in MATRIX_TOOLS[column]:
        raise BuildError(where, f"{name!r} is not mapped to a registry tool: add it to MATRIX_TOOLS in "
                                f"scripts/site/capability_agreement.py")
    return registry.tool(MATRIX_TOOLS[column][name], where).id
