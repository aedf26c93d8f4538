//! The AMX compute ceilings: four independent tile accumulators, each updated by `tdpbf16ps`
//! (bf16) or `tdpbssd` (int8) from full 16×64-byte tiles of ones, so every element's count is
//! known exactly. Rust 1.95 has no stable AMX intrinsics or target features, so the kernel is
//! inline assembly; Linux must first grant the process the tile data state (`arch_prctl`).

/// Which tile product a chain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileOp {
    /// `tdpbf16ps`: 16×16 f32 += 16×32 bf16 · 32×16 bf16.
    Bf16,
    /// `tdpbssd`: 16×16 i32 += 16×64 i8 · 64×16 i8.
    Int8,
}

/// Tile accumulators updated per round (tmm0–tmm3, from tmm4–tmm7).
pub const ACCUMULATORS: usize = 4;
/// Elements of one 16×16 accumulator tile.
pub const TILE_ELEMENTS: usize = 256;

impl TileOp {
    /// Products each accumulator element gains per instruction.
    pub const fn depth(self) -> usize {
        match self {
            Self::Bf16 => 32,
            Self::Int8 => 64,
        }
    }

    /// Operations (a multiply and an add per product) per instruction.
    pub const fn ops_per_instruction(self) -> usize {
        2 * self.depth() * TILE_ELEMENTS
    }
}

/// Why this op's tiles cannot run here, or `None` when they can (the first call asks Linux for
/// the tile data state).
pub fn unavailable(op: TileOp) -> Option<String> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        x86::unavailable(op)
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        let _ = op;
        Some("AMX tiles are x86_64 Linux only in this build".into())
    }
}

