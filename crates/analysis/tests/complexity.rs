//! Complexity fits recover planted growth laws.

mod common;

use common::{measurement, run};
use tensorbench_analysis::complexity::{Complexity, fit_complexity, fit_sweeps};

fn noisy(sizes: &[f64], f: impl Fn(f64) -> f64) -> Vec<f64> {
    let noise = common::samples(sizes.len(), 1.0, 0.03, 5);
    sizes.iter().zip(noise).map(|(&n, e)| f(n) * e).collect()
}

#[test]
fn recovers_planted_linear_and_quadratic() {
    let sizes: Vec<f64> = (4..14).map(|k| f64::from(1 << k)).collect();
    let lin = fit_complexity(&sizes, &noisy(&sizes, |n| 50.0 + 3.0 * n)).unwrap();
    assert_eq!(lin.best.complexity, Complexity::Linear, "{lin:?}");
    assert!((lin.best.coefficient - 3.0).abs() < 0.2);
    let quad = fit_complexity(&sizes, &noisy(&sizes, |n| 0.5 * n * n)).unwrap();
    assert_eq!(quad.best.complexity, Complexity::Quadratic, "{quad:?}");
    let cubic = fit_complexity(&sizes, &noisy(&sizes, |n| 2.0 * n * n * n)).unwrap();
    assert_eq!(cubic.best.complexity, Complexity::Cubic);
    let nlogn = fit_complexity(&sizes, &noisy(&sizes, |n| n * n.log2())).unwrap();
    assert_eq!(nlogn.best.complexity, Complexity::Linearithmic);
}

#[test]
fn refuses_a_single_size() {
    assert!(fit_complexity(&[8.0, 8.0], &[1.0, 1.0]).is_none());
    assert!(fit_complexity(&[1.0, 2.0], &[1.0]).is_none());
}

#[test]
fn fits_sweeps_of_a_run() {
    let ms = [256u64, 1024, 4096, 16384]
        .iter()
        .map(|&n| {
            let mut m = measurement(&format!("s/add/scalar/f32/n={n}"), vec![2.0 * n as f64; 10]);
            m.params.insert("n".into(), n.into());
            m
        })
        .collect();
    let fits = fit_sweeps(&run("r", "t", ms), "n");
    assert_eq!(fits.len(), 1);
    assert_eq!(fits[0].fit.best.complexity, Complexity::Linear);
    assert_eq!(fits[0].sizes, vec![256.0, 1024.0, 4096.0, 16384.0]);
}
