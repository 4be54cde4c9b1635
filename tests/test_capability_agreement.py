"""The capability matrix agrees with the tools registry and the export matrix; a broken copy of
either stops the build with both files, the row and the field."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from scripts.site.catalog import load_dataset
from scripts.site.errors import BuildError
from scripts.site.registry import load_registry
from tests.conftest import ROOT


def capabilities(data_dir):
    """Load the capability data set as the build does (docs_dir is data_dir's parent)."""
    return load_dataset("capabilities", load_registry(data_dir), data_dir.parent, "test")


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def edit_cell(data_dir, tool, capability, **values):
    def change(data):
        cell = next(c for c in data["cells"] if c["tool"] == tool and c["capability"] == capability)
        cell.update(values)
    edit_yaml(data_dir / "capabilities.yaml", change)


def edit_tool(data_dir, tool, **values):
    edit_yaml(data_dir / "tools" / f"{tool}.yaml", lambda record: record.update(values))


def edit_matrix_row(data_dir, row_source, row_target, **values):
    path = data_dir / "export-matrix.csv"
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header, rows = next(reader), list(reader)
    names = [h.split(" [")[0] for h in header]
    for row in rows:
        if row[names.index("source")] == row_source and row[names.index("target")] == row_target:
            for name, value in values.items():
                row[names.index(name)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue())


def cell_number(data_dir, tool, capability):
    cells = yaml.safe_load((data_dir / "capabilities.yaml").read_text())["cells"]
    return 1 + next(i for i, c in enumerate(cells) if c["tool"] == tool and c["capability"] == capability)


def test_the_project_data_agree():
    data = capabilities(ROOT / "docs" / "data")
    assert data.rows


@pytest.mark.parametrize("break_data, tool, capability, field, other_file, other_place", [
    # The disagreement this check was written for: ExecuTorch's CUDA backend missing from the registry.
    (lambda d: edit_tool(d, "executorch", hardware=["cpu", "apple", "intel", "mobile", "other"]),
     "executorch", "gpu-nvidia", "value", "tools/executorch.yaml", "(field 'hardware')"),
    (lambda d: edit_tool(d, "mlx", hardware=["apple", "cpu", "nvidia", "amd"]),
     "mlx", "gpu-amd", "value", "tools/mlx.yaml", "(field 'hardware')"),
    (lambda d: edit_tool(d, "coreml", platforms=["macos"]),
     "coreml", "mobile", "value", "tools/coreml.yaml", "(field 'platforms')"),
    (lambda d: edit_tool(d, "lightning", platforms=["linux", "android"]),
     "lightning", "mobile", "value", "tools/lightning.yaml", "(field 'platforms')"),
    # The other: Keras said phones were reachable only through LiteRT, while the matrix ran it elsewhere.
    (lambda d: edit_cell(d, "keras", "mobile", note="Only after export to LiteRT (.tflite)"),
     "keras", "mobile", "note", "export-matrix.csv", "row source='Keras (TensorFlow)' target='ONNX', field 'works'"),
    (lambda d: edit_cell(d, "jax", "mobile", value="no"),
     "jax", "mobile", "value", "export-matrix.csv", "row source='JAX' target='LiteRT', field 'works'"),
    (lambda d: edit_cell(d, "pytorch", "export", value="no"),
     "pytorch", "export", "value", "export-matrix.csv", "row source='PyTorch' target='ONNX', field 'works'"),
    # A change on the matrix side: a JAX to ONNX route that runs is not among JAX's "only" routes.
    (lambda d: edit_matrix_row(d, "JAX", "ONNX", works="yes", outcome="runs"),
     "jax", "mobile", "note", "export-matrix.csv", "row source='JAX' target='ONNX', field 'works'"),
])
def test_disagreement_names_both_files_the_row_and_the_field(data_copy, break_data, tool, capability, field,
                                                              other_file, other_place):
    break_data(data_copy)
    with pytest.raises(BuildError) as err:
        capabilities(data_copy)
    message = str(err.value)
    number = cell_number(data_copy, tool, capability)
    assert message.startswith(f"{data_copy / 'capabilities.yaml'}, cell {number} "
                              f"(tool '{tool}', capability '{capability}'), field '{field}': "), message
    assert str(data_copy / other_file) in message and other_place in message, message


def test_a_matrix_name_without_a_registry_tool_is_named(data_copy):
    edit_yaml(data_copy / "export-matrix.schema.yaml",
              lambda schema: schema["columns"][0]["choices"].append("MXNet"))
    edit_matrix_row(data_copy, "JAX", "ONNX", source="MXNet")
    with pytest.raises(BuildError, match=r"export-matrix\.csv, row source='MXNet' target='ONNX', field 'source': "
                                         r"'MXNet' is not mapped to a registry tool"):
        capabilities(data_copy)