/// Runs `iters` rounds of [`ACCUMULATORS`] tile products and returns the sum of every
/// accumulator element: `iters · 4 · 256 · depth` exactly (bf16 while below 2^24 per element).
/// `None` where [`unavailable`] says why.
pub fn tile_chains(op: TileOp, iters: usize) -> Option<f64> {
    if iters == 0 || unavailable(op).is_some() {
        return None;
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        Some(x86::chains(op, iters))
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    None
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86 {
    use super::{ACCUMULATORS, TILE_ELEMENTS, TileOp};
    use std::arch::asm;
    use std::sync::OnceLock;

    /// Why Linux refused this process the tile data state (`None`: granted), asked once.
    static REFUSAL: OnceLock<Option<String>> = OnceLock::new();

    const ARCH_REQ_XCOMP_PERM: libc::c_ulong = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_ulong = 18;
    const AMX_TILE_BIT: u32 = 24;

    /// The CPUID flag (leaf 7, EDX) `op` needs besides AMX-TILE.
    const fn cpuid_bit(op: TileOp) -> u32 {
        match op {
            TileOp::Bf16 => 22,
            TileOp::Int8 => 25,
        }
    }

    pub(super) fn unavailable(op: TileOp) -> Option<String> {
        use std::arch::x86_64::{__cpuid, __cpuid_count};
        // Leaf 7 only where leaf 0 says it exists.
        let leaf7 = (__cpuid(0).eax >= 7).then(|| __cpuid_count(7, 0).edx);
        let has = |bit: u32| leaf7.is_some_and(|edx| edx & (1 << bit) != 0);
        if !has(AMX_TILE_BIT) || !has(cpuid_bit(op)) {
            return Some(format!("no AMX-TILE and AMX-{op:?} on this CPU"));
        }
        REFUSAL.get_or_init(request).clone()
    }

    /// Asks for the tile data state; the refusal's reason, if any.
    fn request() -> Option<String> {
        // SAFETY: arch_prctl with these arguments only changes this process's permitted state.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_REQ_XCOMP_PERM,
                XFEATURE_XTILEDATA,
            )
        };
        (rc != 0).then(|| {
            let err = std::io::Error::last_os_error();
            format!("Linux refused the AMX tile data state (arch_prctl ARCH_REQ_XCOMP_PERM: {err})")
        })
    }

    /// Palette 1, eight tiles of 16 rows × 64 bytes.
    #[repr(C, align(64))]
    struct TileConfig([u8; 64]);

    impl TileConfig {
        fn full() -> Self {
            let mut c = [0u8; 64];
            c[0] = 1;
            for t in 0..8 {
                c[16 + 2 * t] = 64; // bytes per row (little-endian u16)
                c[48 + t] = 16; // rows
            }
            Self(c)
        }
    }

    pub(super) fn chains(op: TileOp, iters: usize) -> f64 {
        let config = TileConfig::full();
        // Every byte pattern is "one": bf16 1.0 pairs, or int8 1s.
        let ones: Vec<u16> = match op {
            TileOp::Bf16 => vec![0x3F80; 512],
            TileOp::Int8 => vec![0x0101; 512],
        };
        let mut acc = vec![0u32; ACCUMULATORS * TILE_ELEMENTS];
        // SAFETY: the CPU has the tile ops and Linux granted the state (checked by the caller);
        // every tile load reads 16 rows of 64 bytes from `ones` (1 KiB) and every store writes
        // 1 KiB of `acc` (4 KiB); the tiles are released before returning.
        unsafe {
            match op {
                TileOp::Bf16 => bf16(&config, &ones, &mut acc, iters),
                TileOp::Int8 => int8(&config, &ones, &mut acc, iters),
            }
        }
        match op {
            TileOp::Bf16 => acc.iter().map(|&b| f64::from(f32::from_bits(b))).sum(),
            TileOp::Int8 => acc.iter().map(|&b| f64::from(b as i32)).sum(),
        }
    }

    /// One kernel per op: the instruction is part of the template.
    macro_rules! tile_kernel {
        ($name:ident, $ins:literal) => {
            unsafe fn $name(config: &TileConfig, ones: &[u16], acc: &mut [u32], iters: usize) {
                // SAFETY: see `chains`.
                unsafe {
                    asm!(
                        "ldtilecfg [{cfg}]",
                        "tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3",
                        "tileloadd tmm4, [{a} + {stride}*1]", "tileloadd tmm5, [{a} + {stride}*1]",
                        "tileloadd tmm6, [{a} + {stride}*1]", "tileloadd tmm7, [{a} + {stride}*1]",
                        "2:",
                        concat!($ins, " tmm0, tmm4, tmm6"), concat!($ins, " tmm1, tmm4, tmm7"),
                        concat!($ins, " tmm2, tmm5, tmm6"), concat!($ins, " tmm3, tmm5, tmm7"),
                        "dec {n}",
                        "jnz 2b",
                        "tilestored [{c} + {stride}*1], tmm0",
                        "add {c}, 1024",
                        "tilestored [{c} + {stride}*1], tmm1",
                        "add {c}, 1024",
                        "tilestored [{c} + {stride}*1], tmm2",
                        "add {c}, 1024",
                        "tilestored [{c} + {stride}*1], tmm3",
                        "tilerelease",
                        cfg = in(reg) config.0.as_ptr(),
                        a = in(reg) ones.as_ptr(),
                        stride = in(reg) 64usize,
                        c = inout(reg) acc.as_mut_ptr() => _,
                        n = inout(reg) iters => _,
                        options(nostack),
                    );
                }
            }
        };
    }
    tile_kernel!(bf16, "tdpbf16ps");
    tile_kernel!(int8, "tdpbssd");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_chains_count_exactly_or_say_why_not() {
        for op in [TileOp::Bf16, TileOp::Int8] {
            match tile_chains(op, 1000) {
                Some(total) => {
                    let want = 1000 * ACCUMULATORS * TILE_ELEMENTS * op.depth();
                    assert_eq!(total, want as f64, "{op:?}");
                }
                None => assert!(unavailable(op).is_some(), "{op:?}"),
            }
        }
    }
}
