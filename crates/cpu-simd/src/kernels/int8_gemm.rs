//! int8 GEMM with exact i32 accumulation: `C[m×n] = A[m×k]·Bᵀ` where `A` is `m×k` and `Bt` is
//! `n×k` (the weight layout of a linear layer, one output channel per row), both row-major `i8`.
//!
//! Same Goto/BLIS structure as the f32 kernel: B is packed into slivers of `NR` columns, A into
//! slivers of `MR` rows, and an `MR × NR` register tile accumulates. Values are packed in groups
//! along k, one group per i32 word: A's word is broadcast, B's words fill a register, and one
//! instruction multiplies each group and adds it into the i32 lane:
//!
//! - AVX-512 VNNI `vpdpbusd` (`_mm512_dpbusd_epi32`): groups of 4 bytes, unsigned × signed. A is
//!   stored biased by +128 to make it unsigned, and `128·Σ_p b[p][j]` is subtracted at the end;
//!   all sums wrap in i32, so the result is exact whenever the true one fits (see [`MAX_K`]).
//! - AVX-512BW / AVX2 `vpmaddwd` (`_mm512_madd_epi16`, `_mm256_madd_epi16`): pairs widened to i16.
//! - Portable: the same pairs in plain Rust.

/// Largest k whose result cannot overflow i32 for any i8 inputs: `k · 128² < 2³¹`. (Partial sums
/// may wrap on the VNNI path, whose biased sums are larger; wrapping arithmetic makes the final
/// value exact all the same.)
pub const MAX_K: usize = (i32::MAX as usize) / (128 * 128);

/// Depth of one packed block (a multiple of every group size, so only the last block of k can
/// end in a partial group).
const KC: usize = 256;
/// Row slivers per packed A block.
const MC_SLIVERS: usize = 16;
/// Columns per packed B block (rounded down to a multiple of NR).
const NC: usize = 1024;
/// Largest `MR × NR` tile, for the edge-tile buffer.
const MAX_TILE: usize = 512;

/// The instruction set the int8 kernel runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Int8Path {
    /// Plain Rust on i32 arrays (the compiler vectorises what it can for the baseline target).
    Portable,
    /// `_mm256_madd_epi16`.
    Avx2,
    /// `_mm512_madd_epi16`.
    Avx512Bw,
    /// `_mm512_dpbusd_epi32`.
    Avx512Vnni,
}

impl Int8Path {
    pub fn name(self) -> &'static str {
        match self {
            Int8Path::Portable => "portable",
            Int8Path::Avx2 => "avx2",
            Int8Path::Avx512Bw => "avx512bw",
            Int8Path::Avx512Vnni => "avx512vnni",
        }
    }

    pub fn is_supported(self) -> bool {
        match self {
            Int8Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Int8Path::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Int8Path::Avx512Bw => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(target_arch = "x86_64")]
            Int8Path::Avx512Vnni => {
                Int8Path::Avx512Bw.is_supported()
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every path this CPU supports, narrowest first.
    pub fn available() -> Vec<Int8Path> {
        [
            Int8Path::Portable,
            Int8Path::Avx2,
            Int8Path::Avx512Bw,
            Int8Path::Avx512Vnni,
        ]
        .into_iter()
        .filter(|p| p.is_supported())
        .collect()
    }

    pub fn best() -> Int8Path {
        *Self::available().last().unwrap_or(&Int8Path::Portable)
    }
}

/// Reusable packing buffers, so steady-state calls do not allocate.
#[derive(Debug, Default, Clone)]
pub struct Int8Workspace {
    a: Vec<i32>,
    b: Vec<i32>,
    /// `offset · Σ_p b[p][j]` per column, for the biased (VNNI) path.
    correction: Vec<i32>,
}

impl Int8Workspace {
    pub fn new() -> Self {
        Self::default()
    }
}

/// One region of the product: `c` (stride `ldc`) receives `a[m×k] · bt[n×k]ᵀ`.
#[derive(Debug, Clone, Copy)]
struct Region<'a> {
    m: usize,
    n: usize,
    k: usize,
    a: &'a [i8],
    bt: &'a [i8],
    c: *mut i32,
    ldc: usize,
}

/// The int8 kernel bound to one supported instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int8Gemm {
    path: Int8Path,
}

