//! The numbers of a symbolic difference: when the canonical forms of a formula and of the gradient are not the
//! same, their difference is a short sum of products c · Σ_bound Π atoms with exact coefficients. Evaluating
//! it product by product (each a small tensor contraction, bound indices eliminated one at a time) gives
//! yours − gradient without the cancellation of the two whole gradients — so a difference of 1e-18 of a
//! gradient of size 1 (a dropped vanishing term, a coefficient 1 + 1e-13) is seen — together with a bound on
//! its rounding error: the same contraction of the absolute values, times a margin far above f64 rounding.
use super::canon::Product;
use crate::error::Result;
use crate::eval::Numeric;
use crate::exact::{Rational, to_f64};
use crate::params::Sizes;
use egg::Symbol;

/// Relative rounding margin of a contraction: |computed − exact| ≤ MARGIN · Σ |summands| (f64 rounding is
/// ~1e-16 per operation; this allows ten thousand operations in a row).
pub const MARGIN: f64 = 1e-12;

/// Index spaces larger than this are not contracted (the difference is then not evaluated).
const MAX_SPACE: usize = 4_000_000;

/// A dense tensor over named indices (row-major).
#[derive(Debug, Clone)]
struct Dense {
    idx: Vec<Symbol>,
    dims: Vec<usize>,
    data: Vec<f64>,
}

/// Multiply `fs` over the union of their indices and sum out `gone`: a tensor over `keep` (in that order).
fn contract(fs: &[&Dense], keep: &[(Symbol, usize)], gone: &[(Symbol, usize)]) -> Option<Dense> {
    let all: Vec<(Symbol, usize)> = keep.iter().chain(gone).copied().collect();
    let space = all.iter().try_fold(1usize, |a, (_, n)| a.checked_mul(*n))?;
    if space > MAX_SPACE {
        return None;
    }
    let out_len: usize = keep.iter().map(|k| k.1).product();
    let mut data = vec![0.0; out_len];
    // each factor's stride for each index of `all`
    let strides: Vec<Vec<usize>> = fs
        .iter()
        .map(|f| {
            all.iter()
                .map(|(s, _)| {
                    let mut stride = 1;
                    let mut found = 0;
                    for (k, x) in f.idx.iter().enumerate().rev() {
                        if x == s {
                            found += stride;
                        }
                        stride *= f.dims[k];
                    }
                    found
                })
                .collect()
        })
        .collect();
    // the output's stride for each index of `all` (0 for the summed ones)
    let mut out_strides = vec![0usize; all.len()];
    let mut stride = 1;
    for k in (0..keep.len()).rev() {
        out_strides[k] = stride;
        stride *= keep[k].1;
    }
    // an odometer over `all`, every factor's offset and the output's kept up to date as it turns
    let mut at = vec![0usize; all.len()];
    let mut offs = vec![0usize; fs.len()];
    let mut o = 0usize;
    for _ in 0..space {
        let mut v = 1.0;
        for (f, off) in fs.iter().zip(&offs) {
            v *= f.data[*off];
        }
        data[o] += v;
        for k in (0..all.len()).rev() {
            at[k] += 1;
            if at[k] < all[k].1 {
                for (off, st) in offs.iter_mut().zip(&strides) {
                    *off += st[k];
                }
                o += out_strides[k];
                break;
            }
            let back = all[k].1 - 1;
            at[k] = 0;
            for (off, st) in offs.iter_mut().zip(&strides) {
                *off -= st[k] * back;
            }
            o -= out_strides[k] * back;
        }
    }
    Some(Dense { idx: keep.iter().map(|k| k.0).collect(), dims: keep.iter().map(|k| k.1).collect(), data })
}

/// Σ over the product's bound indices of the product of its factors, over `target` (each entry's value), with
/// every factor replaced by its absolute value when `abs`. None when an atom cannot be evaluated or the
/// contraction is too large.
fn product_value(num: &mut Numeric, p: &Product, target: &[(Symbol, usize)], sizes: &Sizes, abs: bool) -> Result<Option<Vec<f64>>> {
    let mut dim_of: Vec<(Symbol, usize)> = target.to_vec();
    for (b, d) in &p.bound {
        let Some(n) = sizes.dims.get(d) else { return Ok(None) };
        dim_of.push((*b, *n));
    }
    let mut factors: Vec<Dense> = vec![];
    for (e, idx) in &p.factors {
        let mut uniq: Vec<Symbol> = vec![];
        for x in idx {
            if !uniq.contains(x) {
                uniq.push(*x);
            }
        }
        let Some(dims) = uniq.iter().map(|x| dim_of.iter().find(|d| d.0 == *x).map(|d| d.1)).collect::<Option<Vec<usize>>>() else { return Ok(None) };
        let t = num.tensor_with(e, &uniq, &dims, &[])?;
        let data = if abs { t.data.iter().map(|v| v.abs()).collect() } else { t.data };
        factors.push(Dense { idx: uniq, dims, data });
    }
    // eliminate the bound indices one at a time, the cheapest first
    let mut left: Vec<(Symbol, usize)> = dim_of[target.len()..].to_vec();
    while !left.is_empty() {
        crate::limits::check("the exact difference")?;
        let cost = |b: &(Symbol, usize), fs: &[Dense]| -> (usize, Vec<(Symbol, usize)>) {
            let mut union: Vec<(Symbol, usize)> = vec![];
            for f in fs.iter().filter(|f| f.idx.contains(&b.0)) {
                for (x, n) in f.idx.iter().zip(&f.dims) {
                    if *x != b.0 && !union.iter().any(|u| u.0 == *x) {
                        union.push((*x, *n));
                    }
                }
            }
            (union.iter().map(|u| u.1).product::<usize>() * b.1, union)
        };
        let (at, _) = left.iter().enumerate().map(|(k, b)| (k, cost(b, &factors).0)).min_by_key(|x| x.1).unwrap_or((0, 0));
        let b = left.remove(at);
        let (_, keep) = cost(&b, &factors);
        let (with, without): (Vec<Dense>, Vec<Dense>) = factors.into_iter().partition(|f| f.idx.contains(&b.0));
        let refs: Vec<&Dense> = with.iter().collect();
        // (a bound index no factor reads counts its range: the empty product is 1)
        let Some(c) = contract(&refs, &keep, &[b]) else { return Ok(None) };
        factors = without;
        factors.push(c);
    }
    let refs: Vec<&Dense> = factors.iter().collect();
    Ok(contract(&refs, target, &[]).map(|d| d.data))
}

/// The difference Σ c · product at one point, entry by entry, and its rounding bound.
pub fn evaluate(num: &mut Numeric, diff: &[(Rational, Product)], target: &[(Symbol, usize)], sizes: &Sizes) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let len: usize = target.iter().map(|t| t.1).product();
    let (mut value, mut bound) = (vec![0.0; len], vec![0.0; len]);
    for (c, p) in diff {
        crate::limits::check("the exact difference")?;
        let c = to_f64(c);
        let (Some(v), Some(a)) = (product_value(num, p, target, sizes, false)?, product_value(num, p, target, sizes, true)?) else { return Ok(None) };
        for k in 0..len {
            value[k] += c * v[k];
            bound[k] += (c * a[k]).abs();
        }
    }
    Ok(Some((value, bound.into_iter().map(|b| MARGIN * b).collect())))
}
