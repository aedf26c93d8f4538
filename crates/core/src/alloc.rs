//! A counting global allocator. A suite binary installs it with
//! `#[global_allocator] static A: CountingAllocator = CountingAllocator;` and the sampler then
//! records heap allocations per iteration; without it, measurements carry `alloc: null`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Forwards to the system allocator and counts every allocation (count and bytes).
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

// SAFETY: forwards every call unchanged to `System`, which upholds GlobalAlloc's contract.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        COUNT.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Totals since process start: (allocations, bytes).
pub(crate) fn snapshot() -> (u64, u64) {
    (COUNT.load(Relaxed), BYTES.load(Relaxed))
}

/// Whether [`CountingAllocator`] is the global allocator of this process.
pub(crate) fn is_counting() -> bool {
    let before = COUNT.load(Relaxed);
    let probe = std::hint::black_box(Box::new(0u64));
    drop(probe);
    COUNT.load(Relaxed) != before
}
