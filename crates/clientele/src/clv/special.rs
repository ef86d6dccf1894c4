//! Special functions for the buy-till-you-die models.
//!
//! `ln Γ` and `ψ` (digamma) come from statrs. The Gauss hypergeometric function ₂F₁, which no
//! maintained Rust crate provides for real arguments, is summed here from its power series,
//! which converges for |z| < 1; Pareto/NBD only ever evaluates it for 0 ≤ z < 1 (see the
//! callers), and the tests compare it with scipy's `hyp2f1` over that range. (BG/NBD's
//! conditional expectation avoids its ₂F₁, which has poles at valid parameters: see
//! [`super::bgnbd::purchases_while_alive`].) For shapes far beyond 1, [`ln_rising`] and
//! [`digamma_rising`] give ln Γ(r + x) − ln Γ(r) and ψ(r + x) − ψ(r) without cancellation.

pub use statrs::function::gamma::{digamma, ln_gamma};

/// Most series terms summed before giving up (z = 0.9999 needs about 400,000 terms for
/// a + b − c ≈ 1).
pub const MAX_TERMS: usize = 2_000_000;

/// Relative size of the last term at which a series is considered converged.
pub(crate) const TOLERANCE: f64 = 1e-16;

/// ₂F₁(a, b; c; z) for 0 ≤ z < 1 and c > 0, by its power series.
///
/// Returns `None` when z is outside [0, 1), c is not positive, or the series does not converge
/// within its term limit (z too close to 1).
///
/// ```
/// use clientele::clv::special::hyp2f1;
///
/// // scipy.special.hyp2f1(0.25, 1.5, 3.2, 0.3) = 1.0398052207935995
/// assert!((hyp2f1(0.25, 1.5, 3.2, 0.3).unwrap() - 1.0398052207935995).abs() < 1e-14);
/// ```
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) || c <= 0.0 || !(a.is_finite() && b.is_finite() && c.is_finite()) {
        return None;
    }
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for n in 0..MAX_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        let next = (a + n + 1.0) * (b + n + 1.0) / ((c + n + 1.0) * (n + 2.0)) * z;
        if tail_is_negligible(term, next, z, sum) {
            return Some(sum);
        }
    }
    None
}

/// Whether the rest of a series whose last term is `term` is below [`TOLERANCE`] × `sum`.
/// The ratios of successive terms tend to z; if the next one and z are both below q < 1, the
/// tail is at most |term| · q / (1 − q).
fn tail_is_negligible(term: f64, next_ratio: f64, z: f64, sum: f64) -> bool {
    let q = next_ratio.abs().max(z);
    q < 1.0 && (term.abs() * q / (1.0 - q) <= TOLERANCE * sum.abs() || term == 0.0)
}

/// ₂F₁(a, b; a + 1; z) and its partial derivatives with respect to a (with c = a + 1 moving
/// along), b and z, for 0 ≤ z < 1 and a > 0: `(value, ∂a, ∂b, ∂z)`.
///
/// The series is Σ tₙ with tₙ = a/(a + n) · (b)ₙ/n! · zⁿ, so ∂tₙ/∂a = tₙ · n / (a(a + n)),
/// ∂tₙ/∂b = tₙ · Σ_{k<n} 1/(b + k) and ∂tₙ/∂z = n·tₙ/z: the derivatives come from the same
/// terms, without differencing.
pub fn hyp2f1_a_b_a1(a: f64, b: f64, z: f64) -> Option<(f64, f64, f64, f64)> {
    if !(0.0..1.0).contains(&z) || a <= 0.0 || !(a.is_finite() && b.is_finite()) {
        return None;
    }
    let (mut value, mut d_a, mut d_b, mut d_zz) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut rising = 1.0f64; // (b)_n / n! * z^n
    let mut harmonic = 0.0f64; // sum_{k<n} 1/(b + k)
    for n in 1..MAX_TERMS {
        let k = (n - 1) as f64;
        rising *= (b + k) / (k + 1.0) * z;
        harmonic += 1.0 / (b + k);
        let nf = n as f64;
        let t = a / (a + nf) * rising;
        value += t;
        d_a += t * nf / (a * (a + nf));
        d_b += t * harmonic;
        d_zz += t * nf; // z · ∂/∂z
        // Each series' terms are tₙ times a factor that grows at most like n or ln n, so their
        // ratios exceed tₙ's by at most (1 + 1/n)²: bound every tail with that.
        let next = (a + nf) / (a + nf + 1.0) * (b + nf) / (nf + 1.0) * z * (1.0 + 1.0 / nf).powi(2);
        let converged = [
            (t, value),
            (t * nf / (a * (a + nf)), d_a),
            (t * harmonic, d_b),
            (t * nf, d_zz),
        ]
        .iter()
        .all(|(term, sum)| tail_is_negligible(*term, next, z, *sum));
        if converged {
            let d_z = if z > 0.0 { d_zz / z } else { a * b / (a + 1.0) };
            return Some((value, d_a, d_b, d_z));
        }
    }
    None
}

