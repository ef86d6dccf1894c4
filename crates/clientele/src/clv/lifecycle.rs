//! Lifecycle stages: `new`, `active`, `lapsing` or `lost`, from the probability of being alive
//! together with the time since the last purchase measured against the customer's own
//! purchase rhythm.
//!
//! With the customer's calibration summary (x repeat purchases, recency t_x, age T, in the time
//! unit) at the calibration end:
//!
//! 1. **new** when the first purchase is at most [`Lifecycle::new_within_days`] days before the
//!    calibration end (customers first seen after it are `new` too; they have no summary);
//! 2. otherwise the **gap** is T − t_x (time since the last purchase), the **rhythm** is the
//!    customer's mean time between purchases t_x / x when x ≥ 1, and for one-time buyers the
//!    population's: the median of t_x / x over the repeat buyers; **overdue** = gap / rhythm;
//! 3. **lost** when P(alive) < [`Lifecycle::lost_below`] or overdue > [`Lifecycle::lost_after`];
//!    else **lapsing** when P(alive) < [`Lifecycle::active_from`] or overdue >
//!    [`Lifecycle::lapsing_after`]; else **active**.
//!
//! The stage is the worse of what the model and the rhythm say. The rhythm is needed because
//! a model can put the dropout at a boundary (BG/NBD a → 0: P(alive) ≈ 1 for everyone), and
//! because under BG/NBD a one-time buyer always has P(alive) = 1, however long ago it bought.
//! The default cut-offs, 2 and 4 rhythms, are where a customer still buying at its own mean
//! rate (as a Poisson process, the models' assumption while alive) would go that long without
//! a purchase with probability e⁻² = 13.5 % and e⁻⁴ = 1.8 %.

use super::params::Lifecycle;

/// The stages, in the order of their indices.
pub const STAGES: [&str; 4] = ["new", "active", "lapsing", "lost"];

/// The index of `new` in [`STAGES`].
pub const NEW: usize = 0;

/// The population's purchase rhythm: the median of t_x / x over the repeat buyers (x ≥ 1), in
/// the time unit; `None` without repeat buyers.
pub fn population_rhythm(x: &[f64], t_x: &[f64]) -> Option<f64> {
    let mut rhythms: Vec<f64> = x
        .iter()
        .zip(t_x)
        .filter(|(x, _)| **x > 0.0)
        .map(|(x, t_x)| t_x / x)
        .collect();
    if rhythms.is_empty() {
        return None;
    }
    rhythms.sort_by(f64::total_cmp);
    let n = rhythms.len();
    Some(if n % 2 == 1 {
        rhythms[n / 2]
    } else {
        (rhythms[n / 2 - 1] + rhythms[n / 2]) / 2.0
    })
}

/// Time since the last purchase over the customer's mean time between purchases (the
/// population's `rhythm` for a one-time buyer); 0 when the rhythm is 0.
pub fn overdue(x: f64, t_x: f64, t: f64, population: f64) -> f64 {
    let rhythm = if x > 0.0 { t_x / x } else { population };
    if rhythm > 0.0 { (t - t_x) / rhythm } else { 0.0 }
}

/// The stage index (into [`STAGES`]) of a customer with summary (x, t_x, T) in a time unit of
/// `unit_days` days, probability alive `p_alive`, and the population rhythm.
pub fn stage(
    l: &Lifecycle,
    unit_days: f64,
    x: f64,
    t_x: f64,
    t: f64,
    p_alive: f64,
    population: f64,
) -> usize {
    if t * unit_days <= l.new_within_days {
        return NEW;
    }
    let late = overdue(x, t_x, t, population);
    if p_alive < l.lost_below || late > l.lost_after {
        3
    } else if p_alive < l.active_from || late > l.lapsing_after {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_rhythm_of_repeat_buyers_stands_in_for_one_time_buyers() {
        assert_eq!(
            population_rhythm(&[0.0, 1.0, 2.0, 4.0], &[0.0, 3.0, 10.0, 4.0]),
            Some(3.0)
        );
        assert_eq!(population_rhythm(&[0.0, 0.0], &[0.0, 0.0]), None);
        assert_eq!(overdue(0.0, 0.0, 9.0, 3.0), 3.0);
        assert_eq!(overdue(2.0, 10.0, 30.0, 3.0), 4.0);
    }

    #[test]
    fn the_stage_is_the_worse_of_p_alive_and_the_rhythm() {
        let l = Lifecycle::default();
        // In weeks: first purchase 13 weeks (91 days) before the end is no longer new.
        assert_eq!(STAGES[stage(&l, 7.0, 0.0, 0.0, 12.0, 1.0, 10.0)], "new");
        // Bought every 10 weeks, last 15 weeks ago: 1.5 rhythms, P(alive) high.
        assert_eq!(STAGES[stage(&l, 7.0, 3.0, 30.0, 45.0, 0.95, 10.0)], "active");
        assert_eq!(STAGES[stage(&l, 7.0, 3.0, 30.0, 45.0, 0.5, 10.0)], "lapsing");
        // 2.5 rhythms late with P(alive) ≈ 1: lapsing; 4.5 rhythms: lost.
        assert_eq!(STAGES[stage(&l, 7.0, 3.0, 30.0, 55.0, 1.0, 10.0)], "lapsing");
        assert_eq!(STAGES[stage(&l, 7.0, 3.0, 30.0, 75.0, 1.0, 10.0)], "lost");
        assert_eq!(STAGES[stage(&l, 7.0, 3.0, 30.0, 31.0, 0.1, 10.0)], "lost");
        // A one-time buyer under BG/NBD (P(alive) = 1), 50 weeks ago, population rhythm 10.
        assert_eq!(STAGES[stage(&l, 7.0, 0.0, 0.0, 50.0, 1.0, 10.0)], "lost");
    }
}
