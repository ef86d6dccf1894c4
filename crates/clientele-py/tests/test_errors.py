"""Errors as Python exceptions of the library's kind, with the library's message."""

import os
import signal
import threading
import time

import pytest

import clientele
from conftest import SAMPLE, run_cli


def test_kinds_and_hierarchy(tmp_path):
    with pytest.raises(clientele.IoError) as e:
        clientele.segment(tmp_path / "missing.csv")
    assert e.value.kind == "io" and isinstance(e.value, clientele.ClienteleError)
    assert "missing.csv" in str(e.value)

    with pytest.raises(clientele.DataError) as e:
        clientele.segment(SAMPLE, customer="nope")
    assert e.value.kind == "data" and "nope" in str(e.value)

    empty = tmp_path / "empty.csv"
    empty.write_text("customer_id,order_date,amount\n")
    with pytest.raises(clientele.DataError):
        clientele.segment(empty)


def test_bad_settings_give_the_librarys_message(cli, tmp_path):
    with pytest.raises(clientele.UsageError) as e:
        clientele.rfm(SAMPLE, bins=12)
    assert e.value.kind == "usage"
    out = run_cli(cli, "rfm", SAMPLE, "--bins", "12", "-o", tmp_path / "x.csv")
    assert out.returncode == 2
    assert str(e.value) in out.stderr  # the CLI prints the same library message

    with pytest.raises(clientele.UsageError, match="returns"):
        clientele.segment(SAMPLE, returns="nett")
    with pytest.raises(clientele.UsageError, match="unknown setting \"bin\""):
        clientele.segment(SAMPLE, bin=4)
    with pytest.raises(clientele.UsageError, match="format is a setting of input and output"):
        clientele.segment(SAMPLE, format="csv")
    with pytest.raises(clientele.UsageError, match="clv=True"):
        clientele.segment(SAMPLE, horizon=52)
    with pytest.raises(clientele.IoError):
        clientele.segment(SAMPLE, settings=tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[analysis]\nbins = 12\nreturn = 1\n")
    with pytest.raises(clientele.UsageError, match="bad.toml"):
        clientele.segment(SAMPLE, settings=bad)
    with pytest.raises(TypeError):
        clientele.segment(42)


def test_keyboard_interrupt_between_stages(datasets):
    # clusters(): read and aggregate (a stage), then a long k-means sweep (another). A SIGINT
    # during the first stage stops the job when it ends, not after the sweep.
    path = datasets / "online_retail" / "online_retail.csv.gz"
    start = time.monotonic()
    clientele.customers(path)
    aggregate = time.monotonic() - start
    # Python raises KeyboardInterrupt only if SIGINT was not ignored when it started: a test
    # run launched in the background (`cmd &`, nohup) inherits it ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(aggregate / 4, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            clientele.clusters(path, k="auto", n_init=100, k_range="2-12", silhouette_sample=4339)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    # The sweep alone takes many times the aggregation (about 20x in a debug build).
    assert time.monotonic() - start < 2 * aggregate + 1.0
