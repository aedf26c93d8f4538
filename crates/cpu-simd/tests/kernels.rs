//! Every kernel of every backend family against an f64 reference, for lengths that are and are
//! not multiples of the vector widths (0, 1, 7, 15, 17, 33, 1023, 4097). One macro generates the
//! same checks for each family.

use tensorbench_core::data::uniform_f32_in;
use tensorbench_core::workload::max_rel_err;
use tensorbench_cpu_simd::kernels::simd::{GemmWorkspace, Isa, Kernels};
use tensorbench_cpu_simd::kernels::{
    LAYER_NORM_EPS, LEAKY_RELU_ALPHA, Reduction, par, peers, scalar,
};

const LENGTHS: [usize; 8] = [0, 1, 7, 15, 17, 33, 1023, 4097];
/// (rows, cols) for the 2-D kernels, cols covering non-multiples of every width.
const SHAPES: [(usize, usize); 6] = [(1, 1), (3, 7), (5, 17), (2, 33), (17, 64), (9, 1023)];

/// One backend family as the tests see it.
trait Family {
    fn zip(&self, op: &str, a: &[f32], b: &[f32], out: &mut [f32]);
    fn with_scalar(&self, op: &str, x: &[f32], c: f32, out: &mut [f32]);
    fn unary(&self, op: &str, x: &[f32], out: &mut [f32]);
    fn fill(&self, out: &mut [f32], v: f32);
    fn reduce(&self, op: Reduction, x: &[f32]) -> f32;
    fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]);
    fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]);
    fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]);
    fn layer_norm_rows(&self, x: &[f32], g: &[f32], b: &[f32], out: &mut [f32]);
    fn gemm(&self, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]);
    /// Whether this family runs on this machine (an instruction set may be missing).
    fn available(&self) -> bool {
        true
    }
}

macro_rules! dispatch_ops {
    ($p:path, $op:expr, $($args:expr),*) => {{
        use $p as m;
        match $op {
            "add" => m::add($($args),*), "sub" => m::sub($($args),*),
            "mul" => m::mul($($args),*), "div" => m::div($($args),*),
            other => panic!("unknown op {other}"),
        }
    }};
}

macro_rules! free_fn_family {
    ($name:ident, $p:path) => {
        struct $name;
        impl Family for $name {
            fn zip(&self, op: &str, a: &[f32], b: &[f32], out: &mut [f32]) {
                dispatch_ops!($p, op, a, b, out)
            }
            fn with_scalar(&self, op: &str, x: &[f32], c: f32, out: &mut [f32]) {
                use $p as m;
                match op {
                    "add" => m::add_scalar(x, c, out),
                    "sub" => m::sub_scalar(x, c, out),
                    "mul" => m::mul_scalar(x, c, out),
                    _ => m::div_scalar(x, c, out),
                }
            }
            fn unary(&self, op: &str, x: &[f32], out: &mut [f32]) {
                use $p as m;
                match op {
                    "relu" => m::relu(x, out),
                    "leaky_relu" => m::leaky_relu(x, LEAKY_RELU_ALPHA, out),
                    "sigmoid" => m::sigmoid(x, out),
                    "tanh" => m::tanh(x, out),
                    "gelu" => m::gelu(x, out),
                    _ => m::exp(x, out),
                }
            }
            fn fill(&self, out: &mut [f32], v: f32) {
                use $p as m;
                if v == 0.0 {
                    m::zeros(out)
                } else {
                    m::fill(out, v)
                }
            }
            fn reduce(&self, op: Reduction, x: &[f32]) -> f32 {
                use $p as m;
                m::reduce(op, x)
            }
            fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
                use $p as m;
                m::reduce_rows(op, x, cols, out)
            }
            fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
                use $p as m;
                m::reduce_cols(op, x, out)
            }
            fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
                use $p as m;
                m::softmax_rows(x, cols, out)
            }
            fn layer_norm_rows(&self, x: &[f32], g: &[f32], b: &[f32], out: &mut [f32]) {
                use $p as m;
                m::layer_norm_rows(x, g, b, LAYER_NORM_EPS, out)
            }
            fn gemm(&self, m_: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
                use $p as m;
                m::gemm(m_, n, k, a, b, c)
            }
        }
    };
}
free_fn_family!(Scalar, scalar);
free_fn_family!(Rayon, par);