/// Below this shape, ln Γ(r + x) − ln Γ(r) is taken as a difference of `ln_gamma` (each at most
/// ln Γ(100 + x), so the difference keeps its digits); from it on, by Stirling's series, whose
/// next term is below 10⁻²⁴ there.
const STIRLING_FROM: f64 = 100.0;

/// ln Γ(z) − (z − ½) ln z + z − ½ ln 2π: the tail of Stirling's series, for z ≥ [`STIRLING_FROM`].
fn stirling_tail(z: f64) -> f64 {
    let z2 = z * z;
    (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * z2)) / z2) / z2) / z2) / z
}

/// ln Γ(r + x) − ln Γ(r), the logarithm of the rising factorial (r)ₓ, for r > 0 and x ≥ 0.
///
/// For a large shape r (a gamma or beta mixing distribution close to its limit of no
/// heterogeneity) both log-gammas are huge and nearly equal, and their difference loses all its
/// digits (at r = 10⁷ the difference of ≈ 1.5·10⁸ keeps 8 of 16); Stirling's series gives it
/// as (r − ½) ln(1 + x/r) + x ln(r + x) − x plus a tail of small terms, with full precision.
///
/// ```
/// use clientele::clv::special::ln_rising;
///
/// // (10⁷)(10⁷ + 1) = 100000010000000
/// assert!((ln_rising(1e7, 2.0) - 100000010000000f64.ln()).abs() < 1e-14);
/// ```
pub fn ln_rising(r: f64, x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if r < STIRLING_FROM {
        return ln_gamma(r + x) - ln_gamma(r);
    }
    (r - 0.5) * (x / r).ln_1p() + x * (r + x).ln() - x + (stirling_tail(r + x) - stirling_tail(r))
}

/// ψ(z) − ln z + 1/(2z): the tail of the asymptotic series of the digamma function.
fn digamma_tail(z: f64) -> f64 {
    let z2 = z * z;
    -(1.0 / 12.0 - (1.0 / 120.0 - (1.0 / 252.0 - (1.0 / 240.0 - 1.0 / (132.0 * z2)) / z2) / z2) / z2) / z2
}

/// ψ(r + x) − ψ(r), the derivative of [`ln_rising`] in r, with full precision for a large r
/// (where it is about x/r and ψ(r + x), ψ(r) agree to many digits).
pub fn digamma_rising(r: f64, x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if r < STIRLING_FROM {
        return digamma(r + x) - digamma(r);
    }
    (x / r).ln_1p() + x / (2.0 * r * (r + x)) + (digamma_tail(r + x) - digamma_tail(r))
}