impl Int8Gemm {
    pub fn best() -> Self {
        Self {
            path: Int8Path::best(),
        }
    }

    /// The kernel on `path`, or `None` when this CPU lacks it.
    pub fn new(path: Int8Path) -> Option<Self> {
        path.is_supported().then_some(Self { path })
    }

    pub fn path(&self) -> Int8Path {
        self.path
    }

    /// `c = a · btᵀ`, single-threaded. Panics on mismatched sizes or `k > MAX_K`.
    #[allow(clippy::too_many_arguments)] // the BLAS shape: sizes, operands, workspace
    pub fn gemm(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &[i8],
        bt: &[i8],
        c: &mut [i32],
        ws: &mut Int8Workspace,
    ) {
        check_sizes(m, n, k, a, bt, c);
        let r = Region {
            m,
            n,
            k,
            a,
            bt,
            c: c.as_mut_ptr(),
            ldc: n,
        };
        // SAFETY: sizes checked; `c` is borrowed mutably for the whole call.
        unsafe { self.run(r, ws) }
    }

    /// # Safety
    /// `r.c` must be writable for `r.m` rows of `r.n` (stride `r.ldc`) and not accessed by
    /// anyone else meanwhile; `r.a` and `r.bt` must hold `m·k` and `n·k` values.
    unsafe fn run(&self, r: Region<'_>, ws: &mut Int8Workspace) {
        // SAFETY: each path only runs once detected; the region contract is forwarded.
        unsafe {
            match self.path {
                #[cfg(target_arch = "x86_64")]
                Int8Path::Avx512Vnni => x86::run_avx512vnni(r, ws),
                #[cfg(target_arch = "x86_64")]
                Int8Path::Avx512Bw => x86::run_avx512bw(r, ws),
                #[cfg(target_arch = "x86_64")]
                Int8Path::Avx2 => x86::run_avx2(r, ws),
                _ => blocked::<Portable, 6, 2>(Portable, r, ws),
            }
        }
    }
}

fn check_sizes(m: usize, n: usize, k: usize, a: &[i8], bt: &[i8], c: &[i32]) {
    crate::kernels::check_gemm_sizes("int8 gemm", (m, n, k), a.len(), bt.len(), c.len());
    assert!(
        k <= MAX_K,
        "int8 gemm: k={k} could overflow i32 accumulation (max {MAX_K})"
    );
}

/// The textbook loop: `c[i][j] = Σ_p a[i][p]·bt[j][p]` in i32.
pub fn scalar_gemm(m: usize, n: usize, k: usize, a: &[i8], bt: &[i8], c: &mut [i32]) {
    check_sizes(m, n, k, a, bt, c);
    for i in 0..m {
        let row = &a[i * k..(i + 1) * k];
        for j in 0..n {
            let col = &bt[j * k..(j + 1) * k];
            c[i * n + j] = row
                .iter()
                .zip(col)
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum();
        }
    }
}

/// The exact i64 value of `c[i][j]`, for validation.
pub fn dot_i64(a: &[i8], bt: &[i8], k: usize, i: usize, j: usize) -> i64 {
    a[i * k..(i + 1) * k]
        .iter()
        .zip(&bt[j * k..(j + 1) * k])
        .map(|(&x, &y)| i64::from(x) * i64::from(y))
        .sum()
}

/// `c = a · btᵀ` on tiles of C over rayon, each thread with its own packing buffers.
#[cfg(feature = "parallel")]
pub fn par_gemm(m: usize, n: usize, k: usize, a: &[i8], bt: &[i8], c: &mut [i32]) {
    use rayon::prelude::*;
    use std::cell::RefCell;
    thread_local! {
        static WS: RefCell<Int8Workspace> = RefCell::new(Int8Workspace::new());
    }
    /// C's base pointer, shared by tasks that write disjoint tiles.
    #[derive(Clone, Copy)]
    struct SharedC(*mut i32);
    // SAFETY: tasks write disjoint tiles of C.
    unsafe impl Send for SharedC {}
    // SAFETY: as above.
    unsafe impl Sync for SharedC {}
    impl SharedC {
        fn ptr(self) -> *mut i32 {
            self.0
        }
    }

    check_sizes(m, n, k, a, bt, c);
    let kernel = Int8Gemm::best();
    let threads = rayon::current_num_threads();
    // Rows first; columns when there are too few rows for every thread.
    let rp = (m / 32).clamp(1, threads);
    let cp = (threads / rp).clamp(1, (n / 64).max(1));
    let shared = SharedC(c.as_mut_ptr());
    (0..rp * cp).into_par_iter().for_each(|t| {
        let (i0, i1) = split(m, rp, 12, t / cp);
        let (j0, j1) = split(n, cp, 64, t % cp);
        if i0 == i1 || j0 == j1 {
            return;
        }
        let r = Region {
            m: i1 - i0,
            n: j1 - j0,
            k,
            a: &a[i0 * k..i1 * k],
            bt: &bt[j0 * k..j1 * k],
            // SAFETY: (i0, j0) lies inside the checked C.
            c: unsafe { shared.ptr().add(i0 * n + j0) },
            ldc: n,
        };
        // SAFETY: tiles of distinct t are disjoint and `c` is borrowed mutably for the call.
        WS.with(|ws| unsafe { kernel.run(r, &mut ws.borrow_mut()) });
    });
}

