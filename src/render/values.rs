//! Numbers as a student reads them: 5 significant digits, matrices for small tensors, a norm and a few
//! entries for large ones.
use crate::eval::Tensor;

/// One number with 5 significant digits (fixed notation between 1e-3 and 1e5).
pub fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let digits = (4 - a.log10().floor() as i32).clamp(0, 8) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.4e}")
    }
}

pub use crate::notation::k_range;

/// A short error figure such as 3e-16.
pub fn err(v: f64) -> String {
    if v == 0.0 { "0".into() } else { format!("{v:.0e}") }
}

/// A tensor: `[[a b] [c d]]` when it has at most 16 entries, otherwise its norm and the first entries.
pub fn tensor(t: &Tensor) -> String {
    if t.data.len() <= 16 {
        return nested(&t.dims, &t.data);
    }
    let norm = t.data.iter().map(|v| v * v).sum::<f64>().sqrt();
    let first: Vec<String> = t.data.iter().take(4).map(|v| num(*v)).collect();
    format!("‖·‖ = {}, {} entries, first {} …", num(norm), t.data.len(), first.join(" "))
}

fn nested(dims: &[usize], data: &[f64]) -> String {
    match dims {
        [] => data.first().map(|v| num(*v)).unwrap_or_default(),
        [_] => format!("[{}]", data.iter().map(|v| format!("{:>9}", num(*v))).collect::<Vec<_>>().join(" ")),
        [n, rest @ ..] => {
            let stride: usize = rest.iter().product();
            let parts: Vec<String> = (0..*n).map(|i| nested(rest, &data[i * stride..(i + 1) * stride])).collect();
            format!("[{}]", parts.join(" "))
        }
    }
}