/// The SIMD family pinned to one instruction set.
struct Simd(Isa);
impl Simd {
    fn k(&self) -> Kernels {
        Kernels::new(self.0).expect("checked by available()")
    }
}
impl Family for Simd {
    fn available(&self) -> bool {
        self.0.is_supported()
    }
    fn zip(&self, op: &str, a: &[f32], b: &[f32], out: &mut [f32]) {
        let k = self.k();
        match op {
            "add" => k.add(a, b, out),
            "sub" => k.sub(a, b, out),
            "mul" => k.mul(a, b, out),
            _ => k.div(a, b, out),
        }
    }
    fn with_scalar(&self, op: &str, x: &[f32], c: f32, out: &mut [f32]) {
        let k = self.k();
        match op {
            "add" => k.add_scalar(x, c, out),
            "sub" => k.sub_scalar(x, c, out),
            "mul" => k.mul_scalar(x, c, out),
            _ => k.div_scalar(x, c, out),
        }
    }
    fn unary(&self, op: &str, x: &[f32], out: &mut [f32]) {
        let k = self.k();
        match op {
            "relu" => k.relu(x, out),
            "leaky_relu" => k.leaky_relu(x, LEAKY_RELU_ALPHA, out),
            "sigmoid" => k.sigmoid(x, out),
            "tanh" => k.tanh(x, out),
            "gelu" => k.gelu(x, out),
            _ => k.exp(x, out),
        }
    }
    fn fill(&self, out: &mut [f32], v: f32) {
        if v == 0.0 {
            self.k().zeros(out)
        } else {
            self.k().fill(out, v)
        }
    }
    fn reduce(&self, op: Reduction, x: &[f32]) -> f32 {
        self.k().reduce(op, x)
    }
    fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
        self.k().reduce_rows(op, x, cols, out)
    }
    fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
        self.k().reduce_cols(op, x, out)
    }
    fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
        self.k().softmax_rows(x, cols, out)
    }
    fn layer_norm_rows(&self, x: &[f32], g: &[f32], b: &[f32], out: &mut [f32]) {
        self.k().layer_norm_rows(x, g, b, LAYER_NORM_EPS, out)
    }
    fn gemm(&self, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        self.k().gemm(m, n, k, a, b, c, &mut GemmWorkspace::new())
    }
}

/// The peer crates, where they cover an op; elsewhere they defer to the scalar family so the
/// shared checks still run.
struct Peers;
impl Family for Peers {
    fn zip(&self, op: &str, a: &[f32], b: &[f32], out: &mut [f32]) {
        dispatch_ops!(peers::nd, op, a, b, out)
    }
    fn with_scalar(&self, op: &str, x: &[f32], c: f32, out: &mut [f32]) {
        match op {
            "add" => peers::nd::add_scalar(x, c, out),
            "mul" => peers::nd::mul_scalar(x, c, out),
            _ => Scalar.with_scalar(op, x, c, out),
        }
    }
    fn unary(&self, op: &str, x: &[f32], out: &mut [f32]) {
        match op {
            "relu" => peers::nd::relu(x, out),
            "exp" => peers::nd::exp(x, out),
            _ => Scalar.unary(op, x, out),
        }
    }
    fn fill(&self, out: &mut [f32], v: f32) {
        Scalar.fill(out, v)
    }
    fn reduce(&self, op: Reduction, x: &[f32]) -> f32 {
        peers::nd::reduce(op, x)
    }
    fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
        peers::nd::reduce_axis(op, x, cols, 1, out)
    }
    fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
        peers::nd::reduce_axis(op, x, out.len(), 0, out)
    }
    fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
        Scalar.softmax_rows(x, cols, out)
    }
    fn layer_norm_rows(&self, x: &[f32], g: &[f32], b: &[f32], out: &mut [f32]) {
        Scalar.layer_norm_rows(x, g, b, out)
    }
    fn gemm(&self, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        peers::gemm_crate(m, n, k, a, b, c, 2)
    }
}

