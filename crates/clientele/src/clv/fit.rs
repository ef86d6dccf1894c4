//! Maximum likelihood: L-BFGS (argmin) on log-parameters, standard errors from the Hessian.
//!
//! Every model parameter is positive, so the optimiser works on θ = ln(parameter). The
//! objective is the mean negative log-likelihood per customer plus an optional L2 penalty
//! λ·Σ parameter² (lifetimes' convention, so penalised fits are comparable). Standard errors
//! come from the inverse of the Hessian of the (unpenalised) negative log-likelihood in the
//! original parameters, computed by central differences of the analytic gradient.

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};

/// Customers per block of the parallel log-likelihood sum. Fixed, so the order of additions, and
/// with it every bit of the result, does not depend on the number of threads.
const BLOCK: usize = 4096;

/// A model's log-likelihood over weighted observations.
pub(crate) trait Likelihood: Sync {
    /// Number of parameters.
    const PARAMETERS: usize;

    /// Parameter names, for reports and errors.
    fn names() -> &'static [&'static str];

    /// Number of (weighted) observations.
    fn len(&self) -> usize;

    /// Total weight (number of customers).
    fn weight(&self) -> f64;

    /// What one evaluation computes once for all observations (tables of special functions
    /// over the few distinct values of a variable, for instance).
    type Prepared: Sync;

    /// Computes [`Likelihood::Prepared`] at `params`.
    fn prepare(&self, params: &[f64]) -> Self::Prepared;

    /// Every `step`-th observation, as a smaller likelihood for a warm start; `None` if the
    /// model does not support it.
    fn subsample(&self, _step: usize) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    /// The weighted log-likelihood of observations `range` and its gradient (added to `grad`).
    fn add_ll_grad(
        &self,
        params: &[f64],
        prepared: &Self::Prepared,
        range: std::ops::Range<usize>,
        grad: &mut [f64],
    ) -> f64;
}

/// Σ log-likelihood and its gradient, in deterministic blocks.
pub(crate) fn ll_and_grad<L: Likelihood>(model: &L, params: &[f64]) -> (f64, Vec<f64>) {
    let prepared = model.prepare(params);
    let blocks: Vec<(f64, Vec<f64>)> = (0..model.len().div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut grad = vec![0.0; L::PARAMETERS];
            let range = b * BLOCK..((b + 1) * BLOCK).min(model.len());
            let ll = model.add_ll_grad(params, &prepared, range, &mut grad);
            (ll, grad)
        })
        .collect();
    let mut total = 0.0;
    let mut grad = vec![0.0; L::PARAMETERS];
    for (ll, g) in blocks {
        total += ll;
        for (t, x) in grad.iter_mut().zip(g) {
            *t += x;
        }
    }
    (total, grad)
}

/// A fitted model's parameters and fit statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Parameter names, in order.
    pub names: Vec<&'static str>,
    /// Maximum likelihood estimates.
    pub params: Vec<f64>,
    /// Standard errors from the inverse Hessian (`None` where the Hessian is not invertible).
    pub std_errors: Vec<Option<f64>>,
    /// Total log-likelihood at the estimates (without the penalty).
    pub log_likelihood: f64,
    /// Customers fitted.
    pub customers: usize,
    /// L-BFGS iterations.
    pub iterations: u64,
    /// The L2 penalty λ used.
    pub penalty: f64,
    /// Why the optimiser stopped.
    pub termination: String,
    /// What a reader must know about the estimates: that the likelihood is highest towards a
    /// limit of the parameter space, or flat along a ray of two parameters, where only a
    /// combination of them is identified.
    pub notes: Vec<String>,
    /// Whether the optimiser stopped at a maximum: before its iteration limit, with every
    /// component of the gradient within [`GRADIENT_TOLERANCE`].
    #[serde(skip)]
    pub converged: bool,
    /// The largest |∂ objective / ∂ ln(parameter)| at the estimates, the objective being the
    /// mean negative log-likelihood per customer plus the penalty.
    #[serde(skip)]
    pub max_gradient: f64,
}

/// The largest gradient component (of the mean negative log-likelihood per customer, in the
/// logarithms of the parameters) a converged fit may have.
pub const GRADIENT_TOLERANCE: f64 = 1e-4;

/// A point θ with its cost and gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

struct Problem<'a, L: Likelihood> {
    model: &'a L,
    penalty: f64,
    /// The last evaluation: the line search asks for the cost and then the gradient at the same
    /// point, and one pass over the customers gives both.
    last: std::sync::Mutex<Option<Evaluation>>,
}

