//! Ways to sum a gradient over all ranks, each written so its bytes on the wire are known:
//! the MPI library's `MPI_Allreduce`, a ring (reduce-scatter then all-gather over `MPI_Sendrecv`)
//! carrying f32 or f16, a parameter server (reduce to rank 0, then broadcast), and top-k
//! sparsification (each rank's k largest entries, all-gathered).

use crate::comm;
use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use mpi::collective::SystemOperation;
use mpi::datatype::Equivalence;
use mpi::point_to_point::send_receive_into;
use mpi::traits::*;

/// How a rank's values travel in the ring: f32 as is, or rounded to f16 at every hop.
pub trait Wire {
    type Elem: Equivalence + Copy + Default;
    const BYTES: usize;
    /// Converts `src` to wire elements in `dst` (same length).
    fn encode(src: &[f32], dst: &mut [Self::Elem]);
    /// Converts wire elements back to f32 (same length).
    fn decode(src: &[Self::Elem], dst: &mut [f32]);
}

/// Full precision on the wire.
#[derive(Debug)]
pub struct F32Wire;

impl Wire for F32Wire {
    type Elem = f32;
    const BYTES: usize = 4;
    fn encode(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
    fn decode(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
}

/// IEEE half precision on the wire (sent as its 16 bits), accumulated in f32. Conversions use
/// `half`'s slice routines, which take the CPU's F16C instructions when it has them.
#[derive(Debug)]
pub struct F16Wire;

impl Wire for F16Wire {
    type Elem = u16;
    const BYTES: usize = 2;
    fn encode(src: &[f32], dst: &mut [u16]) {
        dst.reinterpret_cast_mut::<f16>()
            .convert_from_f32_slice(src);
    }
    fn decode(src: &[u16], dst: &mut [f32]) {
        src.reinterpret_cast::<f16>().convert_to_f32_slice(dst);
    }
}

/// One value through the wire and back.
fn round_trip<W: Wire>(x: f32) -> f32 {
    let mut e = [W::Elem::default()];
    let mut back = [0.0f32];
    W::encode(&[x], &mut e);
    W::decode(&e, &mut back);
    back[0]
}

/// Buffers a ring keeps between calls, so a timed all-reduce does not allocate.
#[derive(Debug)]
pub struct RingScratch<W: Wire> {
    send: Vec<W::Elem>,
    recv: Vec<W::Elem>,
    incoming: Vec<f32>,
}

impl<W: Wire> Default for RingScratch<W> {
    fn default() -> Self {
        Self {
            send: Vec::new(),
            recv: Vec::new(),
            incoming: Vec::new(),
        }
    }
}

/// Bounds of chunk `c` of `len` elements split in `n`.
pub fn chunk(len: usize, n: usize, c: usize) -> std::ops::Range<usize> {
    len * c / n..len * (c + 1) / n
}

/// Ring all-reduce (sum) of `buf` in place over `MPI_COMM_WORLD`: n−1 reduce-scatter steps, after
/// which rank r holds the whole sum of chunk r+1, then n−1 all-gather steps. Values cross the
/// wire as `W`; with f16 the owner rounds its finished chunk too, so every rank ends identical.
/// Returns the bytes this rank sent.
pub fn ring_all_reduce<W: Wire>(buf: &mut [f32], scratch: &mut RingScratch<W>) -> u64 {
    let world = comm::world();
    let (n, r) = (world.size() as usize, world.rank() as usize);
    if n == 1 {
        return 0;
    }
    let right = world.process_at_rank(((r + 1) % n) as i32);
    let left = world.process_at_rank(((r + n - 1) % n) as i32);
    let widest = buf.len().div_ceil(n);
    let RingScratch {
        send,
        recv,
        incoming,
    } = scratch;
    send.resize(widest, W::Elem::default());
    recv.resize(widest, W::Elem::default());
    incoming.resize(widest, 0.0);
    let mut sent = 0u64;
    let mut step =
        |buf: &mut [f32], out_chunk: usize, in_chunk: Option<usize>, accumulate: bool| {
            let out = chunk(buf.len(), n, out_chunk);
            W::encode(&buf[out.clone()], &mut send[..out.len()]);
            let Some(in_chunk) = in_chunk else {
                // The owner's finished chunk: round it as the others will receive it.
                W::decode(&send[..out.len()], &mut buf[out]);
                return;
            };
            let inc = chunk(buf.len(), n, in_chunk);
            send_receive_into(&send[..out.len()], &right, &mut recv[..inc.len()], &left);
            sent += (out.len() * W::BYTES) as u64;
            if accumulate {
                W::decode(&recv[..inc.len()], &mut incoming[..inc.len()]);
                for (x, &y) in buf[inc].iter_mut().zip(incoming.iter()) {
                    *x += y;
                }
            } else {
                W::decode(&recv[..inc.len()], &mut buf[inc]);
            }
        };
    for s in 0..n - 1 {
        step(buf, (r + n - s) % n, Some((r + 2 * n - s - 1) % n), true);
    }
    step(buf, (r + 1) % n, None, false);
    for s in 0..n - 1 {
        step(buf, (r + 1 + n - s) % n, Some((r + n - s) % n), false);
    }
    sent
}

/// What [`ring_all_reduce`] leaves in every rank's buffer, element `i` of chunk `c`, computed from
/// every rank's input with the same roundings in the same order (in f64, rounded to f32 after
/// each add, which is exactly f32 addition).
pub fn ring_reference<W: Wire>(inputs: &[Vec<f32>], i: usize) -> f32 {
    let n = inputs.len();
    if n == 1 {
        return inputs[0][i];
    }
    let len = inputs[0].len();
    let c = (0..n)
        .find(|&c| chunk(len, n, c).contains(&i))
        .expect("index inside the buffer");
    // Chunk c starts at rank c and travels right, each rank adding its own value.
    let mut acc = inputs[c][i];
    for hop in 1..n {
        let partial = round_trip::<W>(acc);
        acc = (f64::from(partial) + f64::from(inputs[(c + hop) % n][i])) as f32;
    }
    round_trip::<W>(acc)
}

/// The library's `MPI_Allreduce` (sum), out of place; the library picks its own algorithm.
pub fn mpi_all_reduce(local: &[f32], out: &mut [f32]) {
    comm::world().all_reduce_into(local, out, SystemOperation::sum());
}

/// Parameter server: `MPI_Reduce` (sum) to rank 0, then `MPI_Bcast` of the sum from it.
pub fn parameter_server(local: &[f32], out: &mut [f32]) {
    let world = comm::world();
    let root = world.process_at_rank(0);
    if world.rank() == 0 {
        root.reduce_into_root(local, out, SystemOperation::sum());
    } else {
        root.reduce_into(local, SystemOperation::sum());
    }
    root.broadcast_into(out);
}

/// Top-k sparsification: each rank keeps its `k` entries of largest magnitude, the (index, value)
/// pairs are all-gathered, and every rank adds them into a dense sum in rank order.
#[derive(Debug, Default)]
pub struct TopK {
    pub k: usize,
    order: Vec<u32>,
    packed: Vec<u32>,
    gathered: Vec<u32>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            ..Self::default()
        }
    }