/// Splits `len` into `parts` ranges whose boundaries are multiples of `align`.
#[cfg(feature = "parallel")]
fn split(len: usize, parts: usize, align: usize, i: usize) -> (usize, usize) {
    let step = len.div_ceil(parts).next_multiple_of(align);
    ((i * step).min(len), ((i + 1) * step).min(len))
}

/// A register of i32 lanes, each fed by the products of one group of values along k.
///
/// Implementors are tokens built only once their instruction set was detected.
trait Madd: Copy {
    type V: Copy;
    /// i32 lanes per register.
    const LANES: usize;
    /// Values of k per i32 word: 2 (i16 pairs) or 4 (bytes).
    const GROUP: usize;
    /// Added to every value of A when packing (128 makes i8 unsigned for `vpdpbusd`).
    const A_OFFSET: i32;
    fn zero(self) -> Self::V;
    /// A register holding the packed word `w` in every lane.
    fn splat(self, w: i32) -> Self::V;
    /// # Safety
    /// `p` must be readable for `LANES` words.
    unsafe fn load(self, p: *const i32) -> Self::V;
    /// `acc + Σ_group a·b` per lane, wrapping.
    fn madd(self, a: Self::V, b: Self::V, acc: Self::V) -> Self::V;
    /// # Safety
    /// `p` must be writable for `LANES` i32; with `add`, readable too.
    unsafe fn store(self, p: *mut i32, v: Self::V, add: bool);
}

/// One packed word: a group of `G` values (plus `offset`), zero-padded; pairs as i16 halves,
/// quads as bytes.
#[inline(always)]
fn word<const G: usize>(group: &[i8], offset: i32) -> i32 {
    let v = |t: usize| group.get(t).map_or(0, |&x| i32::from(x) + offset);
    if G == 2 {
        pack_pair(v(0) as i16, v(1) as i16)
    } else {
        i32::from_le_bytes([v(0) as u8, v(1) as u8, v(2) as u8, v(3) as u8])
    }
}

/// Eight i32 lanes of i16 pairs in plain Rust.
#[derive(Debug, Clone, Copy)]
struct Portable;

impl Madd for Portable {
    type V = [i32; 8];
    const LANES: usize = 8;
    const GROUP: usize = 2;
    const A_OFFSET: i32 = 0;
    #[inline(always)]
    fn zero(self) -> [i32; 8] {
        [0; 8]
    }
    #[inline(always)]
    fn splat(self, w: i32) -> [i32; 8] {
        [w; 8]
    }
    #[inline(always)]
    unsafe fn load(self, p: *const i32) -> [i32; 8] {
        // SAFETY: the caller guarantees 8 readable words.
        unsafe { p.cast::<[i32; 8]>().read_unaligned() }
    }
    #[inline(always)]
    fn madd(self, a: [i32; 8], b: [i32; 8], mut acc: [i32; 8]) -> [i32; 8] {
        for l in 0..8 {
            let (alo, ahi) = unpack_pair(a[l]);
            let (blo, bhi) = unpack_pair(b[l]);
            acc[l] = acc[l].wrapping_add(alo * blo + ahi * bhi);
        }
        acc
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut i32, v: [i32; 8], add: bool) {
        for (l, &x) in v.iter().enumerate() {
            // SAFETY: the caller guarantees 8 writable (and, with `add`, readable) i32.
            unsafe { *p.add(l) = if add { (*p.add(l)).wrapping_add(x) } else { x } };
        }
    }
}

