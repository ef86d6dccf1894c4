"""The Python package lifetimes' summary and CLV of a transaction log, for the preset test.

Usage: python lifetimes_reference.py JOB.json

JOB: {"path": file, "format": "cdnow" (CDNOW_sample.txt: whitespace separated, no header:
master id, sample id (kept as text, "0001"), YYYYMMDD, CDs, dollars) or "csv" (customer_id,date,amount),
"observation_end": "YYYY-MM-DD", "freq": "D" or "W", "freq_multiplier": 1 or 7,
"clv": null or {"model": "bg-nbd" or "pareto-nbd", "params": {...}, "spend": {"p", "q", "v"},
"time": months, "discount": rate, "freq": "D" or "W"}, "out": CSV path}.

Writes customer_id, frequency, recency, T, monetary_value (and clv) per customer, floats as
Python writes them (shortest round trip), from lifetimes.utils.summary_data_from_transaction_data
and GammaGammaFitter.customer_lifetime_value with the given parameters (nothing is fitted here).
"""

import json
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.utils import summary_data_from_transaction_data


def read(job):
    if job["format"] == "cdnow":
        df = pd.read_csv(
            job["path"],
            sep=r"\s+",
            header=None,
            names=["master_id", "customer_id", "date", "cds", "amount"],
            dtype={"customer_id": "str", "date": "str"},
        )
        df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    else:
        df = pd.read_csv(job["path"], dtype={"customer_id": "str"})
        df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    return df[["customer_id", "date", "amount"]]


def main():
    job = json.load(open(sys.argv[1]))
    summary = summary_data_from_transaction_data(
        read(job),
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=job["observation_end"],
        freq=job["freq"],
        freq_multiplier=job["freq_multiplier"],
    )
    clv = job.get("clv")
    if clv:
        model = BetaGeoFitter() if clv["model"] == "bg-nbd" else ParetoNBDFitter()
        model.params_ = pd.Series(clv["params"])
        # What fit() sets (beta_geo_fitter.py and pareto_nbd_fitter.py, line 155 and 154).
        model.predict = model.conditional_expected_number_of_purchases_up_to_time
        spend = GammaGammaFitter()
        spend.params_ = pd.Series(clv["spend"])
        summary["clv"] = spend.customer_lifetime_value(
            model,
            summary["frequency"],
            summary["recency"],
            summary["T"],
            summary["monetary_value"],
            time=clv["time"],
            discount_rate=clv["discount"],
            freq=clv["freq"],
        )
    summary.index.name = "customer_id"
    summary.sort_index().to_csv(job["out"])


if __name__ == "__main__":
    main()
