//! The collectives over NCCL on GPU buffers (feature `nccl`): one process per GPU, the NCCL unique
//! id sent from rank 0 over MPI, CUDA events for time (the max over ranks, as with MPI). Without
//! the feature, GPUs or libnccl on every rank, each collective is one `skipped` line saying why.

use crate::collectives::Collective;
use crate::comm::Layout;
use crate::registry::Entry;
use tensorbench_core::{DType, WorkloadSpec};

/// One `skipped` entry per collective, for when NCCL cannot run here.
fn skip_all(layout: &Layout, reason: &str) -> Vec<Entry> {
    Collective::ALL
        .iter()
        .map(|op| Entry::Skip {
            spec: WorkloadSpec::new("distributed", op.name(), "nccl", DType::F32)
                .param("ranks", layout.size),
            reason: reason.to_string(),
        })
        .collect()
}

/// The NCCL entries of a run. Collective: every rank probes, and all skip if any rank cannot run.
#[cfg(not(feature = "nccl"))]
pub fn register(_sizes: &[usize], layout: &Layout) -> Vec<Entry> {
    skip_all(
        layout,
        "built without the `nccl` feature (build with `--features nccl` to measure NCCL)",
    )
}

#[cfg(feature = "nccl")]
pub use device::register;

#[cfg(feature = "nccl")]
mod device {
    use super::skip_all;
    use crate::check::{check_output, validation};
    use crate::collectives::Collective;
    use crate::comm::{self, Layout};
    use crate::mpi_collective::annotate_collective;
    use crate::registry::Entry;
    use crate::{pattern, watchdog};
    use cudarc::driver::{CudaContext, CudaEvent, CudaSlice, CudaStream};
    use cudarc::nccl::result::NcclError;
    use cudarc::nccl::safe::{Comm, Id, ReduceOp};
    use mpi::traits::*;
    use std::panic::catch_unwind;
    use std::sync::Arc;
    use tensorbench_core::device::{Device, MeterResult};
    use tensorbench_core::schema::{Measurement, Validation};
    use tensorbench_core::{Clock, ClockSource, DType, Error, Result, Workload, WorkloadSpec};

    /// What [`crate::Error::Unavailable`] names when NCCL cannot run on a rank.
    fn no_nccl(reason: impl Into<String>) -> crate::Error {
        crate::Error::unavailable("NCCL", reason)
    }

    /// The NCCL communicator and this rank's GPU stream, shared by every NCCL workload.
    struct Shared {
        stream: Arc<CudaStream>,
        comm: Comm,
        device_names: Vec<String>,
    }