/// f64 references of unary and binary ops.
type Ref1 = fn(f64) -> f64;
type Ref2 = fn(f64, f64) -> f64;

fn data(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    uniform_f32_in(n, seed, lo, hi)
}

fn f64s(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

fn assert_close(what: &str, n: usize, got: &[f32], reference: &[f64], tol: f64) {
    let err = max_rel_err(got, reference);
    assert!(err <= tol, "{what} n={n}: max rel err {err:e} > {tol:e}");
}

fn binary(f: &dyn Family) {
    for &n in &LENGTHS {
        let a = data(n, 1, -1.0, 1.0);
        let b = data(n, 2, 0.5, 2.0);
        let ops: [(&str, Ref2); 4] = [
            ("add", |x, y| x + y),
            ("sub", |x, y| x - y),
            ("mul", |x, y| x * y),
            ("div", |x, y| x / y),
        ];
        for (op, r) in ops {
            let mut out = vec![f32::NAN; n];
            f.zip(op, &a, &b, &mut out);
            let reference: Vec<f64> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| r(x.into(), y.into()))
                .collect();
            assert_close(op, n, &out, &reference, 1e-6);
            f.with_scalar(op, &a, 1.7, &mut out);
            let reference: Vec<f64> = a.iter().map(|&x| r(x.into(), f64::from(1.7f32))).collect();
            assert_close(&format!("{op}_scalar"), n, &out, &reference, 1e-6);
        }
    }
}

/// GELU (tanh approximation) in f64, as `x·sigmoid(2u)`: the `0.5·x·(1 + tanh u)` form cancels
/// to 0 for x below about -6 even in f64.
fn gelu_ref(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    x / (1.0 + (-2.0 * u).exp())
}

fn unary(f: &dyn Family) {
    let ops: [(&str, Ref1, f32); 6] = [
        ("relu", |x| x.max(0.0), 8.0),
        (
            "leaky_relu",
            |x| {
                if x > 0.0 {
                    x
                } else {
                    f64::from(LEAKY_RELU_ALPHA) * x
                }
            },
            8.0,
        ),
        ("sigmoid", |x| 1.0 / (1.0 + (-x).exp()), 20.0),
        ("tanh", f64::tanh, 10.0),
        ("gelu", gelu_ref, 10.0),
        ("exp", f64::exp, 80.0),
    ];
    for &n in &LENGTHS {
        for (op, r, range) in ops {
            // A wide range to exercise every branch of the approximations, and [-1, 1].
            for (seed, lo, hi) in [(3, -range, range), (4, -1.0, 1.0)] {
                let x = data(n, seed, lo, hi);
                let mut out = vec![f32::NAN; n];
                f.unary(op, &x, &mut out);
                let reference: Vec<f64> = x.iter().map(|&v| r(v.into())).collect();
                assert_close(op, n, &out, &reference, 1e-5);
            }
        }
    }
}

fn creation(f: &dyn Family) {
    for &n in &LENGTHS {
        let mut out = vec![f32::NAN; n];
        f.fill(&mut out, 0.0);
        assert!(out.iter().all(|&v| v == 0.0));
        f.fill(&mut out, 2.5);
        assert!(out.iter().all(|&v| v == 2.5));
    }
}

fn reductions(f: &dyn Family) {
    for &n in &LENGTHS[1..] {
        let x = data(n, 5, -1.0, 1.0);
        for op in Reduction::ALL {
            let got = f.reduce(op, &x);
            let reference = op.reference(x.iter().map(|&v| f64::from(v)));
            let tol = if op == Reduction::Sum {
                1e-5 * f64s(&x).iter().map(|v| v.abs()).sum::<f64>() / reference.abs().max(1e-30)
            } else {
                1e-6
            };
            assert_close(op.name(), n, &[got], &[reference], tol.max(1e-6));
        }
    }
}