/// ln(e^x + e^y) without overflow.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let m = x.max(y);
    m + ((x - m).exp() + (y - m).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (a, b, c, z, scipy.special.hyp2f1(a, b, c, z)), scipy 1.17.1; the first and the eighth
    /// are the arguments BG/NBD and Pareto/NBD use on CDNOW.
    const SCIPY: &[(f64, f64, f64, f64, f64)] = &[
        (2.243, 4.426, 4.219, 0.18770882606900177, 1.6325302184388852),
        (0.25, 1.5, 3.2, 0.3, 1.0398052207935995),
        (1.2, 3.4, 2.1, 0.05, 1.1052964081133596),
        (5.0, 7.5, 3.0, 0.7, 347202.1538148863),
        (0.5, 0.5, 1.5, 0.95, 1.380231154269963),
        (10.0, 12.0, 30.0, 0.99, 872.3023551662554),
        (2.0, 3.0, 4.0, 0.0, 1.0),
        (
            3.553,
            1.6059999999999999,
            5.159,
            0.03445009315103101,
            1.039409924682279,
        ),
        (40.0, 1.6, 41.0, 0.9, 30.463451829623608),
        (3.2, 2.0, 4.2, 0.5, 2.7716597724748167),
    ];

    #[test]
    fn matches_scipy_over_the_range_the_models_use() {
        for &(a, b, c, z, expected) in SCIPY {
            let got = hyp2f1(a, b, c, z).unwrap();
            assert!(
                ((got - expected) / expected).abs() < 1e-12,
                "2F1({a}, {b}; {c}; {z}) = {got}, scipy {expected}"
            );
        }
    }

    #[test]
    fn the_c_equals_a_plus_one_form_agrees_and_differentiates() {
        for &(a, b, c, z, expected) in SCIPY.iter().filter(|case| (case.2 - case.0 - 1.0).abs() < 1e-12) {
            let (value, d_a, d_b, d_z) = hyp2f1_a_b_a1(a, b, z).unwrap();
            assert!(((value - expected) / expected).abs() < 1e-12, "{a} {b} {c} {z}");
            let h = 1e-6;
            let f = |a: f64, b: f64, z: f64| hyp2f1(a, b, a + 1.0, z).unwrap();
            let num_a = (f(a + h, b, z) - f(a - h, b, z)) / (2.0 * h);
            let num_b = (f(a, b + h, z) - f(a, b - h, z)) / (2.0 * h);
            let num_z = (f(a, b, z + h) - f(a, b, z - h)) / (2.0 * h);
            for (name, analytic, numeric) in [("a", d_a, num_a), ("b", d_b, num_b), ("z", d_z, num_z)] {
                assert!(
                    (analytic - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                    "∂{name}: {analytic} vs {numeric}"
                );
            }
        }
    }

    #[test]
    fn outside_the_domain_is_none() {
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, -0.1), None);
        assert_eq!(hyp2f1(1.0, 1.0, 0.0, 0.5), None);
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        let z: f64 = 0.999;
        assert!((hyp2f1(1.0, 1.0, 2.0, z).unwrap() - (-(1.0 - z).ln() / z)).abs() < 1e-10);
    }

    #[test]
    fn rising_factorials_keep_their_digits_for_large_shapes() {
        // Against the exact products for integer x: to statrs' ln Γ accuracy (~1e-14) below
        // the switch, to rounding from it on (where a log-gamma difference keeps 8 digits at
        // r = 4e6 and none at 1e12).
        for r in [0.3, 7.5, 99.9, 100.0, 250.0, 4.16e6, 1e12] {
            let tolerance = if r < STIRLING_FROM { 1e-13 } else { 1e-15 };
            for x in [0.0, 1.0, 2.0, 5.0, 37.0] {
                let exact: f64 = (0..x as usize).map(|j| (r + j as f64).ln()).sum();
                let got = ln_rising(r, x);
                assert!(
                    (got - exact).abs() <= tolerance * exact.abs().max(1.0),
                    "ln (r)ₓ at r = {r}, x = {x}: {got} vs {exact}"
                );
                let harmonic: f64 = (0..x as usize).map(|j| 1.0 / (r + j as f64)).sum();
                let got = digamma_rising(r, x);
                assert!(
                    (got - harmonic).abs() <= 1e-13 * harmonic.abs(),
                    "ψ difference at r = {r}, x = {x}: {got} vs {harmonic}"
                );
            }
        }
        // Non-integer x, against the log-gamma difference on either side of the switch.
        for r in [100.0, 150.0] {
            let direct = ln_gamma(r + 2.5) - ln_gamma(r);
            assert!((ln_rising(r, 2.5) - direct).abs() < 1e-12, "{r}");
            let direct = digamma(r + 2.5) - digamma(r);
            assert!((digamma_rising(r, 2.5) - direct).abs() < 1e-13, "{r}");
        }
    }

    #[test]
    fn log_add_exp_is_stable() {
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
    }
}