/// Two i16 in one i32, low half first (the lane layout `pmaddwd` reads).
#[inline(always)]
fn pack_pair(lo: i16, hi: i16) -> i32 {
    (u32::from(lo as u16) | (u32::from(hi as u16) << 16)) as i32
}

#[inline(always)]
fn unpack_pair(x: i32) -> (i32, i32) {
    (i32::from(x as i16), x >> 16)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Int8Workspace, Madd, Region, blocked};
    use std::arch::x86_64::*;

    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx2(());

    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx512Bw(());

    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx512Vnni(());

    /// # Safety
    /// AVX2 must be present; the region contract of `Int8Gemm::run` holds.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run_avx2(r: Region<'_>, ws: &mut Int8Workspace) {
        // SAFETY: forwarded; the token exists because AVX2 was detected.
        unsafe { blocked::<Avx2, 6, 2>(Avx2(()), r, ws) }
    }

    /// # Safety
    /// AVX-512F and BW must be present; the region contract of `Int8Gemm::run` holds.
    #[target_feature(enable = "avx512f,avx512bw,avx2")]
    pub(super) unsafe fn run_avx512bw(r: Region<'_>, ws: &mut Int8Workspace) {
        // SAFETY: forwarded; the token exists because AVX-512BW was detected.
        unsafe { blocked::<Avx512Bw, 12, 2>(Avx512Bw(()), r, ws) }
    }

    /// # Safety
    /// AVX-512F, BW and VNNI must be present; the region contract of `Int8Gemm::run` holds.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2")]
    pub(super) unsafe fn run_avx512vnni(r: Region<'_>, ws: &mut Int8Workspace) {
        // SAFETY: forwarded; the token exists because AVX-512 VNNI was detected.
        unsafe { blocked::<Avx512Vnni, 12, 2>(Avx512Vnni(()), r, ws) }
    }

    /// The 512-bit methods shared by the BW and VNNI tokens.
    macro_rules! zmm_common {
        () => {
            type V = __m512i;
            const LANES: usize = 16;
            #[inline(always)]
            fn zero(self) -> __m512i {
                unsafe { _mm512_setzero_si512() }
            }
            #[inline(always)]
            fn splat(self, w: i32) -> __m512i {
                unsafe { _mm512_set1_epi32(w) }
            }
            #[inline(always)]
            unsafe fn load(self, p: *const i32) -> __m512i {
                // SAFETY: the caller guarantees 16 readable words.
                unsafe { _mm512_loadu_si512(p.cast()) }
            }
            #[inline(always)]
            unsafe fn store(self, p: *mut i32, v: __m512i, add: bool) {
                // SAFETY: the caller guarantees 16 writable (and, with `add`, readable) i32.
                unsafe {
                    let v = if add {
                        _mm512_add_epi32(_mm512_loadu_si512(p.cast()), v)
                    } else {
                        v
                    };
                    _mm512_storeu_si512(p.cast(), v)
                }
            }
        };
    }

    // SAFETY (all methods below): the instruction set was detected before the token existed.
    impl Madd for Avx512Bw {
        zmm_common!();
        const GROUP: usize = 2;
        const A_OFFSET: i32 = 0;
        #[inline(always)]
        fn madd(self, a: __m512i, b: __m512i, acc: __m512i) -> __m512i {
            unsafe { _mm512_add_epi32(acc, _mm512_madd_epi16(a, b)) }
        }
    }

    impl Madd for Avx512Vnni {
        zmm_common!();
        const GROUP: usize = 4;
        const A_OFFSET: i32 = 128;
        #[inline(always)]
        fn madd(self, a: __m512i, b: __m512i, acc: __m512i) -> __m512i {
            // a: four unsigned bytes (A + 128), b: four signed bytes (B).
            unsafe { _mm512_dpbusd_epi32(acc, a, b) }
        }
    }

    impl Madd for Avx2 {
        type V = __m256i;
        const LANES: usize = 8;
        const GROUP: usize = 2;
        const A_OFFSET: i32 = 0;
        #[inline(always)]
        fn zero(self) -> __m256i {
            unsafe { _mm256_setzero_si256() }
        }
        #[inline(always)]
        fn splat(self, w: i32) -> __m256i {
            unsafe { _mm256_set1_epi32(w) }
        }
        #[inline(always)]
        unsafe fn load(self, p: *const i32) -> __m256i {
            // SAFETY: the caller guarantees 8 readable words.
            unsafe { _mm256_loadu_si256(p.cast()) }
        }
        #[inline(always)]
        fn madd(self, a: __m256i, b: __m256i, acc: __m256i) -> __m256i {
            unsafe { _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut i32, v: __m256i, add: bool) {
            // SAFETY: the caller guarantees 8 writable (and, with `add`, readable) i32.
            unsafe {
                let v = if add {
                    _mm256_add_epi32(_mm256_loadu_si256(p.cast()), v)
                } else {
                    v
                };
                _mm256_storeu_si256(p.cast(), v)
            }
        }
    }
}

