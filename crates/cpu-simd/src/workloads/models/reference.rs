//! The f64 references every model output (and gradient) is validated against: the shared ones of
//! `tensorbench_ops::reference`, with in-place forms of the row ops for the model code.

use tensorbench_ops::reference as shared;
pub use tensorbench_ops::reference::{add_bias, gelu, matmul, relu, transpose, widen};

/// Softmax of each row of `cols` elements, in place.
pub fn softmax_rows(x: &mut [f64], cols: usize) {
    let y = shared::softmax_rows(x, cols);
    x.copy_from_slice(&y);
}

/// Layer normalisation of each row of `gamma.len()` elements, in place.
pub fn layer_norm_rows(x: &mut [f64], gamma: &[f64], beta: &[f64], eps: f64) {
    let y = shared::layer_norm_rows(x, gamma, beta, eps);
    x.copy_from_slice(&y);
}
