//! Sparse matrix–vector product `y = A·x` with A in CSR (compressed sparse row) form, f32.
//!
//! The kernel is a plain loop per row: the gathers `x[indices[p]]` are what limits it, not the
//! arithmetic, so explicit SIMD buys little; the parallel form splits rows over rayon.

/// A `rows × cols` matrix in CSR form: the nonzeros of row `r` are
/// `values[indptr[r]..indptr[r+1]]` at columns `indices[..]` (ascending within a row).
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    pub rows: usize,
    pub cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// The nonzeros of a row-major dense matrix (exact zeros are dropped).
    pub fn from_dense(rows: usize, cols: usize, dense: &[f32]) -> Self {
        assert_eq!(
            dense.len(),
            rows * cols,
            "dense matrix is not {rows}×{cols}"
        );
        assert!(cols <= u32::MAX as usize, "CSR column index must fit u32");
        let mut indptr = Vec::with_capacity(rows + 1);
        let (mut indices, mut values) = (Vec::new(), Vec::new());
        indptr.push(0);
        for row in dense.chunks(cols.max(1)).take(rows) {
            for (c, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(c as u32);
                    values.push(v);
                }
            }
            indptr.push(values.len());
        }
        indptr.resize(rows + 1, values.len());
        Self {
            rows,
            cols,
            indptr,
            indices,
            values,
        }
    }

    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row `r` as (column indices, values).
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let span = self.indptr[r]..self.indptr[r + 1];
        (&self.indices[span.clone()], &self.values[span])
    }

    /// The dense row-major form.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut d = vec![0.0; self.rows * self.cols];
        for r in 0..self.rows {
            let (idx, val) = self.row(r);
            for (&c, &v) in idx.iter().zip(val) {
                d[r * self.cols + c as usize] = v;
            }
        }
        d
    }

    /// Bytes of the CSR arrays.
    pub fn bytes(&self) -> usize {
        self.indptr.len() * size_of::<usize>() + self.nnz() * (size_of::<u32>() + size_of::<f32>())
    }

    fn check(&self, x: &[f32], y: &[f32]) {
        assert!(
            x.len() == self.cols && y.len() == self.rows,
            "spmv: A is {}×{} but x has {} and y {} values",
            self.rows,
            self.cols,
            x.len(),
            y.len()
        );
    }

    /// `Σ_p values[p]·x[indices[p]]` over row `r`.
    #[inline]
    fn row_dot(&self, r: usize, x: &[f32]) -> f32 {
        let (idx, val) = self.row(r);
        idx.iter().zip(val).map(|(&c, &v)| v * x[c as usize]).sum()
    }
}

/// `y = A·x`, one thread.
pub fn spmv(a: &Csr, x: &[f32], y: &mut [f32]) {
    a.check(x, y);
    for (r, out) in y.iter_mut().enumerate() {
        *out = a.row_dot(r, x);
    }
}

/// `y = A·x` with blocks of rows over rayon.
#[cfg(feature = "parallel")]
pub fn par_spmv(a: &Csr, x: &[f32], y: &mut [f32]) {
    use rayon::prelude::*;
    a.check(x, y);
    const ROWS: usize = 64;
    y.par_chunks_mut(ROWS).enumerate().for_each(|(b, ys)| {
        for (i, out) in ys.iter_mut().enumerate() {
            *out = a.row_dot(b * ROWS + i, x);
        }
    });
}