    /// Indices of the `k` largest |x| (ties: lower index first), in no particular order.
    pub fn select(&mut self, x: &[f32]) -> &[u32] {
        self.order.clear();
        self.order.extend(0..x.len() as u32);
        let k = self.k.min(x.len());
        if k > 0 && k < x.len() {
            self.order.select_nth_unstable_by(k - 1, |&a, &b| {
                x[b as usize]
                    .abs()
                    .total_cmp(&x[a as usize].abs())
                    .then(a.cmp(&b))
            });
        }
        &self.order[..k]
    }

    /// Sums every rank's top-k of `local` into `out`. Returns the bytes this rank's pairs take
    /// to reach the n−1 other ranks.
    pub fn all_reduce(&mut self, local: &[f32], out: &mut [f32]) -> u64 {
        let world = comm::world();
        let n = world.size() as usize;
        let k = self.k.min(local.len());
        self.select(local);
        self.packed.clear();
        for &i in &self.order[..k] {
            self.packed.extend([i, local[i as usize].to_bits()]);
        }
        self.gathered.resize(2 * k * n, 0);
        world.all_gather_into(&self.packed[..], &mut self.gathered[..]);
        out.fill(0.0);
        for pair in self.gathered.chunks_exact(2) {
            out[pair[0] as usize] += f32::from_bits(pair[1]);
        }
        (8 * k * (n - 1)) as u64
    }

    /// What [`TopK::all_reduce`] leaves on every rank, from every rank's input, in f64 rounded to
    /// f32 after each add (exactly the f32 sum in rank order).
    pub fn reference(&mut self, inputs: &[Vec<f32>]) -> Vec<f32> {
        let mut out = vec![0.0f32; inputs[0].len()];
        // A rank's pairs have distinct indices, so only the order across ranks matters.
        for x in inputs {
            for &i in self.select(x) {
                let i = i as usize;
                out[i] = (f64::from(out[i]) + f64::from(x[i])) as f32;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_buffer_once() {
        for (len, n) in [(10, 3), (3, 4), (1_000_003, 4), (8, 8)] {
            let total: usize = (0..n).map(|c| chunk(len, n, c).len()).sum();
            assert_eq!(total, len);
            assert_eq!(chunk(len, n, n - 1).end, len);
        }
    }

    #[test]
    fn top_k_keeps_the_largest_magnitudes() {
        let x = [0.1, -5.0, 3.0, 0.0, -3.0, 4.0];
        let mut t = TopK::new(3);
        let mut picked = t.select(&x).to_vec();
        picked.sort_unstable();
        assert_eq!(picked, vec![1, 2, 5]);
        let r = t.reference(&[x.to_vec(), x.to_vec()]);
        assert_eq!(r, vec![0.0, -10.0, 6.0, 0.0, 0.0, 8.0]);
    }

    #[test]
    fn f16_ring_reference_rounds_at_every_hop() {
        let a = vec![1.0f32, 1e-4];
        let b = vec![2049.0f32 / 2048.0, 3.0];
        // One element per chunk with two ranks; both values round in f16 on the way.
        let exact = ring_reference::<F32Wire>(&[a.clone(), b.clone()], 0);
        let half = ring_reference::<F16Wire>(&[a, b], 0);
        assert_eq!(exact, 1.0 + 2049.0 / 2048.0);
        assert_eq!(half, 2.0);
    }
}
