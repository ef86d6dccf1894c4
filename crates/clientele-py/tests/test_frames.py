"""Frames in (polars, pandas, pyarrow, any Arrow PyCapsule object), polars DataFrames out, the
result frame handed over without a copy."""

import threading
import time

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import clientele
from conftest import SAMPLE


@pytest.fixture(scope="module")
def from_path():
    return clientele.segment(SAMPLE)


def test_the_readme_line_works(from_path):
    head = from_path.head()
    assert isinstance(head, pl.DataFrame) and type(head) is pl.DataFrame
    assert head.height == 5
    assert {"customer_id", "segment", "abc_class", "r_score"} <= set(head.columns)


def test_polars_pandas_and_arrow_frames_give_the_table_of_the_file(from_path):
    # The file read by polars (order_date as text, ids as integers, amounts as floats)...
    polars_frame = pl.read_csv(SAMPLE)
    # ...by pandas (numpy dtypes), and as a pyarrow Table.
    pandas_frame = pd.read_csv(SAMPLE)
    arrow_table = polars_frame.to_arrow()

    class Capsule:  # any object with only the Arrow PyCapsule interface
        def __arrow_c_stream__(self, requested_schema=None):
            return arrow_table.__arrow_c_stream__(requested_schema)

    for frame in [polars_frame, polars_frame.lazy(), pandas_frame, arrow_table, Capsule()]:
        table = clientele.segment(frame)
        assert table.equals(from_path), type(frame)
        assert table.rows == from_path.rows
        assert table.thresholds == from_path.thresholds


def test_typed_findings_and_pandas_output(from_path):
    rows = from_path.rows
    assert isinstance(rows, clientele.RowReconciliation)
    assert rows.input_rows == 30_000 and rows.balances
    assert [t.measure for t in from_path.thresholds] == ["recency", "frequency", "monetary"]
    assert len(from_path.thresholds[0].cut_points) == 4  # quintiles
    assert [c.name for c in from_path.abc] == ["A", "B", "C"]
    assert sum(c.customers for c in from_path.abc) == from_path.height
    as_pandas = from_path.to_pandas()
    assert len(as_pandas) == from_path.height


def test_result_frame_is_handed_over_without_a_copy():
    # A frame made in Rust: the values buffer polars sees in Python is the one Rust allocated.
    frame, address = clientele._native._handover_probe()
    assert address != 0
    assert frame["x"].to_arrow().buffers()[1].address == address
    # And the Table wraps the same polars frame (same buffers as the native result).
    table = clientele.segment(SAMPLE)
    plain = pl.DataFrame._from_pydf(table._df)
    a = table["monetary"].to_arrow().buffers()[1].address
    assert plain["monetary"].to_arrow().buffers()[1].address == a


def test_the_gil_is_released_during_the_computation(datasets):
    path = datasets / "online_retail" / "online_retail.csv.gz"
    ticks = 0
    done = threading.Event()

    def run():
        clientele.customers(path)
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert ticks > 20  # this thread kept running Python code while the other computed


def test_a_duckdb_relation_through_the_pycapsule_interface(from_path):
    duckdb = pytest.importorskip("duckdb")
    relation = duckdb.sql(f"select * from read_csv('{SAMPLE}')")
    table = clientele.segment(relation)
    assert table.rows == from_path.rows
    assert table.select("customer_id", "segment").equals(from_path.select("customer_id", "segment"))


def test_a_customer_table_as_a_frame_or_a_file(from_path, cli, tmp_path):
    table = clientele.customers(SAMPLE)
    cols = ["customer_id", "r_score", "f_score", "m_score", "segment", "abc_class"]
    # A frame read as a customer table aggregated elsewhere (pre_aggregated::from_frame).
    again = clientele.segment(table, kind="customers")
    assert again.select(cols).equals(from_path.select(cols))
    assert again.rows.input_rows == table.height
    # The same table as a file: the CLI's bytes.
    clientele.write_table(table, tmp_path / "customers.csv")
    ours = clientele.segment(tmp_path / "customers.csv", kind="customers")
    clientele.write_table(ours, tmp_path / "py.csv")
    from conftest import run_cli

    out = run_cli(cli, "segment", tmp_path / "customers.csv", "--input-kind", "customers",
                  "-o", tmp_path / "cli.csv")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
