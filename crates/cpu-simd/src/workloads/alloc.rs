//! Memory allocation: the latency of one `alloc` + `free` by size through the system allocator
//! (`std::alloc::System`, bypassing the suite's counting allocator), and a mixed pattern of
//! allocations and frees through a fixed-block pool against the system allocator.
//!
//! There is no arithmetic to check against f64 here: validation checks that the memory is
//! usable (every block is written with its own pattern and read back intact before it is freed,
//! which also catches overlapping blocks), and says so in its `reference`.
//!
//! The system `alloc_mixed` workload also measures fragmentation once, while validating: it
//! allocates a mixed-size set, frees three blocks in four at random, and records the process's
//! resident memory growth (`/proc/self/status` VmRSS) against the bytes still live.

use super::{Ctx, Profile, SUITE};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::ptr::NonNull;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// Alignment of every block (what `malloc` guarantees on 64-bit targets).
const ALIGN: usize = 16;

/// A pool of fixed-size blocks carved from one slab, with an intrusive free list: each free block
/// holds the index of the next free block in its first four bytes.
#[derive(Debug)]
pub struct Pool {
    block: usize,
    slab: Vec<u8>,
    /// First free block, or `NONE`.
    head: u32,
    live: usize,
}

const NONE: u32 = u32::MAX;

/// A block handed out by [`Pool::alloc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockId(u32);

impl Pool {
    /// `blocks` blocks of `block` bytes (at least 4, for the free-list link).
    pub fn new(block: usize, blocks: usize) -> Self {
        assert!(block >= 4, "pool blocks must hold a 4-byte link");
        assert!(blocks < NONE as usize, "pool too large for u32 links");
        let mut pool = Self {
            block,
            slab: vec![0; block * blocks],
            head: NONE,
            live: 0,
        };
        for i in (0..blocks).rev() {
            pool.push(i as u32);
        }
        pool
    }

    pub fn block_size(&self) -> usize {
        self.block
    }

    /// Blocks currently handed out.
    pub fn live(&self) -> usize {
        self.live
    }

    /// A free block, or `None` when the pool is exhausted.
    #[inline]
    pub fn alloc(&mut self) -> Option<BlockId> {
        if self.head == NONE {
            return None;
        }
        let id = self.head;
        self.head = self.link(id);
        self.live += 1;
        Some(BlockId(id))
    }

    /// Returns `id` to the pool. Freeing a block twice corrupts the free list, as with `free`.
    #[inline]
    pub fn free(&mut self, id: BlockId) {
        self.push(id.0);
        self.live -= 1;
    }

    /// The bytes of a live block.
    #[inline]
    pub fn bytes_mut(&mut self, id: BlockId) -> &mut [u8] {
        let start = id.0 as usize * self.block;
        &mut self.slab[start..start + self.block]
    }

    fn push(&mut self, id: u32) {
        let head = self.head;
        self.bytes_mut(BlockId(id))[..4].copy_from_slice(&head.to_le_bytes());
        self.head = id;
    }

    fn link(&self, id: u32) -> u32 {
        let start = id as usize * self.block;
        u32::from_le_bytes(self.slab[start..start + 4].try_into().expect("4-byte link"))
    }
}

