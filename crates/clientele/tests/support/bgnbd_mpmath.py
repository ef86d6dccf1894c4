"""Reference values of the BG/NBD conditional expectation for tests/it/clv.rs.

E[X(t) | x, t_x, T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
                        * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
                      / (1 + 1{x>0} * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))

(Fader, Hardie & Lee 2005, eq. 10), evaluated with mpmath at 80 significant digits from the
exact binary values of the float arguments. Where the closed form is 0/0 or at a pole of 2F1
(a = 1; a + b + x - 1 = 0) the value is its limit, taken by perturbing a by 1e-40 (the
function is analytic there, so the error is of that order).

Run: python3 -m venv v && v/bin/pip install mpmath && v/bin/python bgnbd_mpmath.py
(mpmath 1.4.1 produced the values in the test).
"""
import mpmath as mp

mp.mp.dps = 80

# (label, r, alpha, a, b, x, t_x, T, horizon, perturb a?)
CASES = [
    ("CDNOW estimates, customer 1", 0.24259292827982148, 4.413532265271809, 0.7928859664406578,
     2.4257523826257374, 2, 30.43, 38.86, 39.0, False),
    ("a, b -> 0 (first 300 rows of sample_transactions.csv), x = 0", 10.767831350394047,
     48.877985335445786, 1.4233761771135467e-08, 3.690932393052251e-08, 0, 0.0, 2.0, 52.0, False),
    ("a, b -> 0, x = 0, horizon 0.1", 10.767831350394047, 48.877985335445786,
     1.4233761771135467e-08, 3.690932393052251e-08, 0, 0.0, 2.0, 0.1, False),
    ("a, b -> 0, x = 1", 10.767831350394047, 48.877985335445786, 1.4233761771135467e-08,
     3.690932393052251e-08, 1, 1.0, 2.0, 52.0, False),
    ("a = 1 (closed form 0/0)", 0.243, 4.414, 1.0, 2.426, 3, 20.0, 38.0, 39.0, True),
    ("a + b = 1, x = 0 (2F1 pole at c = 0)", 0.5, 3.0, 0.25, 0.75, 0, 0.0, 10.0, 52.0, True),
    ("r, alpha -> infinity (Poisson limit)", 4.16e6, 2.5e7, 0.5, 0.3, 2, 2.0, 4.0, 52.0, False),
    ("long horizon", 2.0, 1.0, 0.5, 0.3, 1, 1.0, 2.0, 2000.0, False),
    ("(1 - z)^(r+x) below the smallest double", 4000.0, 10.0, 2.0, 3.0, 5, 10.0, 10.0, 52.0, False),
]


def expected(r, alpha, a, b, x, t_x, T, t):
    r, alpha, a, b, x, t_x, T, t = (mp.mpf(v) for v in (r, alpha, a, b, x, t_x, T, t))
    z = t / (alpha + T + t)
    f = mp.hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f)
    denominator = 1 + (a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0)
    return numerator / denominator


for label, r, alpha, a, b, x, t_x, T, t, perturb in CASES:
    value = expected(r, alpha, mp.mpf(a) + (mp.mpf("1e-40") if perturb else 0), b, x, t_x, T, t)
    print(f"    // {label}")
    # The nearest double, written shortest (Python's repr round-trips).
    print(f"    [{r!r}, {alpha!r}, {a!r}, {b!r}, {float(x)!r}, {t_x!r}, {T!r}, {t!r}, {float(value)!r}],")
