//! Model-level computations built from the suite's kernels (transformer encoder layer, ResNet
//! basic block, MLP with its backward pass), each with a straightforward f64 reference. The
//! workloads around them are `transformer.rs`, `resnet.rs`, `mlp.rs` one level up.

pub mod exec;
pub mod mlp;
pub mod reference;
pub mod resnet;
pub mod transformer;