impl<L: Likelihood> Problem<'_, L> {
    /// Mean negative log-likelihood + penalty, and its gradient, at θ = ln(params), remembered.
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let mut last = self.last.lock().expect("the cache lock is never poisoned");
        if let Some((at, cost, grad)) = last.as_ref()
            && at.as_slice() == theta
        {
            return (*cost, grad.clone());
        }
        let (cost, grad) = self.compute(theta);
        *last = Some((theta.to_vec(), cost, grad.clone()));
        (cost, grad)
    }

    fn compute(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let (ll, grad) = ll_and_grad(self.model, &params);
        let n = self.model.weight();
        let cost = -ll / n + self.penalty * params.iter().map(|p| p * p).sum::<f64>();
        let grad = grad
            .iter()
            .zip(&params)
            .map(|(g, p)| -g * p / n + 2.0 * self.penalty * p * p)
            .collect();
        (cost, grad)
    }
}

impl<L: Likelihood> CostFunction for Problem<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        let (cost, _) = self.evaluate(theta);
        if cost.is_finite() {
            Ok(cost)
        } else {
            // Let the line search back off from a region where the likelihood is not finite.
            Ok(f64::MAX)
        }
    }
}

impl<L: Likelihood> Gradient for Problem<'_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        let (_, grad) = self.evaluate(theta);
        Ok(grad)
    }
}

/// Observations in the warm-start subsample.
const WARM_START_SIZE: usize = 20_000;

/// Fits a model by maximum likelihood from starting parameters.
///
/// On large data the fit starts from the optimum of a deterministic subsample (every k-th
/// observation, about [`WARM_START_SIZE`] of them), so the full-data optimisation needs few
/// iterations; the answer is still the full-data maximum, only the path to it is shorter.
///
/// # Errors
///
/// [`Error::Clv`] when there is nothing to fit, the optimiser fails, or the estimates are not
/// finite. A fit that stops at the iteration limit or with a gradient above
/// [`GRADIENT_TOLERANCE`] is returned with `converged` false (see [`super::diagnostics`]).
pub(crate) fn maximize<L: Likelihood>(
    model: &L,
    start: &[f64],
    penalty: f64,
    what: &str,
) -> Result<FitReport> {
    let fail = |detail: String| Error::Clv {
        detail: format!("{what}: {detail}"),
    };
    if model.len() == 0 {
        return Err(fail("no customers to fit".into()));
    }
    let warm = (model.len() >= 2 * WARM_START_SIZE)
        .then(|| model.subsample(model.len() / WARM_START_SIZE))
        .flatten()
        .and_then(|sample| optimize(&sample, start, penalty).ok())
        .map(|(theta, _, _)| theta.iter().map(|t| t.exp()).collect::<Vec<f64>>());
    let start = warm.as_deref().unwrap_or(start);
    let (theta, iterations, termination) = optimize(model, start, penalty).map_err(fail)?;
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    if params.iter().any(|p| !p.is_finite() || *p <= 0.0) {
        return Err(fail(format!(
            "the estimates are not finite positive numbers: {params:?}"
        )));
    }
    let (log_likelihood, _) = ll_and_grad(model, &params);
    if !log_likelihood.is_finite() {
        return Err(fail("the log-likelihood at the estimates is not finite".into()));
    }
    let problem = Problem {
        model,
        penalty,
        last: std::sync::Mutex::new(None),
    };
    let max_gradient = problem
        .compute(&theta)
        .1
        .iter()
        .fold(0.0, |m: f64, g| m.max(g.abs()));
    Ok(FitReport {
        converged: termination != TerminationReason::MaxItersReached && max_gradient <= GRADIENT_TOLERANCE,
        max_gradient,
        names: L::names().to_vec(),
        std_errors: standard_errors(model, &params),
        params,
        log_likelihood,
        customers: model.weight().round() as usize,
        iterations,
        penalty,
        termination: format!("{termination:?}"),
        notes: Vec::new(),
    })
}

