"""examples/python/ runs as written (the notebook-style walk through Online Retail)."""

import subprocess
import sys

from conftest import REPO


def test_online_retail_example_runs(datasets, tmp_path):
    script = REPO / "examples" / "python" / "online_retail.py"
    data = datasets / "online_retail" / "online_retail.csv.gz"
    out = subprocess.run([sys.executable, str(script), str(data), str(tmp_path / "report")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "541,909 rows = 397,924 used + 8,905 excluded + 135,080 rejected; 4,339 customers" in text
    assert "Champions" in text
    assert "holdout:" in text and "predicted" in text
    assert (tmp_path / "report" / "report.html").is_file()
