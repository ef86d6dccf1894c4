"""The report object (inline HTML, saved directory) and settings from keywords, dicts and files."""

import html

import clientele
from conftest import SAMPLE, run_cli


def test_repr_html_is_the_self_contained_page(cli, tmp_path):
    report = clientele.report(SAMPLE, clusters=3)
    page = report.html
    assert page.lstrip().lower().startswith("<!doctype html>")
    shown = report._repr_html_()
    assert shown.startswith("<iframe") and 'srcdoc="' in shown
    srcdoc = shown.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0]
    assert html.unescape(srcdoc) == page
    assert report.findings.clusters.k == 3

    out = run_cli(cli, "report", SAMPLE, "--clusters", "3", "--out-dir", tmp_path / "cli")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cli" / "report.html").read_text() == page
    written = report.save(tmp_path / "py")
    assert [p.name for p in written] == report.names()
    for p in written:
        assert p.read_bytes() == (tmp_path / "cli" / p.name).read_bytes(), p.name


def test_settings_from_keywords_dicts_and_files_as_the_cli(cli, tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text('[analysis]\nbins = 4\nreturns = "exclude"\n')
    out = run_cli(cli, "config", "show", "--config", config, "--abc-by", "revenue")
    assert out.returncode == 0, out.stderr
    # The CLI's text after its two comment lines.
    shown = "".join(line for line in out.stdout.splitlines(True) if not line.startswith("#"))
    assert 'abc_by = "revenue"' in shown and "bins = 4" in shown
    assert clientele.config_show(settings=config, abc_by="revenue") == shown
    assert clientele.config_show(settings={"analysis": {"bins": 4, "returns": "exclude"}},
                                 analysis={"abc_by": "revenue"}) == shown
    assert clientele.config_show(bins=4, returns="exclude", abc_by="revenue") == shown

    a = clientele.rfm(SAMPLE, settings=config)
    b = clientele.rfm(SAMPLE, bins=4, returns="exclude")
    assert a.equals(b) and len(a.thresholds[0].cut_points) == 3


def test_clusters_model_round_trip_and_sql(tmp_path):
    fitted = clientele.clusters(SAMPLE, k=3, seed=7)
    assert fitted.clusters.k == 3 and "cluster" in fitted.columns
    fitted.clusters.save(tmp_path / "model.json")
    applied = clientele.clusters(SAMPLE, clusters={"model": str(tmp_path / "model.json")})
    assert applied["cluster"].to_list() == fitted["cluster"].to_list()

    query = clientele.sql(SAMPLE)
    assert "GROUP BY" in query.upper() and "sample_transactions.csv" in query
    report = clientele.validate(SAMPLE)
    assert report.rows.input_rows == 30_000 and report.customers == 2_000
    assert "30,000" in report.markdown


def test_help_lists_every_settings_key_and_default():
    doc = clientele.segment.__doc__
    for key in ["[analysis] as_of", "calibration_end", "holdout_end", "time_format", "bins = 5"]:
        assert key in doc, key
    import pydoc

    assert "as_of" in pydoc.render_doc(clientele.rfm)
