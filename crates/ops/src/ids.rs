//! The parts of a measurement id (`suite/op/backend/dtype/params`) that more than one backend
//! writes. A suite builds its ids from these so the same op on the same shape reads the same
//! in cpu-simd, gpu, wasm and the peers, and tables and comparisons can line them up.
//! Changing a value here changes stored ids: never do it.

/// Op names.
pub mod op {
    /// Elementwise sum of two tensors.
    pub const ADD: &str = "add";
    /// Elementwise product of two tensors.
    pub const MUL: &str = "mul";
    /// Elementwise max(x, 0).
    pub const RELU: &str = "relu";
    /// Elementwise GELU (tanh approximation).
    pub const GELU: &str = "gelu";
    /// Elementwise e^x.
    pub const EXP: &str = "exp";
    /// Sum of all elements.
    pub const SUM: &str = "sum";
    /// Dot product of two vectors.
    pub const DOT: &str = "dot";
    /// Softmax along each row.
    pub const SOFTMAX: &str = "softmax";
    /// Layer normalisation of each row.
    pub const LAYER_NORM: &str = "layer_norm";
    /// General matrix multiply, C = A·B.
    pub const GEMM: &str = "gemm";
    /// Matrix transpose.
    pub const TRANSPOSE: &str = "transpose";
    /// Copy of a buffer (memory bandwidth).
    pub const COPY: &str = "copy";
}

/// Parameter keys.
pub mod param {
    /// Elements of a flat vector.
    pub const N: &str = "n";
    /// Rows of a row-major matrix (row-wise ops).
    pub const ROWS: &str = "rows";
    /// Columns of a row-major matrix (row-wise ops).
    pub const COLS: &str = "cols";
    /// Rows of A and C in C\[m×n\] = A\[m×k\]·B\[k×n\] (`n` is [`N`]).
    pub const M: &str = "m";
    /// The contracted dimension of a GEMM: columns of A, rows of B.
    pub const K: &str = "k";
    /// Samples in a batch of an MLP.
    pub const BATCH: &str = "batch";
    /// Layer width of an MLP.
    pub const WIDTH: &str = "width";
    /// Layer count of an MLP.
    pub const LAYERS: &str = "layers";
    /// Message size of a collective or transfer, in bytes.
    pub const BYTES: &str = "bytes";
}

/// `n` of a flat vector.
pub fn flat(n: usize) -> [(&'static str, usize); 1] {
    [(param::N, n)]
}

/// `rows`, `cols` of a row-wise op.
pub fn rows(rows: usize, cols: usize) -> [(&'static str, usize); 2] {
    [(param::ROWS, rows), (param::COLS, cols)]
}

/// `m`, `n`, `k` of a GEMM.
pub fn gemm(m: usize, n: usize, k: usize) -> [(&'static str, usize); 3] {
    [(param::M, m), (param::N, n), (param::K, k)]
}

/// `batch`, `width`, `layers` of an MLP of square layers.
pub fn mlp(batch: usize, width: usize, layers: usize) -> [(&'static str, usize); 3] {
    [
        (param::BATCH, batch),
        (param::WIDTH, width),
        (param::LAYERS, layers),
    ]
}
