//! 2-D convolution (NCHW input, OIHW weights, no bias) lowered to GEMM through im2col, so any
//! GEMM of any family can run it; plus the direct loop nest as the readable scalar form.

/// The shape of one conv2d: `batch × c_in × h × w` input, `c_out × c_in × kh × kw` weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvShape {
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.kh) / self.stride + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.kw) / self.stride + 1
    }
    pub fn input_len(&self) -> usize {
        self.batch * self.c_in * self.h * self.w
    }
    pub fn weight_len(&self) -> usize {
        self.c_out * self.c_in * self.kh * self.kw
    }
    pub fn output_len(&self) -> usize {
        self.batch * self.c_out * self.out_h() * self.out_w()
    }
    /// Rows of the im2col matrix (the GEMM's k).
    pub fn patch_len(&self) -> usize {
        self.c_in * self.kh * self.kw
    }
    /// Columns of the im2col matrix for one image (the GEMM's n).
    pub fn positions(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// Multiply-adds × 2.
    pub fn flops(&self) -> f64 {
        2.0 * (self.batch * self.c_out * self.positions() * self.patch_len()) as f64
    }
    /// Input element feeding output `(o, y, x)` from tap `(c, i, j)`, or `None` in the padding.
    pub fn input_index(
        &self,
        img: usize,
        c: usize,
        y: usize,
        x: usize,
        i: usize,
        j: usize,
    ) -> Option<usize> {
        let iy = (y * self.stride + i).checked_sub(self.pad)?;
        let ix = (x * self.stride + j).checked_sub(self.pad)?;
        (iy < self.h && ix < self.w).then(|| ((img * self.c_in + c) * self.h + iy) * self.w + ix)
    }
}

/// Writes image `img`'s patches as a `patch_len × positions` row-major matrix.
pub fn im2col(shape: &ConvShape, input: &[f32], img: usize, cols: &mut [f32]) {
    let (oh, ow) = (shape.out_h(), shape.out_w());
    assert_eq!(
        cols.len(),
        shape.patch_len() * oh * ow,
        "im2col buffer has the wrong size"
    );
    let mut row = 0;
    for c in 0..shape.c_in {
        for i in 0..shape.kh {
            for j in 0..shape.kw {
                let dst = &mut cols[row * oh * ow..(row + 1) * oh * ow];
                for y in 0..oh {
                    for x in 0..ow {
                        dst[y * ow + x] = shape
                            .input_index(img, c, y, x, i, j)
                            .map_or(0.0, |k| input[k]);
                    }
                }
                row += 1;
            }
        }
    }
}

/// conv2d as `out[img] = W[c_out × patch] · im2col(input[img])`, with `gemm(m, n, k, a, b, c)`
/// doing the product. `cols` is the caller's im2col buffer (`patch_len × positions`).
pub fn conv2d_im2col(
    shape: &ConvShape,
    input: &[f32],
    weights: &[f32],
    cols: &mut [f32],
    out: &mut [f32],
    mut gemm: impl FnMut(usize, usize, usize, &[f32], &[f32], &mut [f32]),
) {
    assert!(
        input.len() == shape.input_len()
            && weights.len() == shape.weight_len()
            && out.len() == shape.output_len(),
        "conv2d operand sizes do not match {shape:?}"
    );
    let per_image = shape.c_out * shape.positions();
    for img in 0..shape.batch {
        im2col(shape, input, img, cols);
        let o = &mut out[img * per_image..(img + 1) * per_image];
        gemm(
            shape.c_out,
            shape.positions(),
            shape.patch_len(),
            weights,
            cols,
            o,
        );
    }
}

/// The direct seven-loop convolution, one output element at a time.
pub fn conv2d_direct(shape: &ConvShape, input: &[f32], weights: &[f32], out: &mut [f32]) {
    assert!(
        input.len() == shape.input_len()
            && weights.len() == shape.weight_len()
            && out.len() == shape.output_len(),
        "conv2d operand sizes do not match {shape:?}"
    );
    let (oh, ow) = (shape.out_h(), shape.out_w());
    for img in 0..shape.batch {
        for o in 0..shape.c_out {
            for y in 0..oh {
                for x in 0..ow {
                    let mut acc = 0.0f32;
                    for c in 0..shape.c_in {
                        for i in 0..shape.kh {
                            for j in 0..shape.kw {
                                if let Some(k) = shape.input_index(img, c, y, x, i, j) {
                                    acc += input[k]
                                        * weights
                                            [((o * shape.c_in + c) * shape.kh + i) * shape.kw + j];
                                }
                            }
                        }
                    }
                    out[((img * shape.c_out + o) * oh + y) * ow + x] = acc;
                }
            }
        }
    }
}