/// The blocked loop nest over one region.
///
/// # Safety
/// As [`Int8Gemm::run`].
#[inline(always)]
unsafe fn blocked<S: Madd, const MR: usize, const NV: usize>(
    s: S,
    r: Region<'_>,
    ws: &mut Int8Workspace,
) {
    let nr = NV * S::LANES;
    let mc = MR * MC_SLIVERS;
    let nc = (NC / nr).max(1) * nr;
    if r.m == 0 || r.n == 0 {
        return;
    }
    if r.k == 0 {
        for i in 0..r.m {
            // SAFETY: row i of the region is writable for n values.
            unsafe { std::slice::from_raw_parts_mut(r.c.add(i * r.ldc), r.n).fill(0) };
        }
        return;
    }
    let g = S::GROUP;
    let kp_max = KC / g;
    ws.b.resize(kp_max * nc, 0);
    ws.a.resize(mc * kp_max, 0);
    for jc in (0..r.n).step_by(nc) {
        let ncb = nc.min(r.n - jc);
        for pc in (0..r.k).step_by(KC) {
            let kc = KC.min(r.k - pc);
            let kp = kc.div_ceil(g);
            pack::<S>(r.bt, r.k, (jc, ncb), (pc, kc), nr, 0, &mut ws.b);
            for ic in (0..r.m).step_by(mc) {
                let mcb = mc.min(r.m - ic);
                pack::<S>(r.a, r.k, (ic, mcb), (pc, kc), MR, S::A_OFFSET, &mut ws.a);
                for jr in (0..ncb).step_by(nr) {
                    for ir in (0..mcb).step_by(MR) {
                        let tile = Tile {
                            kp,
                            // SAFETY: offsets inside the packed buffers (full padded slivers).
                            pa: unsafe { ws.a.as_ptr().add(ir * kp) },
                            pb: unsafe { ws.b.as_ptr().add(jr * kp) },
                            // SAFETY: (ic+ir, jc+jr) lies inside the region.
                            c: unsafe { r.c.add((ic + ir) * r.ldc + jc + jr) },
                            ldc: r.ldc,
                            mr: MR.min(mcb - ir),
                            nr: nr.min(ncb - jr),
                            add: pc > 0,
                        };
                        // SAFETY: the tile's C part lies inside the region.
                        unsafe { micro::<S, MR, NV>(s, tile) };
                    }
                }
            }
        }
    }
    if S::A_OFFSET != 0 {
        // SAFETY: forwarded region contract.
        unsafe { remove_offset(r, S::A_OFFSET, &mut ws.correction) };
    }
}

/// `c[i][j] −= offset · Σ_p b[p][j]`: what packing A with `+offset` added.
///
/// # Safety
/// As [`Int8Gemm::run`].
unsafe fn remove_offset(r: Region<'_>, offset: i32, correction: &mut Vec<i32>) {
    correction.clear();
    correction.extend(r.bt.chunks(r.k).map(|col| {
        let sum: i32 = col.iter().map(|&v| i32::from(v)).sum();
        sum.wrapping_mul(offset)
    }));
    for i in 0..r.m {
        // SAFETY: row i of the region is writable for n values.
        let row = unsafe { std::slice::from_raw_parts_mut(r.c.add(i * r.ldc), r.n) };
        for (c, &d) in row.iter_mut().zip(correction.iter()) {
            *c = c.wrapping_sub(d);
        }
    }
}

