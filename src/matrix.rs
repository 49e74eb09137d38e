//! The matrix form of a result beside its index form (column vectors; a gradient has the shape of its
//! parameter, the "denominator layout"): Σ_a u[a] M[a,i] is (Mᵀu)[i], f(h[i]) v[i] is (diag(f(h)) v)[i], and a
//! product a[i] b[p] with two free indices is the outer product a bᵀ. The matrix form is evaluated and compared
//! with the index form, so a wrong translation cannot pass unnoticed.
use crate::eval::Numeric;
use crate::lang::{Expr, sub_expr};
use crate::print::{Style, render};
use egg::{Id, RecExpr, Symbol};

/// A matrix-notation expression whose leaves keep their index form (for the numbers).
#[derive(Debug, Clone)]
pub enum M {
    /// A vector leaf: its shown name and its index form with the free index.
    Vec(String, RecExpr<Expr>, Symbol),
    /// A matrix leaf (W⁽ʳ⁾): shown name, index form, row and column index.
    Mat(String, RecExpr<Expr>, Symbol, Symbol),
    T(Box<M>),
    /// diag(f(h)): shown text and the index form of f(h[i]).
    Diag(String, RecExpr<Expr>, Symbol),
    Prod(Box<M>, Box<M>),
    Add(Box<M>, Box<M>),
    Sub(Box<M>, Box<M>),
    Outer(Box<M>, Box<M>),
    /// Σ over time: the time index, first and last step (as text) and the body.
    TSum(Symbol, String, String, i64, i64, Box<M>),
}

fn leaf_name(e: &RecExpr<Expr>, id: Id, style: Style) -> String {
    // the quantity without its index: W⁽ʳ⁾[a,i] → W⁽ʳ⁾, ∂L/∂h⁽ᵏ⁾[i] → ∂L/∂h⁽ᵏ⁾
    let s = render(&sub_expr(e, id), style, 1000);
    match s.rfind('[') {
        Some(i) if s.ends_with(']') => s[..i].to_string(),
        _ => s,
    }
}

fn index_list(e: &RecExpr<Expr>, id: Id) -> Option<Vec<Symbol>> {
    let ch = match &e[id] {
        Expr::Ix(ch) => &ch[1..],
        Expr::Tx(ch) => &ch[2..],
        Expr::D([_, w]) => return index_list(e, *w),
        _ => return None,
    };
    ch.iter().map(|c| if let Expr::Symbol(s) = &e[*c] { Some(*s) } else { None }).collect()
}

fn is_act_deriv(n: &Expr) -> bool {
    matches!(n, Expr::DAct(..))
}

/// `e` as a column vector over the free index `i`.
pub fn vector(e: &RecExpr<Expr>, id: Id, i: Symbol, style: Style) -> Option<M> {
    match &e[id] {
        Expr::Ix(_) | Expr::Tx(_) | Expr::D(_) if index_list(e, id)? == [i] => Some(M::Vec(leaf_name(e, id, style), sub_expr(e, id), i)),
        Expr::Sub([a, b]) => Some(M::Sub(Box::new(vector(e, *a, i, style)?), Box::new(vector(e, *b, i, style)?))),
        Expr::Add([a, b]) => Some(M::Add(Box::new(vector(e, *a, i, style)?), Box::new(vector(e, *b, i, style)?))),
        Expr::Mul([a, b]) => {
            for (f, v) in [(*a, *b), (*b, *a)] {
                if is_act_deriv(&e[f]) {
                    let arg = egg::Language::children(&e[f])[0];
                    if index_list(e, arg)? == [i] {
                        let shown = render(&sub_expr(e, f), style, 1000);
                        let shown = shown.replace(&format!("[{i}]"), "");
                        return Some(M::Prod(Box::new(M::Diag(shown, sub_expr(e, f), i)), Box::new(vector(e, v, i, style)?)));
                    }
                }
            }
            None
        }
        Expr::Sum([a, _, body]) => {
            let Expr::Symbol(a) = &e[*a] else { return None };
            let Expr::Mul([x, y]) = &e[*body] else { return None };
            for (u, w) in [(*x, *y), (*y, *x)] {
                let Some(idx) = index_list(e, w) else { continue };
                if idx.len() != 2 || !matches!(&e[w], Expr::Ix(_)) {
                    continue;
                }
                let m = M::Mat(leaf_name(e, w, style), sub_expr(e, w), idx[0], idx[1]);
                let u = vector(e, u, *a, style)?;
                if idx == [*a, i] {
                    return Some(M::Prod(Box::new(M::T(Box::new(m))), Box::new(u)));
                }
                if idx == [i, *a] {
                    return Some(M::Prod(Box::new(m), Box::new(u)));
                }
            }
            None
        }
        Expr::TSum([k, lo, hi, body]) => {
            let (Expr::Symbol(k), Expr::Num(l), Expr::Num(h)) = (&e[*k], &e[*lo], &e[*hi]) else { return None };
            let b = vector(e, *body, i, style)?;
            Some(M::TSum(*k, fmt(l.into_inner()), fmt(h.into_inner()), l.into_inner() as i64, h.into_inner() as i64, Box::new(b)))
        }
        _ => None,
    }
}

fn fmt(v: f64) -> String {
    crate::print::fmt_num(v)
}