/// One system allocation.
struct SysBlock {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl SysBlock {
    fn new(size: usize) -> Self {
        let layout = Layout::from_size_align(size.max(1), ALIGN).expect("valid layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { System.alloc(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Self { ptr, layout }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: we own this live allocation of `layout.size()` bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.layout.size()) }
    }
}

impl Drop for SysBlock {
    fn drop(&mut self) {
        // SAFETY: allocated by `System` with this layout, freed once (on drop).
        unsafe { System.dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

// SAFETY: a SysBlock is a unique owner of its allocation, like a Box<[u8]>.
unsafe impl Send for SysBlock {}

/// Fills `b` with a pattern derived from `tag`.
fn write_pattern(b: &mut [u8], tag: u32) {
    for (i, x) in b.iter_mut().enumerate() {
        *x = (tag as usize).wrapping_mul(31).wrapping_add(i) as u8;
    }
}

/// Whether `b` still holds the pattern of `tag`.
fn pattern_intact(b: &[u8], tag: u32) -> bool {
    b.iter()
        .enumerate()
        .all(|(i, &x)| x == (tag as usize).wrapping_mul(31).wrapping_add(i) as u8)
}

fn usability(bad: usize, what: &str) -> Validation {
    Validation {
        max_rel_err: bad as f64,
        tolerance: 0.0,
        passed: bad == 0,
        reference: format!(
            "memory check, not arithmetic: {what} written with its own pattern and read back \
             intact before being freed; max_rel_err counts corrupted blocks"
        ),
    }
}

/// `alloc` + `free` of one block of `size` bytes through the system allocator, untouched.
pub struct AllocFree {
    spec: WorkloadSpec,
    layout: Layout,
}

impl AllocFree {
    pub fn new(size: usize) -> Self {
        let spec = WorkloadSpec::new(SUITE, "alloc_free", "system", DType::U8).param("bytes", size);
        Self {
            spec,
            layout: Layout::from_size_align(size.max(1), ALIGN).expect("valid layout"),
        }
    }
}

impl Workload for AllocFree {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        // SAFETY: non-zero size; the block is freed with the layout it was allocated with.
        unsafe {
            let p = System.alloc(self.layout);
            std::hint::black_box(p);
            if !p.is_null() {
                System.dealloc(p, self.layout);
            }
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let mut b = SysBlock::new(self.layout.size());
        write_pattern(b.bytes_mut(), 1);
        let ok = pattern_intact(b.bytes_mut(), 1);
        drop(b);
        Ok(usability(usize::from(!ok), "the whole block"))
    }
}

/// One step of a mixed pattern: allocate `size` bytes into `slot`, or free `slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Alloc { slot: usize, size: usize },
    Free { slot: usize },
}

/// A seeded pattern over `slots` slots with sizes in `16..=max_size` (log-uniform): each step
/// frees a random live slot or fills a random empty one; everything is freed at the end.
pub fn mixed_pattern(steps: usize, slots: usize, max_size: usize, seed: u64) -> Vec<Step> {
    let u = data::uniform_f32_in(steps * 2, seed, 0.0, 1.0);
    let mut live = vec![false; slots];
    let mut out = Vec::with_capacity(steps + slots);
    let log_span = (max_size as f64 / 16.0).log2();
    for pair in u.chunks(2) {
        let slot = ((f64::from(pair[0]) * slots as f64) as usize).min(slots - 1);
        if live[slot] {
            out.push(Step::Free { slot });
        } else {
            let size = (16.0 * 2f64.powf(f64::from(pair[1]) * log_span)) as usize;
            out.push(Step::Alloc {
                slot,
                size: size.clamp(16, max_size),
            });
        }
        live[slot] = !live[slot];
    }
    out.extend(
        (0..slots)
            .filter(|&s| live[s])
            .map(|slot| Step::Free { slot }),
    );
    out
}

/// Which allocator serves the mixed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    System,
    Pool,
}

impl Allocator {
    pub fn name(self) -> &'static str {
        match self {
            Allocator::System => "system",
            Allocator::Pool => "pool",
        }
    }
}

/// The mixed pattern; each allocation's first 8 bytes are written (as a real object would be).
pub struct AllocMixed {
    spec: WorkloadSpec,
    allocator: Allocator,
    steps: usize,
    slots: usize,
    max_size: usize,
    pattern: Vec<Step>,
    pool: Pool,
    sys: Vec<Option<SysBlock>>,
    pooled: Vec<Option<BlockId>>,
    frag: BTreeMap<String, serde_json::Value>,
}

impl AllocMixed {
    pub fn new(allocator: Allocator, steps: usize, slots: usize, max_size: usize) -> Self {
        let spec = WorkloadSpec::new(SUITE, "alloc_mixed", allocator.name(), DType::U8)
            .param("steps", steps)
            .param("slots", slots)
            .param("max_bytes", max_size);
        Self {
            spec,
            allocator,
            steps,
            slots,
            max_size,
            pattern: vec![],
            pool: Pool::new(max_size.max(4), 0),
            sys: vec![],
            pooled: vec![],
            frag: BTreeMap::new(),
        }
    }

