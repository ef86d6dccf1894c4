"""lifetimes 0.11.3 as the reference for clientele's MBG/NBD and its CLV convention.

Usage: lifetimes_reference.py SUMMARY.csv OUT.csv MODE PARAMS...

SUMMARY.csv has the columns frequency, recency, T, monetary_value (clientele's BTYD summary,
one row per customer, in weeks). MODE:

- `mbgnbd R ALPHA A B`: fits ModifiedBetaGeoFitter to the summary and prints its estimates
  r alpha a b and log-likelihood on one line; writes OUT.csv with, per customer, lifetimes'
  P(alive) and its conditional expected purchases over 39 weeks evaluated at clientele's
  estimates R ALPHA A B (so per-customer values compare the formulas, not two optimisers), and
  the log-likelihood of lifetimes at those estimates as the last printed number.
- `clv R ALPHA A B P Q V MONTHS RATE`: lifetimes' customer_lifetime_value (GammaGammaFitter,
  BetaGeoFitter with freq="W") at clientele's BG/NBD (R ALPHA A B) and Gamma-Gamma (P Q V)
  estimates over MONTHS months at the monthly discount RATE; writes OUT.csv with the column clv.
"""

import sys

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter


def main():
    summary_path, out_path, mode = sys.argv[1:4]
    numbers = [float(v) for v in sys.argv[4:]]
    s = pd.read_csv(summary_path)
    x, t_x, t = s["frequency"], s["recency"], s["T"]
    if mode == "mbgnbd":
        fitted = ModifiedBetaGeoFitter().fit(x, t_x, t)
        p = fitted.params_
        ll_fitted = -fitted._negative_log_likelihood(np.log(p[["r", "alpha", "a", "b"]].values), x, t_x, t, np.ones(len(x)), 0.0) * len(x)
        ours = ModifiedBetaGeoFitter()
        ours.params_ = pd.Series(dict(zip(["r", "alpha", "a", "b"], numbers)))
        ll_ours = -ours._negative_log_likelihood(np.log(np.array(numbers)), x, t_x, t, np.ones(len(x)), 0.0) * len(x)
        pd.DataFrame(
            {
                "p_alive": ours.conditional_probability_alive(x, t_x, t),
                "expected_39": ours.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, t),
            }
        ).to_csv(out_path, index=False, float_format="%.17g")
        print(" ".join(repr(float(v)) for v in [p["r"], p["alpha"], p["a"], p["b"], ll_fitted, ll_ours]))
    elif mode == "clv":
        r, alpha, a, b, pp, q, v, months, rate = numbers
        bgf = BetaGeoFitter()
        bgf.params_ = pd.Series({"r": r, "alpha": alpha, "a": a, "b": b})
        # What BetaGeoFitter.fit sets: predictions are conditional expectations.
        bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
        ggf = GammaGammaFitter()
        ggf.params_ = pd.Series({"p": pp, "q": q, "v": v})
        clv = ggf.customer_lifetime_value(
            bgf, x, t_x, t, s["monetary_value"], time=int(months), discount_rate=rate, freq="W"
        )
        pd.DataFrame({"clv": clv.values}).to_csv(out_path, index=False, float_format="%.17g")
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
