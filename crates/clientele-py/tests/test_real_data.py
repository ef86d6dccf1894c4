"""The Online Retail and CDNOW checks of the Rust tests (crates/clientele/tests/it/real_data.rs,
clv.rs), repeated through Python: the same numbers, and the same bytes as the CLI's tables."""

import clientele
from conftest import run_cli

RETAIL = dict(as_of="2011-12-10", returns="exclude", binning="rank")
RETAIL_FLAGS = ["--as-of", "2011-12-10", "--returns", "exclude", "--binning", "rank"]
CDNOW_SAMPLE = dict(customer="column_2", time="column_3", amount="column_5",
                    delimiter="whitespace", header=False)
CDNOW_FLAGS = ["--customer", "column_2", "--time", "column_3", "--amount", "column_5",
               "--delimiter", "whitespace", "--no-header"]


def test_online_retail_reconciles_as_the_rust_test(datasets):
    path = datasets / "online_retail" / "online_retail.csv.gz"
    table = clientele.segment(path, **RETAIL)
    rows = table.rows
    assert rows.input_rows == 541_909
    assert rows.balances
    assert rows.rejected["missing_customer_id"] == 135_080
    assert rows.excluded["return"] == 8_905
    assert rows.used_rows == 397_924
    assert table.height == 4_339
    assert [t.measure for t in table.thresholds] == ["recency", "frequency", "monetary"]
    assert all(t.binning == "rank" for t in table.thresholds)


def test_online_retail_table_and_report_are_the_clis_bytes(datasets, cli, tmp_path):
    path = datasets / "online_retail" / "online_retail.csv.gz"
    out = run_cli(cli, "segment", path, *RETAIL_FLAGS, "-o", tmp_path / "cli.csv")
    assert out.returncode == 0, out.stderr
    clientele.write_table(clientele.segment(path, **RETAIL), tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()

    out = run_cli(cli, "report", path, *RETAIL_FLAGS, "--out-dir", tmp_path / "cli-report")
    assert out.returncode == 0, out.stderr
    written = clientele.report(path, **RETAIL).save(tmp_path / "py-report")
    names = sorted(p.name for p in (tmp_path / "cli-report").iterdir())
    assert sorted(p.name for p in written) == names
    assert "rejects.csv" in names
    for name in names:
        ours = (tmp_path / "py-report" / name).read_bytes()
        assert ours == (tmp_path / "cli-report" / name).read_bytes(), name


def test_cdnow_master_counts_match_its_readme_and_the_cli(datasets, cli, tmp_path):
    path = datasets / "cdnow" / "CDNOW_master.txt"
    table = clientele.customers(path)
    assert table.height == 23_570
    assert table.rows.input_rows == 69_659 and table.rows.used_rows == 69_659
    assert abs(table["monetary"].sum() - 2_500_315.63) < 1e-6
    assert table["customer_id"][0] == "00001"
    assert str(table["first_purchase"].min())[:10] == "1997-01-01"
    out = run_cli(cli, "customers", path, "-o", tmp_path / "cli.parquet")
    assert out.returncode == 0, out.stderr
    clientele.write_table(table, tmp_path / "py.parquet")
    assert (tmp_path / "py.parquet").read_bytes() == (tmp_path / "cli.parquet").read_bytes()


def test_cdnow_sample_clv_reproduces_the_paper_and_the_cli(datasets, cli, tmp_path):
    path = datasets / "cdnow" / "CDNOW_sample.txt"
    window = dict(calibration_end="1997-09-30", holdout_end="1998-06-30")
    table = clientele.clv(path, **CDNOW_SAMPLE, **window, clv={"model": "bg-nbd"})
    model = table.clv
    assert model.model == "bg_nbd"
    fit = model.raw["model"]["transaction_fit"]
    assert [f"{p:.3f}" for p in fit["params"]] == ["0.243", "4.414", "0.793", "2.426"]
    assert f"{model.log_likelihood:.1f}" == "-9582.4"
    spend = model.raw["model"]["spend_fit"]
    assert spend["customers"] == 946
    assert [f"{p:.2f}" for p in spend["params"]] == ["6.25", "3.74", "15.44"]
    assert model.holdout is not None and model.holdout.actual_total > 0
    assert model.raw["facts"]["customers"] == 2_357

    out = run_cli(cli, "clv", path, *CDNOW_FLAGS, "--calibration-end", "1997-09-30",
                  "--holdout-end", "1998-06-30", "--clv-model", "bg-nbd", "-o", tmp_path / "cli.csv")
    assert out.returncode == 0, out.stderr
    clientele.write_table(table, tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