    // SAFETY: the driver runs every workload from the main thread only; the `Send` bound comes
    // from core's `Workload` trait, not from any use across threads. NCCL communicators may be
    // used from any one thread at a time.
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}

    pub fn register(sizes: &[usize], layout: &Layout) -> Vec<Entry> {
        let local = catch_unwind(|| probe(layout))
            .unwrap_or_else(|_| Err(no_nccl("the CUDA driver panicked while probed")));
        let why = local.as_ref().err().map(ToString::to_string);
        let reasons = comm::all_gather_strings(why.as_deref().unwrap_or(""));
        if let Some((r, reason)) = reasons.iter().enumerate().find(|(_, s)| !s.is_empty()) {
            return skip_all(layout, &format!("rank {r} ({}): {reason}", layout.hosts[r]));
        }
        let stream = local.expect("every rank probed successfully");
        let shared = match connect(stream, layout) {
            Ok(s) => Arc::new(s),
            Err(why) => return skip_all(layout, &why.to_string()),
        };
        let device: Arc<dyn Device> = Arc::new(NcclDevice {
            shared: shared.clone(),
        });
        let mut entries = Vec::new();
        for op in Collective::ALL {
            for &bytes in sizes {
                let count = op.count(bytes, 4, layout.size);
                if count > 0 {
                    entries.push(Entry::Run(
                        device.clone(),
                        Box::new(NcclCollective::new(op, count, layout, shared.clone())),
                    ));
                }
            }
        }
        entries
    }

    /// This rank's GPU stream, or why NCCL cannot run on this rank. Checks the libraries are
    /// loadable before calling into them (cudarc panics on a missing library).
    fn probe(layout: &Layout) -> std::result::Result<Arc<CudaStream>, crate::Error> {
        // SAFETY: only tries to dlopen the libraries.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(no_nccl(
                "the CUDA driver library (libcuda) is not installed: no NVIDIA GPU driver",
            ));
        }
        // SAFETY: as above.
        if !unsafe { cudarc::nccl::sys::is_culib_present() } {
            return Err(no_nccl("libnccl is not installed"));
        }
        let gpus = CudaContext::device_count()
            .map_err(|e| no_nccl(format!("cuInit/cuDeviceGetCount: {e}")))?;
        let gpus = usize::try_from(gpus).unwrap_or(0);
        if gpus == 0 {
            return Err(no_nccl("no CUDA device"));
        }
        if layout.local_size > gpus {
            return Err(no_nccl(format!(
                "{} ranks on this host but {gpus} GPU(s): NCCL needs one process per GPU",
                layout.local_size
            )));
        }
        let ctx = CudaContext::new(layout.local_rank)
            .map_err(|e| no_nccl(format!("CUDA device {}: {e}", layout.local_rank)))?;
        Ok(ctx.default_stream())
    }

    /// Creates the NCCL communicator: rank 0 makes the unique id and broadcasts it over MPI.
    fn connect(
        stream: Arc<CudaStream>,
        layout: &Layout,
    ) -> std::result::Result<Shared, crate::Error> {
        let world = comm::world();
        let made = if layout.rank == 0 {
            Id::new().map_err(|e| no_nccl(format!("ncclGetUniqueId: {e:?}")))
        } else {
            Ok(Id::uninit([0; 128]))
        };
        if !comm::all_true(made.is_ok()) {
            return Err(made
                .err()
                .unwrap_or_else(|| no_nccl("rank 0: ncclGetUniqueId failed")));
        }
        // The id's 128 bytes, as `c_char` (i8 or u8 by platform; MPI knows both).
        let mut internal = *made.expect("checked on every rank").internal();
        world.process_at_rank(0).broadcast_into(&mut internal[..]);
        let comm = Comm::from_rank(
            stream.clone(),
            layout.rank,
            layout.size,
            Id::uninit(internal),
        );
        let reason = comm
            .as_ref()
            .err()
            .map(|e| format!("ncclCommInitRank: {e:?}"))
            .unwrap_or_default();
        let reasons = comm::all_gather_strings(&reason);
        if let Some((r, why)) = reasons.iter().enumerate().find(|(_, s)| !s.is_empty()) {
            return Err(no_nccl(format!("rank {r}: {why}")));
        }
        let name = stream
            .context()
            .name()
            .unwrap_or_else(|_| "unknown GPU".into());
        let device_names = comm::all_gather_strings(&format!("cuda:{} {name}", layout.local_rank));
        Ok(Shared {
            stream,
            comm: comm.expect("checked on every rank"),
            device_names,
        })
    }

    /// This rank's GPU as NCCL uses it: CUDA events on its stream for time.
    struct NcclDevice {
        shared: Arc<Shared>,
    }

    impl Device for NcclDevice {
        fn clock(&self) -> Result<Box<dyn Clock>> {
            Ok(Box::new(NcclClock {
                shared: self.shared.clone(),
                start: None,
                resolution_ns: comm::max_f64(500.0),
            }))
        }

        fn energy_meter(&self) -> MeterResult {
            Err(Error::unavailable(
                "energy counter",
                crate::NO_PER_RANK_ENERGY,
            ))
        }
    }

    /// CUDA events on this rank's stream, with the max over ranks like [`crate::clock::MpiClock`].
    struct NcclClock {
        shared: Arc<Shared>,
        start: Option<CudaEvent>,
        resolution_ns: f64,
    }

    fn clock_err(e: impl std::fmt::Debug) -> Error {
        Error::Clock {
            clock: "cuda_event".into(),
            reason: format!("{e:?}"),
        }
    }

    impl Clock for NcclClock {
        fn source(&self) -> ClockSource {
            ClockSource::CudaEvent
        }
        fn resolution_ns(&self) -> f64 {
            self.resolution_ns
        }
        fn start(&mut self) -> Result<()> {
            comm::world().barrier();
            self.start = Some(self.shared.stream.record_event(None).map_err(clock_err)?);
            Ok(())
        }
        fn stop(&mut self) -> Result<f64> {
            let end = self.shared.stream.record_event(None).map_err(clock_err)?;
            end.synchronize().map_err(clock_err)?;
            let start = self
                .start
                .take()
                .ok_or_else(|| clock_err("stop() without start()"))?;
            let ms = start.elapsed_ms(&end).map_err(clock_err)?;
            let slowest = comm::max_f64(f64::from(ms) * 1e6);
            watchdog::beat();
            Ok(slowest)
        }
    }

    /// One collective at one size over NCCL, f32 device buffers.
    struct NcclCollective {
        spec: WorkloadSpec,
        op: Collective,
        count: usize,
        ranks: usize,
        rank: usize,
        seed: u64,
        shared: Arc<Shared>,
        send: Option<CudaSlice<f32>>,
        recv: Option<CudaSlice<f32>>,
        wrong: u64,
    }

    impl NcclCollective {
        fn new(op: Collective, count: usize, layout: &Layout, shared: Arc<Shared>) -> Self {
            let (send, recv) = op.buffer_lens(count, layout.size);
            let spec = WorkloadSpec::new("distributed", op.name(), "nccl", DType::F32)
                .param(tensorbench_ops::param::BYTES, count * 4)
                .param("ranks", layout.size)
                .device(&format!("cuda:{}", layout.local_rank))
                .cost(0.0, (count * 4) as f64)
                .footprint(((send + recv) * 4 * layout.local_size) as u64);
            Self {
                spec,
                op,
                count,
                ranks: layout.size,
                rank: layout.rank,
                seed: 0,
                shared,
                send: None,
                recv: None,
                wrong: 0,
            }
        }

        /// Launches the collective once; NCCL's error as NCCL reports it.
        fn run_once(&mut self) -> std::result::Result<(), NcclError> {
            let comm = &self.shared.comm;
            let (Some(send), Some(recv)) = (self.send.as_mut(), self.recv.as_mut()) else {
                panic!("NCCL {}: not prepared", self.op.name());
            };
            let sum = ReduceOp::Sum;
            let status = match self.op {
                Collective::AllReduce => comm.all_reduce(send, recv, &sum),
                Collective::AllGather => comm.all_gather(send, recv),
                Collective::ReduceScatter => comm.reduce_scatter(send, recv, &sum),
                Collective::Broadcast => comm.broadcast_in_place(send, 0),
                Collective::Reduce => comm.reduce(send, Some(recv), &sum, 0),
                Collective::AllToAll => {
                    // nccl-tests' alltoall: one grouped send and receive per peer.
                    let block = self.count / self.ranks;
                    let mut group = comm.group();
                    for (peer, into) in recv.slice_mut(..).chunks_exact_mut(block).enumerate() {
                        group.send(send.slice(peer * block..(peer + 1) * block), peer as i32)?;
                        group.recv(into, peer as i32)?;
                    }
                    return Ok(());
                }
            };
            status.map(|_| ())
        }
    }

    impl Workload for NcclCollective {
        fn spec(&self) -> &WorkloadSpec {
            &self.spec
        }

        fn prepare(&mut self, seed: u64) -> Result<()> {
            self.seed = seed;
            let (send_len, recv_len) = self.op.buffer_lens(self.count, self.ranks);
            let mut host = vec![f32::NAN; send_len];
            if self.op != Collective::Broadcast || self.rank == 0 {
                pattern::fill(&mut host, seed, self.rank, 0);
            }
            let stream = &self.shared.stream;
            let local = stream
                .clone_htod(&host)
                .and_then(|s| Ok((s, stream.clone_htod(&vec![f32::NAN; recv_len.max(1)])?)))
                .map_err(|e| Error::Workload {
                    id: self.spec.id.clone(),
                    reason: format!("device buffers: {e:?}"),
                });
            let (send, recv) = comm::agree(local, &self.spec.id, "prepare")?;
            self.send = Some(send);
            self.recv = Some(recv);
            Ok(())
        }

        fn execute(&mut self) {
            if let Err(e) = self.run_once() {
                panic!("NCCL {}: {e:?}", self.op.name());
            }
        }

        fn sync(&mut self) -> Result<()> {
            self.shared
                .stream
                .synchronize()
                .map_err(|e| Error::Workload {
                    id: self.spec.id.clone(),
                    reason: format!("{e:?}"),
                })
        }

        fn validate(&mut self) -> Result<Validation> {
            let out = if self.op == Collective::Broadcast {
                self.send.as_ref()
            } else {
                self.recv.as_ref()
            };
            let recv_len = self.op.buffer_lens(self.count, self.ranks).1;
            let id = &self.spec.id;
            let host = match out {
                Some(buf) => self
                    .shared
                    .stream
                    .clone_dtoh(buf)
                    .map_err(|e| Error::workload(id.clone(), format!("{e:?}"))),
                None => Err(Error::workload(id.clone(), "not prepared")),
            };
            let host = comm::agree(host, id, "copying the output back")?;
            let len = if self.op == Collective::Broadcast {
                host.len()
            } else {
                recv_len
            };
            let local = check_output(
                self.op,
                self.seed,
                self.ranks,
                self.rank,
                self.count,
                &host[..len],
            );
            self.wrong = comm::sum_u64(local.wrong);
            Ok(validation(self.wrong, comm::max_f64(local.max_rel_err)))
        }

        fn annotate(&mut self, m: &mut Measurement) {
            annotate_collective(m, self.op, self.ranks, self.wrong);
            m.extra.insert(
                "rank_devices".into(),
                self.shared.device_names.clone().into(),
            );
        }
    }
}
