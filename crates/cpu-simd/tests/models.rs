//! Model-level workloads against their f64 references at small shapes, through the real sampler,
//! and planted faults that the references must catch.

mod common;

use common::{ctx, measure_ok};
use tensorbench_core::data;
use tensorbench_core::workload::max_rel_err;
use tensorbench_cpu_simd::kernels::conv::{ConvShape, im2col};
use tensorbench_cpu_simd::workloads::Backend;
use tensorbench_cpu_simd::workloads::mlp::{MlpWorkload, Pass};
use tensorbench_cpu_simd::workloads::models::exec::Exec;
use tensorbench_cpu_simd::workloads::models::mlp::{
    Mlp, MlpConfig, MlpWeights, Weights64, reference_grads, reference_loss,
};
use tensorbench_cpu_simd::workloads::models::reference::widen;
use tensorbench_cpu_simd::workloads::models::resnet::{
    ResNetBlock, ResNetConfig, ResNetWeights, im2col_3x3, reference as reference_block,
};
use tensorbench_cpu_simd::workloads::models::transformer::{
    TransformerConfig, TransformerLayer, TransformerWeights, reference,
};
use tensorbench_cpu_simd::workloads::resnet::ResNet;
use tensorbench_cpu_simd::workloads::transformer::{TOLERANCE, Transformer};

/// A tiny layer with two sequences and uneven sizes (heads of 12, seq 9 not a vector multiple).
fn tiny() -> TransformerConfig {
    TransformerConfig {
        d_model: 48,
        heads: 4,
        d_ff: 80,
        seq: 9,
        batch: 2,
    }
}

#[test]
fn transformer_layer_matches_f64_on_both_backends() {
    for backend in [Backend::Simd, Backend::Rayon] {
        measure_ok(&mut Transformer::new(backend, "custom", tiny(), &ctx()));
        let small = TransformerConfig {
            d_model: 128,
            heads: 2,
            d_ff: 512,
            seq: 33,
            batch: 1,
        };
        measure_ok(&mut Transformer::new(backend, "custom", small, &ctx()));
    }
}

#[test]
fn transformer_reference_catches_a_wrong_weight() {
    let c = tiny();
    let x = data::uniform_f32(c.tokens() * c.d_model, 3);
    let w = TransformerWeights::random(&c, 4);
    let mut layer = TransformerLayer::new(c, w.clone(), Exec::new(Backend::Simd).unwrap());
    layer.forward(&x);
    assert!(max_rel_err(&layer.out, &reference(&c, &w, &x)) <= TOLERANCE);
    // One perturbed key weight changes every attention score that uses it.
    let mut wrong = w.clone();
    wrong.w_qkv[c.d_model + 5] += 0.5;
    assert!(max_rel_err(&layer.out, &reference(&c, &wrong, &x)) > TOLERANCE);
}

#[test]
fn resnet_block_matches_f64_on_both_backends() {
    // 7×7 (odd, edge tiles) and one batch of two images, so image strides are exercised.
    for config in [
        ResNetConfig {
            batch: 1,
            channels: 8,
            hw: 7,
        },
        ResNetConfig {
            batch: 2,
            channels: 16,
            hw: 10,
        },
        // Large enough for rayon to split the batch norms into groups of channels.
        ResNetConfig {
            batch: 1,
            channels: 32,
            hw: 24,
        },
    ] {
        for backend in [Backend::Simd, Backend::Rayon] {
            measure_ok(&mut ResNet::new(backend, config, &ctx()));
        }
    }
}

#[test]
fn im2col_3x3_matches_the_generic_im2col() {
    let (c, hw) = (3, 6);
    let img = data::uniform_f32(c * hw * hw, 9);
    let shape = ConvShape {
        batch: 1,
        c_in: c,
        h: hw,
        w: hw,
        c_out: 1,
        kh: 3,
        kw: 3,
        stride: 1,
        pad: 1,
    };
    let mut want = vec![0.0; 9 * c * hw * hw];
    im2col(&shape, &img, 0, &mut want);
    for parallel in [false, true] {
        let mut got = vec![f32::NAN; want.len()];
        im2col_3x3(&img, c, hw, &mut got, parallel);
        assert_eq!(got, want);
    }
}