fn axis_reductions(f: &dyn Family) {
    for (rows, cols) in SHAPES {
        let x = data(rows * cols, 6, 0.0, 1.0);
        for op in Reduction::ALL {
            let mut out = vec![f32::NAN; rows];
            f.reduce_rows(op, &x, cols, &mut out);
            let reference: Vec<f64> = x
                .chunks(cols)
                .map(|r| op.reference(r.iter().map(|&v| f64::from(v))))
                .collect();
            assert_close(
                &format!("{}_rows {rows}x{cols}", op.name()),
                rows,
                &out,
                &reference,
                1e-5,
            );
            let mut out = vec![f32::NAN; cols];
            f.reduce_cols(op, &x, &mut out);
            let reference: Vec<f64> = (0..cols)
                .map(|c| op.reference((0..rows).map(|r| f64::from(x[r * cols + c]))))
                .collect();
            assert_close(
                &format!("{}_cols {rows}x{cols}", op.name()),
                cols,
                &out,
                &reference,
                1e-5,
            );
        }
    }
}

fn softmax_ref(x: &[f32], cols: usize) -> Vec<f64> {
    x.chunks(cols)
        .flat_map(|row| {
            let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v.into()));
            let e: Vec<f64> = row.iter().map(|&v| (f64::from(v) - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect()
}

fn layer_norm_ref(x: &[f32], g: &[f32], b: &[f32]) -> Vec<f64> {
    let cols = g.len();
    x.chunks(cols)
        .flat_map(|row| {
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / cols as f64;
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / cols as f64;
            let rstd = 1.0 / (var + f64::from(LAYER_NORM_EPS)).sqrt();
            row.iter().enumerate().map(move |(j, &v)| {
                (f64::from(v) - mean) * rstd * f64::from(g[j]) + f64::from(b[j])
            })
        })
        .collect()
}

fn rows_ops(f: &dyn Family) {
    for (rows, cols) in SHAPES {
        let x = data(rows * cols, 7, -4.0, 4.0);
        let mut out = vec![f32::NAN; rows * cols];
        f.softmax_rows(&x, cols, &mut out);
        assert_close(
            &format!("softmax {rows}x{cols}"),
            cols,
            &out,
            &softmax_ref(&x, cols),
            1e-5,
        );
        let (g, b) = (data(cols, 8, 0.5, 1.5), data(cols, 9, -0.5, 0.5));
        f.layer_norm_rows(&x, &g, &b, &mut out);
        assert_close(
            &format!("layer_norm {rows}x{cols}"),
            cols,
            &out,
            &layer_norm_ref(&x, &g, &b),
            1e-4,
        );
    }
}

fn gemm_ref(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f64> {
    let mut c = vec![0.0f64; m * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                c[i * n + j] += f64::from(a[i * k + p]) * f64::from(b[p * n + j]);
            }
        }
    }
    c
}

fn gemm(f: &dyn Family) {
    for (m, n, k) in [
        (1, 1, 1),
        (7, 15, 17),
        (33, 17, 1),
        (1, 300, 70),
        (65, 97, 300),
        (130, 50, 513),
        (0, 5, 3),
        (4, 3, 0),
    ] {
        let a = data(m * k, 10, -1.0, 1.0);
        let b = data(k * n, 11, -1.0, 1.0);
        let mut c = vec![f32::NAN; m * n];
        f.gemm(m, n, k, &a, &b, &mut c);
        let tol = tensorbench_cpu_simd::workloads::gemm_tolerance(k);
        assert_close(
            &format!("gemm {m}x{n}x{k}"),
            m * n,
            &c,
            &gemm_ref(m, n, k, &a, &b),
            tol,
        );
    }
}

macro_rules! family_tests {
    ($($module:ident => $family:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            fn family() -> Option<Box<dyn Family>> {
                let f: Box<dyn Family> = Box::new($family);
                if f.available() { Some(f) } else {
                    eprintln!("{}: instruction set not available on this CPU", stringify!($module));
                    None
                }
            }
            #[test] fn binary_ops() { if let Some(f) = family() { binary(f.as_ref()) } }
            #[test] fn unary_ops() { if let Some(f) = family() { unary(f.as_ref()) } }
            #[test] fn creation_ops() { if let Some(f) = family() { creation(f.as_ref()) } }
            #[test] fn whole_reductions() { if let Some(f) = family() { reductions(f.as_ref()) } }
            #[test] fn axis_reduction_ops() { if let Some(f) = family() { axis_reductions(f.as_ref()) } }
            #[test] fn softmax_and_layer_norm() { if let Some(f) = family() { rows_ops(f.as_ref()) } }
            #[test] fn gemm_shapes() { if let Some(f) = family() { gemm(f.as_ref()) } }
        }
    )*};
}