/// Packs rows `rows.0..rows.0+rows.1` of a row-major `? × k` int8 matrix (A, or Bᵀ whose rows
/// are B's columns), depth `depth.0..depth.0+depth.1`, into slivers of `width` rows:
/// `[sliver][group q][row i]`, each entry one packed [`word`] of `S::GROUP` values (plus
/// `offset`), padded with zero rows and zero values past the depth.
fn pack<S: Madd>(
    x: &[i8],
    k: usize,
    (r0, count): (usize, usize),
    (pc, kc): (usize, usize),
    width: usize,
    offset: i32,
    out: &mut [i32],
) {
    let kp = kc.div_ceil(S::GROUP);
    for (sliver, rs) in (0..count).step_by(width).enumerate() {
        let dst = &mut out[sliver * kp * width..(sliver + 1) * kp * width];
        for i in 0..width {
            let column = dst[i..].iter_mut().step_by(width);
            if rs + i < count {
                let start = (r0 + rs + i) * k + pc;
                let row = &x[start..start + kc];
                if S::GROUP == 2 {
                    scatter_words::<2>(row, column, offset);
                } else {
                    scatter_words::<4>(row, column, offset);
                }
            } else {
                column.for_each(|d| *d = 0);
            }
        }
    }
}

/// Writes the words of `row`, `G` values each, to successive slots of `dst`.
#[inline(always)]
fn scatter_words<'a, const G: usize>(
    row: &[i8],
    mut dst: impl Iterator<Item = &'a mut i32>,
    offset: i32,
) {
    let groups = row.chunks_exact(G);
    let rest = groups.remainder();
    // Groups first: `zip` must not take a slot from `dst` once the groups have run out.
    for (g, d) in groups.zip(&mut dst) {
        *d = word::<G>(g, offset);
    }
    if let (false, Some(d)) = (rest.is_empty(), dst.next()) {
        *d = word::<G>(rest, offset);
    }
}

/// One register tile's job.
struct Tile {
    /// Packed words along k.
    kp: usize,
    pa: *const i32,
    pb: *const i32,
    c: *mut i32,
    ldc: usize,
    /// Rows and columns of the tile that lie inside C.
    mr: usize,
    nr: usize,
    /// Add to C (later depth blocks) rather than overwrite it (the first).
    add: bool,
}

/// The `MR × NR` register tile over `kp` packed words. Edge tiles go through a stack buffer.
///
/// # Safety
/// `pa` holds `kp·MR` words, `pb` `kp·NR` words, and the `mr × nr` part of C at `c` is writable.
#[inline(always)]
unsafe fn micro<S: Madd, const MR: usize, const NV: usize>(s: S, t: Tile) {
    let w = S::LANES;
    let full = NV * w;
    let mut acc = [[s.zero(); NV]; MR];
    for q in 0..t.kp {
        let mut bv = [s.zero(); NV];
        for (v, b) in bv.iter_mut().enumerate() {
            // SAFETY: the packed B sliver holds kp × full words.
            *b = unsafe { s.load(t.pb.add(q * full + v * w)) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: the packed A sliver holds kp × MR words.
            let ai = s.splat(unsafe { *t.pa.add(q * MR + i) });
            for (a, &b) in row.iter_mut().zip(&bv) {
                *a = s.madd(ai, b, *a);
            }
        }
    }
    if t.mr == MR && t.nr == full {
        for (i, row) in acc.iter().enumerate() {
            for (v, &a) in row.iter().enumerate() {
                // SAFETY: the full tile lies inside C.
                unsafe { s.store(t.c.add(i * t.ldc + v * w), a, t.add) };
            }
        }
        return;
    }
    debug_assert!(MR * full <= MAX_TILE);
    let mut tile = [0i32; MAX_TILE];
    for (i, row) in acc.iter().enumerate() {
        for (v, &a) in row.iter().enumerate() {
            // SAFETY: i·full + (v+1)·w <= MR·full <= MAX_TILE.
            unsafe { s.store(tile.as_mut_ptr().add(i * full + v * w), a, false) };
        }
    }
    for i in 0..t.mr {
        for j in 0..t.nr {
            // SAFETY: (i, j) lies inside the partial tile, which lies inside C.
            unsafe {
                let cp = t.c.add(i * t.ldc + j);
                let x = tile[i * full + j];
                *cp = if t.add { (*cp).wrapping_add(x) } else { x };
            }
        }
    }
}