    /// Runs the pattern; with `check`, writes whole blocks and counts corrupted ones on free.
    fn run(&mut self, check: bool) -> usize {
        let mut bad = 0;
        for &step in &self.pattern {
            match (self.allocator, step) {
                (Allocator::System, Step::Alloc { slot, size }) => {
                    let mut b = SysBlock::new(size);
                    touch(b.bytes_mut(), slot, check);
                    self.sys[slot] = Some(b);
                }
                (Allocator::System, Step::Free { slot }) => {
                    if let Some(mut b) = self.sys[slot].take() {
                        bad += usize::from(check && !pattern_intact(b.bytes_mut(), slot as u32));
                    }
                }
                (Allocator::Pool, Step::Alloc { slot, .. }) => {
                    let id = self.pool.alloc().expect("the pool has a block per slot");
                    touch(self.pool.bytes_mut(id), slot, check);
                    self.pooled[slot] = Some(id);
                }
                (Allocator::Pool, Step::Free { slot }) => {
                    if let Some(id) = self.pooled[slot].take() {
                        let b = self.pool.bytes_mut(id);
                        bad += usize::from(check && !pattern_intact(b, slot as u32));
                        self.pool.free(id);
                    }
                }
            }
        }
        bad
    }
}

fn touch(b: &mut [u8], slot: usize, whole: bool) {
    if whole {
        write_pattern(b, slot as u32);
    } else {
        let n = b.len().min(8);
        b[..n].copy_from_slice(&(slot as u64).to_le_bytes()[..n]);
    }
}

impl Workload for AllocMixed {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.pattern = mixed_pattern(self.steps, self.slots, self.max_size, seed);
        self.sys = (0..self.slots).map(|_| None).collect();
        self.pooled = vec![None; self.slots];
        self.pool = Pool::new(self.max_size.next_multiple_of(ALIGN), self.slots);
        Ok(())
    }
    fn execute(&mut self) {
        self.run(false);
    }
    fn validate(&mut self) -> Result<Validation> {
        if self.allocator == Allocator::System {
            self.frag = fragmentation(self.max_size);
        }
        let bad = self.run(true);
        Ok(usability(bad, "every block of the pattern"))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = self.frag.clone();
        e.insert("ops_per_iter".into(), self.pattern.len().into());
        e
    }
}

/// Resident set size of this process, from `/proc/self/status`.
pub fn rss_bytes() -> std::result::Result<u64, crate::Error> {
    const STATUS: &str = "/proc/self/status";
    let unavailable = |reason: String| crate::Error::unavailable(STATUS, reason);
    let status = std::fs::read_to_string(STATUS)
        .map_err(|e| unavailable(format!("cannot read {STATUS}: {e}")))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| unavailable(format!("no VmRSS line in {STATUS}")))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| unavailable(format!("unreadable VmRSS line in {STATUS}")))?;
    Ok(kb * 1024)
}

/// Bytes allocated by the fragmentation measurement before three quarters are freed.
const FRAG_BYTES: usize = 64 << 20;

/// Allocates mixed sizes up to `max_size` (about [`FRAG_BYTES`] in all, every page touched),
/// frees three blocks in four at random, and measures resident memory against live bytes. The
/// bookkeeping (random draws, the block table) is allocated and touched before the baseline.
fn fragmentation(max_size: usize) -> BTreeMap<String, serde_json::Value> {
    let mut e = BTreeMap::new();
    let log_span = (max_size as f64 / 16.0).log2();
    let draws = data::uniform_f32_in(FRAG_BYTES / max_size.max(16) * 8, 11, 0.0, 1.0);
    let mut blocks: Vec<Option<SysBlock>> = (0..draws.len() / 2).map(|_| None).collect();
    let before = match rss_bytes() {
        Ok(b) => b,
        Err(why) => {
            e.insert("fragmentation_skipped".into(), why.to_string().into());
            return e;
        }
    };
    let mut total = 0usize;
    for (slot, pair) in blocks.iter_mut().zip(draws.chunks(2)) {
        if total >= FRAG_BYTES {
            break;
        }
        let size = ((16.0 * 2f64.powf(f64::from(pair[0]) * log_span)) as usize).max(16);
        let mut b = SysBlock::new(size);
        b.bytes_mut().fill(1);
        total += size;
        *slot = Some(b);
    }
    let peak = rss_bytes().unwrap_or(before);
    let mut live = 0usize;
    for (slot, pair) in blocks.iter_mut().zip(draws.chunks(2)) {
        if pair[1] < 0.25 {
            live += slot.as_ref().map_or(0, |b| b.layout.size());
        } else {
            *slot = None;
        }
    }
    let after = rss_bytes().unwrap_or(before);
    drop(blocks);
    let delta = after.saturating_sub(before);
    e.insert("frag_allocated_bytes".into(), total.into());
    e.insert(
        "frag_rss_peak_delta_bytes".into(),
        peak.saturating_sub(before).into(),
    );
    e.insert("frag_live_bytes".into(), live.into());
    e.insert("frag_rss_delta_bytes".into(), delta.into());
    e.insert(
        "frag_ratio".into(),
        (delta as f64 / live.max(1) as f64).into(),
    );
    e.insert(
        "frag_definition".into(),
        "resident growth / live bytes after freeing 3 of 4 mixed-size blocks at random".into(),
    );
    e
}

/// Sizes for the alloc + free latency: 64 B to 64 MiB.
fn sizes(ctx: &Ctx) -> Vec<usize> {
    match ctx.profile {
        Profile::Quick => vec![4096],
        Profile::Standard | Profile::Full => {
            vec![64, 1 << 10, 16 << 10, 256 << 10, 4 << 20, 64 << 20]
        }
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for size in sizes(ctx) {
        suite.add(AllocFree::new(size));
    }
    let steps = if ctx.profile == Profile::Quick {
        4096
    } else {
        65536
    };
    for allocator in [Allocator::System, Allocator::Pool] {
        suite.add(AllocMixed::new(allocator, steps, 1024, 256));
    }
}
