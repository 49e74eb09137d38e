//! A value over named free indices, and how two values of the same tensor are compared.
use egg::Symbol;

/// A tensor over named free indices (row-major in the order of `indices`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub indices: Vec<Symbol>,
    pub dims: Vec<usize>,
    pub data: Vec<f64>,
}

impl Tensor {
    /// max |a − b| / max(max |b|, 1e-300): the relative change between two values of the same tensor.
    pub fn rel_diff(&self, other: &Tensor) -> f64 {
        let scale = other.data.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
        self.abs_diff(other) / scale
    }
    pub fn abs_diff(&self, other: &Tensor) -> f64 {
        if self.data.len() != other.data.len() {
            return f64::INFINITY;
        }
        self.data.iter().zip(&other.data).fold(0.0f64, |m, (a, b)| if (a - b).is_nan() { f64::INFINITY } else { m.max((a - b).abs()) })
    }
    /// The first entry that is NaN or infinite, as 0-based indices.
    pub fn first_non_finite(&self) -> Option<Vec<usize>> {
        let pos = self.data.iter().position(|v| !v.is_finite())?;
        let mut idx = vec![0; self.dims.len()];
        let mut rest = pos;
        for (k, n) in self.dims.iter().enumerate().rev() {
            idx[k] = rest % n.max(&1);
            rest /= n.max(&1);
        }
        Some(idx)
    }
}
