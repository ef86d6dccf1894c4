"""Shared fixtures: the repository, the real data sets and the CLI binary to compare with.

In CI (``CI`` set) a missing data set or binary is an error, not a skip: the checks against the
CLI and the real data must run there.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "datasets" / "sample_transactions.csv"


def _missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: it must be there in CI")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def datasets() -> Path:
    path = Path(os.environ.get("CLIENTELE_DATASETS", REPO.parent / "shared" / "datasets"))
    if not (path / "online_retail").is_dir():
        _missing(f"CLIENTELE_DATASETS ({path})")
    return path


@pytest.fixture(scope="session")
def cli() -> str:
    """The clientele binary of this checkout (CLIENTELE_CLI, else the shared target's)."""
    candidates = [os.environ.get("CLIENTELE_CLI")]
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache" / "clientele-target"))
    candidates.append(str(Path(target) / "debug" / "clientele"))
    for c in candidates:
        if c and Path(c).is_file():
            return c
    _missing("the clientele binary (set CLIENTELE_CLI)")


def run_cli(cli: str, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [cli, "--quiet", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )
