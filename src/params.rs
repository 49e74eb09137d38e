//! Numbers for the model: sizes, and parameter/data values from a seeded, platform-stable generator
//! (ChaCha8) or from a params JSON file (read in `json.rs`), validated against the model's declarations.
use crate::model::Model;
use egg::Symbol;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;

mod json;

/// A dense array, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Array {
    pub fn get(&self, idx: &[usize]) -> Option<f64> {
        if idx.len() != self.shape.len() || idx.iter().zip(&self.shape).any(|(i, n)| i >= n) {
            return None;
        }
        let mut off = 0;
        for (i, n) in idx.iter().zip(&self.shape) {
            off = off * n + i;
        }
        self.data.get(off).copied()
    }

    /// Nested JSON arrays.
    pub fn to_json(&self) -> Value {
        fn go(shape: &[usize], data: &[f64]) -> Value {
            match shape {
                [] => data.first().map(|v| Value::from(*v)).unwrap_or(Value::Null),
                [n, rest @ ..] => {
                    let stride: usize = rest.iter().product();
                    Value::Array((0..*n).map(|i| go(rest, &data[i * stride..(i + 1) * stride])).collect())
                }
            }
        }
        go(&self.shape, &self.data)
    }
}

/// The sizes of a problem: steps T and each dimension (n_h, n_x, n_y).
#[derive(Debug, Clone, PartialEq)]
pub struct Sizes {
    pub steps: usize,
    pub dims: BTreeMap<Symbol, usize>,
}

/// Values of every parameter and data name of the model.
#[derive(Debug, Clone)]
pub struct Params {
    pub values: BTreeMap<Symbol, Array>,
}

/// The shape of a declared name for given sizes.
pub fn shape_of(model: &Model, name: Symbol, sizes: &Sizes) -> Vec<usize> {
    let Some(d) = model.decls.get(&name) else { return vec![] };
    let mut s = vec![];
    if d.timed {
        s.push(sizes.steps);
    }
    s.extend(d.dims.iter().map(|n| sizes.dims.get(n).copied().unwrap_or(0)));
    s
}

/// The factor random numbers of an array of this shape are drawn with: √(3/fan-in) for a matrix (not data over
/// time) whose fan-in (its last size) is above 3, else 1.
fn weight_scale(shape: &[usize], timed: bool) -> f64 {
    match shape {
        [_, fan_in] if !timed && *fan_in > 3 => (3.0 / *fan_in as f64).sqrt(),
        _ => 1.0,
    }
}

fn unit(rng: &mut ChaCha8Rng) -> f64 {
    // 53 random bits → [0, 1): the same numbers on every platform and crate version of rand_core.
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

impl Params {
    /// The memory the values of a model at these sizes take, in bytes (for [`crate::limits::reserve`]).
    pub fn bytes(model: &Model, sizes: &Sizes) -> usize {
        model.order.iter().map(|n| shape_of(model, *n, sizes).iter().fold(8usize, |a, d| a.saturating_mul(*d))).fold(0usize, |a, b| a.saturating_add(b))
    }

    /// Are any of the random numbers at these sizes scaled down (a fan-in above 3)?
    pub fn scaled(model: &Model, sizes: &Sizes) -> bool {
        model.order.iter().any(|n| weight_scale(&shape_of(model, *n, sizes), model.decls.get(n).is_some_and(|d| d.timed)) < 1.0)
    }

    /// Seeded random values: weights and inputs uniform in (−1, 1) scaled to keep tanh away from saturation.
    pub fn random(model: &Model, sizes: &Sizes, seed: u64) -> Params {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = BTreeMap::new();
        for name in &model.order {
            let shape = shape_of(model, *name, sizes);
            let n: usize = shape.iter().product();
            // a matrix is scaled by √(3/fan-in) when its fan-in is above 3, so that large sizes stay out of the
            // chaotic regime (spectral radius about 0.9); the default sizes (at most 3) draw unscaled numbers
            let scale = weight_scale(&shape, model.decls.get(name).is_some_and(|d| d.timed));
            let mut data: Vec<f64> = (0..n).map(|_| scale * 0.9 * (2.0 * unit(&mut rng) - 1.0)).map(|v| (v * 1e6).round() / 1e6).collect();
            if model.decls.get(name).is_some_and(|d| d.distribution) {
                // a target distribution: |v| made positive, each row (last index) scaled to sum to 1
                let m = shape.last().copied().unwrap_or(1).max(1);
                for row in data.chunks_mut(m) {
                    let total: f64 = row.iter().map(|v| v.abs() + 0.05).sum();
                    row.iter_mut().for_each(|v| *v = ((v.abs() + 0.05) / total * 1e6).round() / 1e6);
                    let rest: f64 = row[..m - 1].iter().sum();
                    row[m - 1] = 1.0 - rest;
                }
            }
            values.insert(*name, Array { shape, data });
        }
        Params { values }
    }

    /// The `params` JSON object: one key per parameter/data name (its JSON key), nested arrays.
    pub fn to_json(&self, model: &Model) -> Value {
        let mut m = serde_json::Map::new();
        for name in &model.order {
            if let (Some(d), Some(a)) = (model.decls.get(name), self.values.get(name)) {
                m.insert(d.json.clone(), a.to_json());
            }
        }
        Value::Object(m)
    }
}
