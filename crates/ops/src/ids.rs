//! The parts of a measurement id (`suite/op/backend/dtype/params`) that more than one backend
//! writes. A suite builds its ids from these so the same op on the same shape reads the same
//! in cpu-simd, gpu, wasm and the peers, and tables and comparisons can line them up.
//! Changing a value here changes stored ids: never do it.

/// Op names.
pub mod op {
    pub const ADD: &str = "add";
    pub const MUL: &str = "mul";
    pub const RELU: &str = "relu";
    pub const GELU: &str = "gelu";
    pub const EXP: &str = "exp";
    pub const SUM: &str = "sum";
    pub const DOT: &str = "dot";
    pub const SOFTMAX: &str = "softmax";
    pub const LAYER_NORM: &str = "layer_norm";
    pub const GEMM: &str = "gemm";
    pub const TRANSPOSE: &str = "transpose";
    pub const COPY: &str = "copy";
}

/// Parameter keys.
pub mod param {
    /// Elements of a flat vector.
    pub const N: &str = "n";
    /// Rows and columns of a row-major matrix (row-wise ops).
    pub const ROWS: &str = "rows";
    pub const COLS: &str = "cols";
    /// C\[m×n\] = A\[m×k\]·B\[k×n\]: `n` is [`N`].
    pub const M: &str = "m";
    pub const K: &str = "k";
    /// Samples in a batch, layer width and layer count of an MLP.
    pub const BATCH: &str = "batch";
    pub const WIDTH: &str = "width";
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
