//! Latency: percentiles are nearest-rank order statistics (the value at rank ceil(q * n), which
//! polars calls `Equiprobable`), exact, over the calls whose latency is known.
//!
//! By inference region: successful calls with a known inference region. By route (the latency
//! cost of rerouting): per (source region, base model, route), successful calls with a latency
//! whose route is local or rerouted; unknown routes say nothing about it.

/// Successful calls with a known inference region (the denominator of coverage).
pub const CALLS: &str = "calls";
pub const P50: &str = "p50_ms";
pub const P90: &str = "p90_ms";
pub const P99: &str = "p99_ms";
pub const MEAN: &str = "mean_ms";
pub const FIRST_BYTE_P50: &str = "first_byte_p50_ms";

/// The 0-based index of the nearest-rank `q` quantile of `n` sorted values (polars' formula).
pub fn nearest_rank_index(n: usize, q: f64) -> usize {
    (((n as f64) * q).ceil() - 1.0).max(0.0) as usize
}

/// Latencies of one group: 4 bytes each, with the rare value past `u32::MAX` ms kept apart
/// (it ranks above every small one), so no value is ever clamped.
#[derive(Default, Debug)]
pub struct Latencies {
    small: Vec<u32>,
    large: Vec<u64>,
}

impl Latencies {
    pub fn push(&mut self, v: u64) {
        match u32::try_from(v) {
            Ok(v) => self.small.push(v),
            Err(_) => self.large.push(v),
        }
    }

    pub fn len(&self) -> usize {
        self.small.len() + self.large.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts in place; `nearest_rank` needs it.
    pub fn sort(&mut self) {
        self.small.sort_unstable();
        self.large.sort_unstable();
    }

    /// The nearest-rank `q` quantile; None when empty. Call `sort` first.
    pub fn nearest_rank(&self, q: f64) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        let i = nearest_rank_index(self.len(), q).min(self.len() - 1);
        Some(match self.small.get(i) {
            Some(v) => u64::from(*v),
            None => self.large[i - self.small.len()],
        })
    }

    pub fn mean(&self) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        let sum: f64 =
            self.small.iter().map(|v| f64::from(*v)).sum::<f64>() + self.large.iter().map(|v| *v as f64).sum::<f64>();
        Some(sum / self.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn nearest_rank_table() {
        // (values, q, want)
        let cases: [(&[u64], f64, Option<u64>); 9] = [
            (&[], 0.5, None),
            (&[7], 0.5, Some(7)),
            (&[7], 0.99, Some(7)),
            (&[1, 2], 0.5, Some(1)),
            (&[1, 2, 3, 4], 0.5, Some(2)),
            (&[1, 2, 3, 4], 0.9, Some(4)),
            (&[5, 1, 4, 2, 3], 0.5, Some(3)),
            (&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9, Some(90)),
            (&[1, 5_000_000_000, 2], 0.9, Some(5_000_000_000)),
        ];
        for (values, q, want) in cases {
            let mut l = Latencies::default();
            values.iter().for_each(|v| l.push(*v));
            l.sort();
            assert_eq!(l.nearest_rank(q), want, "{values:?} {q}");
        }
    }

    /// The same figures polars' `Equiprobable` quantile gives, on data of every size up to 300.
    #[test]
    fn agrees_with_polars() {
        let mut rng = crate::sample::Rng::new(7);
        for n in 1..300usize {
            let values: Vec<i64> = (0..n).map(|_| rng.below(5000) as i64).collect();
            let mut l = Latencies::default();
            values.iter().for_each(|v| l.push(*v as u64));
            l.sort();
            let ca = Int64Chunked::from_vec("v".into(), values.clone());
            for q in [0.5, 0.9, 0.99] {
                let want = ca.quantile(q, QuantileMethod::Equiprobable).unwrap().map(|v| v as u64);
                assert_eq!(l.nearest_rank(q), want, "n={n} q={q}");
            }
            let mean = ca.mean();
            assert_eq!(l.mean(), mean, "n={n}");
        }
    }
}
