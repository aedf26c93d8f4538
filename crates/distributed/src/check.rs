//! nccl-tests' `#wrong`: after one collective on [`pattern`] data, every output element is
//! compared exactly with its f64 reference.

use crate::collectives::Collective;
use crate::pattern::{sum_over_ranks, value};
use tensorbench_core::schema::Validation;

/// Wrong elements and largest relative error (denominator at least 1) of one rank's output.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Check {
    pub wrong: u64,
    pub max_rel_err: f64,
}

/// Checks `rank`'s output of `op` over `ranks` ranks for a size of `count` elements. `out` is the
/// receive buffer (the in-place buffer for broadcast). Non-root ranks of `reduce` have no output.
pub fn check_output(
    op: Collective,
    seed: u64,
    ranks: usize,
    rank: usize,
    count: usize,
    out: &[f32],
) -> Check {
    let block = count / ranks;
    let expected = |i: usize| -> f64 {
        match op {
            Collective::AllReduce | Collective::Reduce => sum_over_ranks(seed, ranks, i),
            Collective::Broadcast => f64::from(value(seed, 0, i)),
            // Rank r's block r*c..r*c+c of the output is rank r's whole send buffer.
            Collective::AllGather => f64::from(value(seed, i / block, i % block)),
            Collective::ReduceScatter => sum_over_ranks(seed, ranks, rank * block + i),
            // Block r of my output is block `rank` of rank r's send buffer.
            Collective::AllToAll => f64::from(value(seed, i / block, rank * block + i % block)),
        }
    };
    if op == Collective::Reduce && rank != 0 {
        return Check::default();
    }
    let mut c = Check::default();
    for (i, &got) in out.iter().enumerate() {
        let want = expected(i);
        let got = f64::from(got);
        if got != want {
            c.wrong += 1;
            let err = if got.is_nan() {
                f64::INFINITY
            } else {
                (got - want).abs() / want.abs().max(1.0)
            };
            c.max_rel_err = c.max_rel_err.max(err);
        }
    }
    c
}

/// The validation record of a collective: passed only when no element on any rank is wrong.
pub fn validation(wrong: u64, max_rel_err: f64) -> Validation {
    Validation {
        max_rel_err,
        tolerance: 0.0,
        passed: wrong == 0,
        reference: "exact f64 sums of integer-valued inputs, every element on every rank".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds what a correct collective would leave on `rank`, from the definitions.
    fn correct_output(
        op: Collective,
        seed: u64,
        ranks: usize,
        rank: usize,
        count: usize,
    ) -> Vec<f32> {
        let c = count / ranks;
        (0..op
            .buffer_lens(count, ranks)
            .1
            .max(if op == Collective::Broadcast {
                count
            } else {
                0
            }))
            .map(|i| match op {
                Collective::AllReduce | Collective::Reduce => {
                    (0..ranks).map(|r| value(seed, r, i)).sum()
                }
                Collective::Broadcast => value(seed, 0, i),
                Collective::AllGather => value(seed, i / c, i % c),
                Collective::ReduceScatter => (0..ranks).map(|r| value(seed, r, rank * c + i)).sum(),
                Collective::AllToAll => value(seed, i / c, rank * c + i % c),
            })
            .collect()
    }

    #[test]
    fn correct_outputs_pass_and_one_bad_element_is_counted() {
        for op in Collective::ALL {
            for rank in 0..3 {
                let mut out = correct_output(op, 5, 3, rank, 48);
                assert_eq!(check_output(op, 5, 3, rank, 48, &out).wrong, 0, "{op:?}");
                if op == Collective::Reduce && rank != 0 {
                    continue;
                }
                out[7] += 1.0;
                out[9] = f32::NAN;
                let c = check_output(op, 5, 3, rank, 48, &out);
                assert_eq!(c.wrong, 2, "{op:?} rank {rank}");
                assert_eq!(c.max_rel_err, f64::INFINITY);
            }
        }
    }
}
