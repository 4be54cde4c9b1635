import pytest

from scripts.site.datafiles import Field, read_csv
from scripts.site.errors import BuildError

FIELDS = (
    Field("engine", "choice", choices=("eager", "compiled")),
    Field("batch", "int"),
    Field("latency", "number", unit="ms"),
    Field("note", required=False),
)
GOOD = "engine,batch,latency [ms],note\neager,1,2.5,\ncompiled,1,1.25,warm\n"


def load(tmp_path, text):
    path = tmp_path / "bench.csv"
    path.write_text(text)
    return path, read_csv(path, FIELDS, key=("engine", "batch"))


def test_good_file_loads_typed_rows(tmp_path):
    _, table = load(tmp_path, GOOD)
    assert table.rows == [
        {"engine": "eager", "batch": 1, "latency": 2.5, "note": None},
        {"engine": "compiled", "batch": 1, "latency": 1.25, "note": "warm"},
    ]


@pytest.mark.parametrize("text, where, expected", [
    ("engine,latency [ms]\neager,2.5\n", "column 'batch'", "missing column; expected header 'batch'"),
    ("engine,batch,latency [ms]\neager,one,2.5\n", "row 2, field 'batch'", "expected an integer, got 'one'"),
    ("engine,batch,latency [ms]\neager,1,\n", "row 2, field 'latency'", "required value is empty"),
    ("engine,batch,latency [ms]\njit,1,2.5\n", "row 2, field 'engine'", "expected one of eager, compiled; got 'jit'"),
    ("engine,batch,latency [ms]\neager,1,2.5\neager,1,3.0\n", "row 3", "duplicate key"),
    ("engine,batch,latency [s]\neager,1,2.5\n", "column 'latency'", "unit [s] does not match the schema: expected [ms]"),
    ("engine,batch,latency\neager,1,2.5\n", "column 'latency'", "unit missing from the header"),
    ("engine,batch,latency [ms],extra\neager,1,2.5,x\n", "column 'extra'", "unknown column"),
    ("engine,batch,latency [ms]\neager,1,nan\n", "row 2, field 'latency'", "NaN"),
    ("engine,batch,latency [ms]\n", "bench.csv", "no data rows"),
    ("engine,batch,latency [ms]\neager,1\n", "row 2", "expected 3 cells, found 2"),
])
def test_bad_file_names_file_row_and_column(tmp_path, text, where, expected):
    with pytest.raises(BuildError) as err:
        load(tmp_path, text)
    message = str(err.value)
    assert str(tmp_path / "bench.csv") in message
    assert where in message, message
    assert expected in message, message