#[test]
fn resnet_reference_catches_an_unfolded_batch_norm() {
    let c = ResNetConfig {
        batch: 1,
        channels: 8,
        hw: 5,
    };
    let x = data::uniform_f32(c.act_len(), 1);
    let w = ResNetWeights::random(&c, 2);
    let mut block = ResNetBlock::new(c, w.clone(), Exec::new(Backend::Simd).unwrap());
    block.forward(&x);
    let tol = ResNet::new(Backend::Simd, c, &ctx()).tolerance();
    assert!(max_rel_err(&block.out, &reference_block(&c, &w, &x)) <= tol);
    let mut wrong = w.clone();
    wrong.bn2.mean[3] += 0.5;
    assert!(max_rel_err(&block.out, &reference_block(&c, &wrong, &x)) > tol);
}

fn tiny_mlp() -> MlpConfig {
    MlpConfig {
        batch: 5,
        width: 11,
        layers: 3,
    }
}

#[test]
fn mlp_forward_and_gradients_match_f64_on_both_backends() {
    for config in [
        tiny_mlp(),
        MlpConfig {
            batch: 40,
            width: 96,
            layers: 3,
        },
    ] {
        for pass in [Pass::Forward, Pass::Train] {
            for backend in [Backend::Simd, Backend::Rayon] {
                measure_ok(&mut MlpWorkload::new(backend, pass, config, &ctx()));
            }
        }
    }
}

/// The f64 backward pass against central differences of the f64 loss, for every weight, bias
/// and input of a tiny MLP; then the f32 kernels' gradients against the f64 backward pass.
#[test]
fn mlp_gradients_match_finite_differences() {
    let c = tiny_mlp();
    let w = MlpWeights::random(&c, 21);
    let w64 = Weights64::from(&w);
    let x32 = data::uniform_f32(c.act_len(), 22);
    let t32 = data::uniform_f32(c.act_len(), 23);
    let (x, t) = (widen(&x32), widen(&t32));
    let g = reference_grads(&c, &w64, &x, &t);
    let h = 1e-6;
    let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
            "{what}: backward {a} vs finite difference {b}"
        );
    };
    for l in 0..c.layers {
        for i in 0..c.width * c.width {
            let num = fd(&|d| {
                let mut p = w64.clone();
                p.w[l][i] += d;
                reference_loss(&c, &p, &x, &t)
            });
            close(g.dw[l][i], num, &format!("dW{l}[{i}]"));
        }
        for j in 0..c.width {
            let num = fd(&|d| {
                let mut p = w64.clone();
                p.b[l][j] += d;
                reference_loss(&c, &p, &x, &t)
            });
            close(g.db[l][j], num, &format!("db{l}[{j}]"));
        }
    }
    for i in 0..c.act_len() {
        let num = fd(&|d| {
            let mut xp = x.clone();
            xp[i] += d;
            reference_loss(&c, &w64, &xp, &t)
        });
        close(g.dx[i], num, &format!("dx[{i}]"));
    }
    let mut mlp = Mlp::new(c, w, Exec::new(Backend::Simd).unwrap());
    mlp.forward_backward(&x32, &t32);
    assert!(max_rel_err(&mlp.grads.dx, &g.dx) < 1e-4);
    for l in 0..c.layers {
        assert!(max_rel_err(&mlp.grads.dw[l], &g.dw[l]) < 1e-4, "dW{l}");
        assert!(max_rel_err(&mlp.grads.db[l], &g.db[l]) < 1e-4, "db{l}");
    }
}

#[test]
fn mlp_gradient_check_catches_a_slightly_wrong_weight() {
    let c = MlpConfig {
        batch: 40,
        width: 96,
        layers: 3,
    };
    let tol = MlpWorkload::new(Backend::Simd, Pass::Train, c, &ctx()).tolerance();
    let w = MlpWeights::random(&c, 31);
    let x = data::uniform_f32(c.act_len(), 32);
    let t = data::uniform_f32(c.act_len(), 33);
    let mut mlp = Mlp::new(c, w.clone(), Exec::new(Backend::Simd).unwrap());
    mlp.forward_backward(&x, &t);
    let grads_err = |w: &MlpWeights| {
        let g = reference_grads(&c, &Weights64::from(w), &widen(&x), &widen(&t));
        (0..c.layers)
            .map(|l| max_rel_err(&mlp.grads.dw[l], &g.dw[l]))
            .fold(max_rel_err(&mlp.grads.dx, &g.dx), f64::max)
    };
    assert!(grads_err(&w) <= tol);
    // One middle-layer weight off by 2%: the gradients it feeds must fail the check.
    let mut wrong = w.clone();
    wrong.w[1][7] *= 1.02;
    assert!(grads_err(&wrong) > tol);
}