family_tests! {
    scalar_family => Scalar,
    simd_portable => Simd(Isa::Portable),
    simd_avx2 => Simd(Isa::Avx2),
    simd_avx512 => Simd(Isa::Avx512),
    simd_neon => Simd(Isa::Neon),
    rayon_family => Rayon,
    peer_crates => Peers,
}

#[test]
fn matrixmultiply_peer_matches_reference() {
    struct Mm;
    impl Family for Mm {
        fn zip(&self, op: &str, a: &[f32], b: &[f32], out: &mut [f32]) {
            Scalar.zip(op, a, b, out)
        }
        fn with_scalar(&self, op: &str, x: &[f32], c: f32, out: &mut [f32]) {
            Scalar.with_scalar(op, x, c, out)
        }
        fn unary(&self, op: &str, x: &[f32], out: &mut [f32]) {
            Scalar.unary(op, x, out)
        }
        fn fill(&self, out: &mut [f32], v: f32) {
            Scalar.fill(out, v)
        }
        fn reduce(&self, op: Reduction, x: &[f32]) -> f32 {
            Scalar.reduce(op, x)
        }
        fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
            Scalar.reduce_rows(op, x, cols, out)
        }
        fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
            Scalar.reduce_cols(op, x, out)
        }
        fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
            Scalar.softmax_rows(x, cols, out)
        }
        fn layer_norm_rows(&self, x: &[f32], g: &[f32], b: &[f32], out: &mut [f32]) {
            Scalar.layer_norm_rows(x, g, b, out)
        }
        fn gemm(&self, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
            peers::matrixmultiply(m, n, k, a, b, c)
        }
    }
    gemm(&Mm);
}

#[test]
fn sum_of_2_pow_24_positive_values_stays_accurate() {
    // Naive sequential f32 summation of 2^24 values in [0, 1) is off by ~1e-2; pairwise is not.
    let x = data(1 << 24, 12, 0.0, 1.0);
    let reference: f64 = x.iter().map(|&v| f64::from(v)).sum();
    for (name, got) in [
        ("scalar", scalar::sum(&x)),
        ("simd", Kernels::best().sum(&x)),
        ("rayon", par::reduce(Reduction::Sum, &x)),
    ] {
        assert_close(name, x.len(), &[got], &[reference], 1e-5);
    }
}

#[test]
fn fma_chain_matches_f64_recurrence() {
    let k = Kernels::best();
    let (chains, lanes) = k.fma_chain_shape();
    let (a, b, iters) = (0.999f32, 0.001f32, 1000);
    let got = k.fma_chain(iters, a, b);
    let reference: f64 = (0..chains)
        .map(|i| {
            let mut x = i as f64;
            for _ in 0..iters {
                x = x * f64::from(a) + f64::from(b);
            }
            x * lanes as f64
        })
        .sum();
    assert_close("fma_chain", 1, &[got], &[reference], 1e-4);
}
