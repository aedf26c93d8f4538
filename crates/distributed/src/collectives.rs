//! The six collectives with nccl-tests' conventions: what "size" means for each, how large each
//! rank's buffers are, and the factor that turns algorithm bandwidth into bus bandwidth.

use tensorbench_ops::Profile;

/// A collective operation, as nccl-tests names and sizes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collective {
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
    Reduce,
    AllToAll,
}

impl Collective {
    pub const ALL: [Collective; 6] = [
        Collective::AllReduce,
        Collective::AllGather,
        Collective::ReduceScatter,
        Collective::Broadcast,
        Collective::Reduce,
        Collective::AllToAll,
    ];

    /// The op name used in measurement ids.
    pub fn name(self) -> &'static str {
        match self {
            Collective::AllReduce => "all_reduce",
            Collective::AllGather => "all_gather",
            Collective::ReduceScatter => "reduce_scatter",
            Collective::Broadcast => "broadcast",
            Collective::Reduce => "reduce",
            Collective::AllToAll => "alltoall",
        }
    }

    /// busbw = algbw × this factor (nccl-tests `doc/PERFORMANCE.md`): the bandwidth each link
    /// must carry, comparable with the hardware's peak whatever the rank count.
    pub fn bus_factor(self, ranks: usize) -> f64 {
        let n = ranks as f64;
        match self {
            Collective::AllReduce => 2.0 * (n - 1.0) / n,
            Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll => {
                (n - 1.0) / n
            }
            Collective::Broadcast | Collective::Reduce => 1.0,
        }
    }

    /// Whether each rank holds one `1/ranks` block of the size (gather, scatter, all-to-all), so
    /// the element count must be a multiple of the rank count.
    fn is_blocked(self) -> bool {
        matches!(
            self,
            Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll
        )
    }

    /// Elements of the nccl-tests "size" for a requested byte size: the largest buffer of the
    /// operation (all_gather's output, reduce_scatter's input, all-to-all's whole send buffer),
    /// rounded down to a multiple of the rank count where it is split in blocks. Zero when the
    /// size holds less than one element per block.
    pub fn count(self, bytes: usize, elem_bytes: usize, ranks: usize) -> usize {
        let elems = bytes / elem_bytes;
        if self.is_blocked() {
            elems / ranks * ranks
        } else {
            elems
        }
    }

    /// Lengths of one rank's (send, receive) buffers for a size of `count` elements.
    /// Broadcast works in place: its send length is its only buffer and receive is empty.
    pub fn buffer_lens(self, count: usize, ranks: usize) -> (usize, usize) {
        match self {
            Collective::AllReduce | Collective::AllToAll | Collective::Reduce => (count, count),
            Collective::AllGather => (count / ranks, count),
            Collective::ReduceScatter => (count, count / ranks),
            Collective::Broadcast => (count, 0),
        }
    }
}

/// Message sizes of a profile, in bytes: `quick` 8 B to 1 MiB in steps of ×8 (and 1 MiB itself),
/// `standard` 8 B to 64 MiB doubling, `full` 8 B to 256 MiB doubling.
pub fn sizes(profile: Profile) -> Vec<usize> {
    let (max, step) = match profile {
        Profile::Quick => (1 << 20, 8),
        Profile::Standard => (64 << 20, 2),
        Profile::Full => (256 << 20, 2),
    };
    let mut out: Vec<usize> = std::iter::successors(Some(8usize), |s| Some(s * step))
        .take_while(|&s| s <= max)
        .collect();
    if out.last() != Some(&max) {
        out.push(max);
    }
    out
}

/// Algorithm and bus bandwidth in GB/s for `bytes` moved in `seconds` (nccl-tests' definitions).
pub fn bandwidths(op: Collective, bytes: f64, seconds: f64, ranks: usize) -> (f64, f64) {
    let algbw = bytes / seconds / 1e9;
    (algbw, algbw * op.bus_factor(ranks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_factors_match_nccl_tests() {
        assert_eq!(Collective::AllReduce.bus_factor(4), 1.5);
        assert_eq!(Collective::AllGather.bus_factor(4), 0.75);
        assert_eq!(Collective::ReduceScatter.bus_factor(2), 0.5);
        assert_eq!(Collective::AllToAll.bus_factor(8), 0.875);
        assert_eq!(Collective::Broadcast.bus_factor(4), 1.0);
        assert_eq!(Collective::Reduce.bus_factor(4), 1.0);
        assert_eq!(Collective::AllReduce.bus_factor(1), 0.0);
    }

    #[test]
    fn sizes_follow_the_profile() {
        assert_eq!(
            sizes(Profile::Quick),
            vec![8, 64, 512, 4096, 32768, 262_144, 1 << 20]
        );
        let std = sizes(Profile::Standard);
        assert_eq!((std[0], *std.last().unwrap(), std.len()), (8, 64 << 20, 24));
        assert_eq!(*sizes(Profile::Full).last().unwrap(), 256 << 20);
    }

    #[test]
    fn blocked_collectives_round_to_whole_blocks() {
        assert_eq!(Collective::AllGather.count(8, 4, 4), 0);
        assert_eq!(Collective::AllGather.count(64, 4, 4), 16);
        assert_eq!(Collective::AllGather.count(24, 4, 4), 4);
        assert_eq!(Collective::AllReduce.count(8, 4, 4), 2);
        assert_eq!(Collective::AllGather.buffer_lens(16, 4), (4, 16));
        assert_eq!(Collective::ReduceScatter.buffer_lens(16, 4), (16, 4));
        assert_eq!(Collective::Broadcast.buffer_lens(16, 4), (16, 0));
    }

    #[test]
    fn bandwidth_is_bytes_over_time() {
        let (alg, bus) = bandwidths(Collective::AllReduce, 1e9, 0.5, 2);
        assert_eq!((alg, bus), (2.0, 2.0));
    }
}