/// Runs L-BFGS from `start`: θ at the optimum, iterations, and why it stopped.
fn optimize<L: Likelihood>(
    model: &L,
    start: &[f64],
    penalty: f64,
) -> std::result::Result<(Vec<f64>, u64, TerminationReason), String> {
    let problem = Problem {
        model,
        penalty,
        last: std::sync::Mutex::new(None),
    };
    let theta0: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    // The cost is a mean log-likelihood of order 1 to 100: a change below 1e-12 is ~100 ulps,
    // where the line search would only chase rounding noise.
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-8)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| e.to_string())?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(theta0).max_iters(1_000))
        .run()
        .map_err(|e| format!("the optimiser failed: {e}"))?;
    let state = result.state();
    let termination = match state.get_termination_status() {
        TerminationStatus::Terminated(reason) => reason.clone(),
        TerminationStatus::NotTerminated => TerminationReason::MaxItersReached,
    };
    let theta = state
        .get_best_param()
        .ok_or_else(|| "the optimiser found no parameters".to_string())?
        .clone();
    Ok((theta, state.get_iter(), termination))
}

/// Standard errors: √diag of the inverse Hessian of −LL in the original parameters.
fn standard_errors<L: Likelihood>(model: &L, params: &[f64]) -> Vec<Option<f64>> {
    let k = params.len();
    let mut hessian = vec![vec![0.0; k]; k];
    for j in 0..k {
        let h = 1e-5 * params[j].abs().max(1e-3);
        let mut up = params.to_vec();
        let mut down = params.to_vec();
        up[j] += h;
        down[j] -= h;
        let (_, g_up) = ll_and_grad(model, &up);
        let (_, g_down) = ll_and_grad(model, &down);
        for i in 0..k {
            hessian[i][j] = -(g_up[i] - g_down[i]) / (2.0 * h);
        }
    }
    let symmetric: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| 0.5 * (hessian[i][j] + hessian[j][i])).collect())
        .collect();
    match invert(symmetric) {
        Some(inverse) => (0..k)
            .map(|i| (inverse[i][i] > 0.0 && inverse[i][i].is_finite()).then(|| inverse[i][i].sqrt()))
            .collect(),
        None => vec![None; k],
    }
}

/// Gauss-Jordan inverse with partial pivoting; `None` when (numerically) singular.
pub(crate) fn invert(mut m: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let scale = m.iter().flatten().map(|x| x.abs()).fold(0.0, f64::max);
    for col in 0..n {
        let pivot = (col..n).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))?;
        if m[pivot][col].abs() <= 1e-13 * scale {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for j in 0..n {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for row in 0..n {
            if row != col {
                let f = m[row][col];
                if f != 0.0 {
                    for j in 0..n {
                        m[row][j] -= f * m[col][j];
                        inv[row][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normal observations with known mean and variance, as a 2-parameter likelihood in
    /// (μ, σ²), both positive here: the MLE is the sample mean and variance.
    struct Normal(Vec<f64>);

    impl Likelihood for Normal {
        const PARAMETERS: usize = 2;
        fn names() -> &'static [&'static str] {
            &["mu", "var"]
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn weight(&self) -> f64 {
            self.0.len() as f64
        }
        type Prepared = ();
        fn prepare(&self, _: &[f64]) {}
        fn add_ll_grad(&self, p: &[f64], _: &(), range: std::ops::Range<usize>, grad: &mut [f64]) -> f64 {
            let (mu, var) = (p[0], p[1]);
            let mut ll = 0.0;
            for x in &self.0[range] {
                let d = x - mu;
                ll += -0.5 * (var.ln() + d * d / var);
                grad[0] += d / var;
                grad[1] += -0.5 / var + 0.5 * d * d / (var * var);
            }
            ll
        }
    }

    #[test]
    fn recovers_a_known_maximum_and_its_standard_errors() {
        let data: Vec<f64> = (0..10_000)
            .map(|i| 5.0 + ((i * 7919) % 1000) as f64 / 250.0)
            .collect();
        let n = data.len() as f64;
        let mean = data.iter().sum::<f64>() / n;
        let var = data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let fit = maximize(&Normal(data), &[1.0, 1.0], 0.0, "normal").unwrap();
        assert!((fit.params[0] - mean).abs() < 1e-6, "{:?}", fit.params);
        assert!((fit.params[1] - var).abs() < 1e-6 * var, "{:?}", fit.params);
        // Standard error of the mean: sqrt(var / n).
        let se = fit.std_errors[0].unwrap();
        assert!((se - (var / n).sqrt()).abs() < 1e-4 * se, "{se}");
    }

    #[test]
    fn inverse_of_a_small_matrix() {
        let inv = invert(vec![vec![4.0, 7.0], vec![2.0, 6.0]]).unwrap();
        assert!((inv[0][0] - 0.6).abs() < 1e-12 && (inv[0][1] + 0.7).abs() < 1e-12);
        assert!(invert(vec![vec![1.0, 2.0], vec![2.0, 4.0]]).is_none());
    }
}