/// `e` as a matrix over the free indices (i, p) (row, column).
pub fn matrix(e: &RecExpr<Expr>, id: Id, i: Symbol, p: Symbol, style: Style) -> Option<M> {
    match &e[id] {
        Expr::Mul([a, b]) => Some(M::Outer(Box::new(vector(e, *a, i, style)?), Box::new(vector(e, *b, p, style)?))),
        Expr::TSum([k, lo, hi, body]) => {
            let (Expr::Symbol(k), Expr::Num(l), Expr::Num(h)) = (&e[*k], &e[*lo], &e[*hi]) else { return None };
            let b = matrix(e, *body, i, p, style)?;
            Some(M::TSum(*k, fmt(l.into_inner()), fmt(h.into_inner()), l.into_inner() as i64, h.into_inner() as i64, Box::new(b)))
        }
        _ => None,
    }
}

/// The text of a matrix-form expression.
pub fn show(m: &M, style: Style) -> String {
    let t = if style == Style::Unicode { "ᵀ" } else { "^T" };
    let paren = |m: &M| match m {
        M::Add(..) | M::Sub(..) => format!("({})", show(m, style)),
        _ => show(m, style),
    };
    match m {
        M::Vec(n, ..) | M::Mat(n, ..) => n.clone(),
        M::T(x) => format!("{}{t}", paren(x)),
        M::Diag(f, ..) => format!("diag({f})"),
        M::Prod(a, b) => format!("{} {}", paren(a), paren(b)),
        M::Add(a, b) => format!("{} + {}", show(a, style), show(b, style)),
        M::Sub(a, b) => format!("{} {} {}", show(a, style), if style == Style::Unicode { "−" } else { "-" }, paren(b)),
        M::Outer(a, b) => format!("{} {}{t}", paren(a), paren(b)),
        M::TSum(k, lo, hi, _, _, b) => format!("{}_{{{k}={lo}}}^{{{hi}}} {}", if style == Style::Unicode { "Σ" } else { "sum" }, paren(b)),
    }
}

/// A vector or a matrix (row-major).
#[derive(Debug, Clone)]
enum Val {
    V(Vec<f64>),
    M(usize, usize, Vec<f64>),
}

fn leaf_values(num: &mut Numeric, e: &RecExpr<Expr>, idx: &[Symbol], fixed: &[(Symbol, i64)]) -> Option<(Vec<usize>, Vec<f64>)> {
    let dims = num.index_dims(e, idx).ok()?;
    let t = num.tensor_with(e, idx, &dims, fixed).ok()?;
    Some((dims, t.data))
}

fn eval(num: &mut Numeric, m: &M, fixed: &mut Vec<(Symbol, i64)>) -> Option<Val> {
    Some(match m {
        M::Vec(_, e, i) => Val::V(leaf_values(num, e, &[*i], fixed)?.1),
        M::Diag(_, e, i) => {
            let v = leaf_values(num, e, &[*i], fixed)?.1;
            let n = v.len();
            let mut d = vec![0.0; n * n];
            for (k, x) in v.iter().enumerate() {
                d[k * n + k] = *x;
            }
            Val::M(n, n, d)
        }
        M::Mat(_, e, a, b) => {
            let (dims, data) = leaf_values(num, e, &[*a, *b], fixed)?;
            Val::M(dims[0], dims[1], data)
        }
        M::T(x) => match eval(num, x, fixed)? {
            Val::M(r, c, d) => Val::M(c, r, (0..r * c).map(|k| d[(k % r) * c + k / r]).collect()),
            v => v,
        },
        M::Prod(a, b) => match (eval(num, a, fixed)?, eval(num, b, fixed)?) {
            (Val::M(r, c, d), Val::V(v)) if v.len() == c => Val::V((0..r).map(|i| (0..c).map(|j| d[i * c + j] * v[j]).sum()).collect()),
            _ => return None,
        },
        M::Add(a, b) | M::Sub(a, b) => {
            let sign = if matches!(m, M::Add(..)) { 1.0 } else { -1.0 };
            match (eval(num, a, fixed)?, eval(num, b, fixed)?) {
                (Val::V(x), Val::V(y)) if x.len() == y.len() => Val::V(x.iter().zip(&y).map(|(p, q)| p + sign * q).collect()),
                _ => return None,
            }
        }
        M::Outer(a, b) => match (eval(num, a, fixed)?, eval(num, b, fixed)?) {
            (Val::V(x), Val::V(y)) => Val::M(x.len(), y.len(), x.iter().flat_map(|p| y.iter().map(move |q| p * q)).collect()),
            _ => return None,
        },
        M::TSum(k, _, _, lo, hi, body) => {
            let mut acc: Option<Val> = None;
            for v in *lo..=*hi {
                fixed.push((*k, v));
                let x = eval(num, body, fixed);
                fixed.pop();
                let x = x?;
                acc = Some(match (acc, x) {
                    (None, x) => x,
                    (Some(Val::V(a)), Val::V(b)) => Val::V(a.iter().zip(&b).map(|(p, q)| p + q).collect()),
                    (Some(Val::M(r, c, a)), Val::M(_, _, b)) => Val::M(r, c, a.iter().zip(&b).map(|(p, q)| p + q).collect()),
                    _ => return None,
                });
            }
            acc?
        }
    })
}

/// Evaluate the matrix form with `fixed` bindings (e.g. k) and compare with `expect` (row-major):
/// the largest relative difference, or None if it cannot be evaluated.
pub fn check(num: &mut Numeric, m: &M, fixed: &[(Symbol, i64)], expect: &[f64]) -> Option<f64> {
    let mut f = fixed.to_vec();
    let data = match eval(num, m, &mut f)? {
        Val::V(v) => v,
        Val::M(_, _, d) => d,
    };
    if data.len() != expect.len() {
        return None;
    }
    let scale = expect.iter().fold(1e-300f64, |a, v| a.max(v.abs()));
    Some(data.iter().zip(expect).fold(0.0f64, |a, (x, y)| a.max((x - y).abs() / scale)))
}
