//! The arrays of the fast evaluator: values over named axes, with broadcasting products, contractions (Σ over a
//! shared axis without forming the product), reductions, in-place accumulation and axis renaming.
use crate::error::{Error, Result};
use egg::Symbol;
use std::rc::Rc;

/// A dense array over named axes (row-major in the order of `idx`).
#[derive(Debug, Clone)]
pub(super) struct D {
    pub(super) idx: Vec<Symbol>,
    pub(super) dims: Vec<usize>,
    /// Shared: renaming axes or reading a parameter never copies the numbers.
    pub(super) data: Rc<Vec<f64>>,
}

impl D {
    pub(super) fn scalar(v: f64) -> D {
        D { idx: vec![], dims: vec![], data: Rc::new(vec![v]) }
    }
    pub(super) fn map(mut self, f: impl Fn(f64) -> f64) -> D {
        Rc::make_mut(&mut self.data).iter_mut().for_each(|v| *v = f(*v));
        self
    }
    /// Σ_k a·b without forming the product: a contraction over the shared axis `k` (a matrix-vector product).
    pub(super) fn contract(a: &D, b: &D, k: Symbol) -> Option<D> {
        let (idx, dims, plan) = Contract::plan((&a.idx, &a.dims), (&b.idx, &b.dims), k)?;
        let mut data = vec![];
        plan.run(&a.data, &b.data, &mut data);
        Some(D { idx, dims, data: Rc::new(data) })
    }
    /// acc += v, in place when the axes agree.
    pub(super) fn add_into(acc: D, v: &D) -> D {
        if acc.idx == v.idx {
            let mut acc = acc;
            Rc::make_mut(&mut acc.data).iter_mut().zip(v.data.iter()).for_each(|(x, y)| *x += y);
            return acc;
        }
        D::zip(&acc, v, |x, y| x + y)
    }
    /// acc += a ⊗ b (an outer product over disjoint axes, in acc's order a then b), in place.
    pub(super) fn add_outer(acc: &mut D, a: &D, b: &D) -> bool {
        if a.idx.iter().any(|s| b.idx.contains(s)) || acc.idx.len() != a.idx.len() + b.idx.len() || acc.idx[..a.idx.len()] != a.idx[..] || acc.idx[a.idx.len()..] != b.idx[..] {
            return false;
        }
        let m = b.data.len();
        let out = Rc::make_mut(&mut acc.data);
        for (i, x) in a.data.iter().enumerate() {
            for (o, y) in out[i * m..(i + 1) * m].iter_mut().zip(b.data.iter()) {
                *o += x * y;
            }
        }
        true
    }
    /// Σₜ aₜ ⊗ bₜ over T steps at once, one matrix product AᵀB (A: T rows of a, B: T rows of b), computed by
    /// `matrixmultiply`'s GEMM; `rows_a`, `rows_b` hold the steps' entries one after another. None when the axes
    /// overlap (not an outer product).
    pub(super) fn outer_sum((ai, ad): Axes, (bi, bd): Axes, rows_a: &[f64], rows_b: &[f64]) -> Option<D> {
        let (m, n) = (ad.iter().product::<usize>(), bd.iter().product::<usize>());
        if ai.iter().any(|s| bi.contains(s)) || m == 0 || n == 0 || !rows_a.len().is_multiple_of(m) || rows_a.len() / m != rows_b.len() / n.max(1) {
            return None;
        }
        let t = rows_a.len() / m;
        let mut out = vec![0.0; m * n];
        // C (m×n, row-major) = Aᵀ (m×T: element (i, k) at rows_a[k·m + i]) · B (T×n, row-major)
        // SAFETY: every pointer covers its matrix (rows_a: t·m, rows_b: t·n, out: m·n entries) with the strides given
        unsafe {
            matrixmultiply::dgemm(m, t, n, 1.0, rows_a.as_ptr(), 1, m as isize, rows_b.as_ptr(), n as isize, 1, 0.0, out.as_mut_ptr(), n as isize, 1);
        }
        let idx = ai.iter().chain(bi).copied().collect();
        let dims = ad.iter().chain(bd).copied().collect();
        Some(D { idx, dims, data: Rc::new(out) })
    }

    /// a ∘ b elementwise over the union of the axes (a's order, then b's new axes).
    pub(super) fn zip(a: &D, b: &D, f: impl Fn(f64, f64) -> f64) -> D {
        let (idx, dims, plan) = Zip::plan((&a.idx, &a.dims), (&b.idx, &b.dims));
        let mut data = vec![];
        plan.run(&a.data, &b.data, &mut data, f);
        D { idx, dims, data: Rc::new(data) }
    }
    /// Σ over the axis `k`.
    pub(super) fn reduce(self, k: Symbol) -> D {
        let Some(p) = self.idx.iter().position(|s| *s == k) else { return self };
        let r = Reduce::plan(&self.dims, p);
        let mut data = vec![];
        r.run(&self.data, &mut data);
        let mut idx = self.idx;
        let mut dims = self.dims;
        idx.remove(p);
        dims.remove(p);
        D { idx, dims, data: Rc::new(data) }
    }
    /// The same values with the axes renamed (`from[k]` → `to[k]`).
    pub(super) fn rename(mut self, from: &[Symbol], to: &[Symbol]) -> D {
        for s in &mut self.idx {
            if let Some(p) = from.iter().position(|f| f == s) {
                *s = to[p];
            }
        }
        self
    }
    /// Reorder the axes to `order`.
    pub(super) fn permute(self, order: &[Symbol]) -> Result<D> {
        if self.idx == order {
            return Ok(self);
        }
        let zero = D { idx: order.to_vec(), dims: order.iter().map(|s| self.idx.iter().position(|t| t == s).map(|p| self.dims[p]).unwrap_or(1)).collect(), data: Rc::new(vec![]) };
        let n: usize = zero.dims.iter().product();
        let ones = D { data: Rc::new(vec![0.0; n]), ..zero };
        if self.idx.iter().any(|s| !order.contains(s)) {
            return Err(Error::Eval("an index is left over".into()));
        }
        Ok(D::zip(&ones, &self, |_, y| y))
    }
}

/// Row-major strides of an array with these sizes.
pub(super) fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * dims[k + 1];
    }
    s
}

/// Axis names and sizes of an operand, borrowed.
pub(super) type Axes<'x> = (&'x [Symbol], &'x [usize]);

/// How an elementwise a ∘ b walks its operands: decided once from the axes, run on any numbers of those shapes
/// (the interpreter plans and runs at once; a compiled program plans once and runs at every step).
#[derive(Debug, Clone)]
pub(super) enum Zip {
    Same,
    ScalarB,
    ScalarA,
    /// The result's sizes and every result axis's stride in a and in b (0 where the operand lacks it).
    General { dims: Vec<usize>, pa: Vec<usize>, pb: Vec<usize> },
}

impl Zip {
    /// The result's axes (a's order, then b's new axes) and the walk.
    pub(super) fn plan((ai, ad): Axes, (bi, bd): Axes) -> (Vec<Symbol>, Vec<usize>, Zip) {
        if ai == bi {
            return (ai.to_vec(), ad.to_vec(), Zip::Same);
        }
        if bi.is_empty() {
            return (ai.to_vec(), ad.to_vec(), Zip::ScalarB);
        }
        if ai.is_empty() {
            return (bi.to_vec(), bd.to_vec(), Zip::ScalarA);
        }
        let mut idx = ai.to_vec();
        let mut dims = ad.to_vec();
        for (s, n) in bi.iter().zip(bd) {
            if !idx.contains(s) {
                idx.push(*s);
                dims.push(*n);
            }
        }
        let (sa, sb) = (strides(ad), strides(bd));
        let pick = |xi: &[Symbol], st: &[usize]| -> Vec<usize> { idx.iter().map(|s| xi.iter().position(|t| t == s).map(|p| st[p]).unwrap_or(0)).collect() };
        let (pa, pb) = (pick(ai, &sa), pick(bi, &sb));
        (idx, dims.clone(), Zip::General { dims, pa, pb })
    }

    /// out = a ∘ b (out is cleared first).
    pub(super) fn run(&self, a: &[f64], b: &[f64], out: &mut Vec<f64>, f: impl Fn(f64, f64) -> f64) {
        out.clear();
        match self {
            Zip::Same => out.extend(a.iter().zip(b.iter()).map(|(x, y)| f(*x, *y))),
            Zip::ScalarB => {
                let y = b[0];
                out.extend(a.iter().map(|x| f(*x, y)));
            }
            Zip::ScalarA => {
                let x = a[0];
                out.extend(b.iter().map(|y| f(x, *y)));
            }
            Zip::General { dims, pa, pb } => {
                let total: usize = dims.iter().product();
                out.reserve(total);
                let last = dims.len() - 1;
                let mut ctr = vec![0usize; dims.len()];
                let (mut oa, mut ob) = (0usize, 0usize);
                while out.len() < total {
                    // the innermost axis as a tight loop
                    for j in 0..dims[last] {
                        out.push(f(a[oa + j * pa[last]], b[ob + j * pb[last]]));
                    }
                    if !advance(&mut ctr, dims, (pa, pb), (&mut oa, &mut ob), last) {
                        break;
                    }
                }
            }
        }
    }
}

/// How Σ_k a·b is computed without forming the product, decided from the axes.
#[derive(Debug, Clone)]
pub(super) enum Contract {
    /// A matrix times a vector along the matrix's rows (k is the first of two axes): add scaled rows.
    RowsAxpy { vector_is_a: bool, cols: usize },
    /// A matrix times a vector along the matrix's columns (k is the last of two axes): a dot product per row.
    DotRows { vector_is_a: bool, n: usize },
    /// Any other: one sum of n products per result entry, walking both operands by their strides.
    General { dims: Vec<usize>, ra: Vec<usize>, rb: Vec<usize>, ka: usize, kb: usize, n: usize },
}

impl Contract {
    /// The result's axes (a's other axes, then b's new ones) and the walk; None when k is not an axis of both
    /// with one size.
    pub(super) fn plan((ai, ad): Axes, (bi, bd): Axes, k: Symbol) -> Option<(Vec<Symbol>, Vec<usize>, Contract)> {
        let (pa, pb) = (ai.iter().position(|s| *s == k)?, bi.iter().position(|s| *s == k)?);
        let n = ad[pa];
        if bd[pb] != n {
            return None;
        }
        let (sa, sb) = (strides(ad), strides(bd));
        let mut idx = vec![];
        let mut dims = vec![];
        let (mut ra, mut rb) = (vec![], vec![]);
        for (first, (xi, xd, st), (oi, ost)) in [(true, (ai, ad, &sa), (bi, &sb)), (false, (bi, bd, &sb), (ai, &sa))] {
            for (j, s) in xi.iter().enumerate() {
                if *s == k || idx.contains(s) {
                    continue;
                }
                idx.push(*s);
                dims.push(xd[j]);
                let in_other = oi.iter().position(|t| t == s).map(|p| ost[p]).unwrap_or(0);
                if first {
                    ra.push(st[j]);
                    rb.push(in_other);
                } else {
                    ra.push(in_other);
                    rb.push(st[j]);
                }
            }
        }
        let plan = if dims.len() == 1 && ((ai.len() == 1 && bi.len() == 2 && pb == 0) || (bi.len() == 1 && ai.len() == 2 && pa == 0)) {
            Contract::RowsAxpy { vector_is_a: ai.len() == 1, cols: dims[0] }
        } else if n > 0 && dims.len() == 1 && ((ai.len() == 1 && bi.len() == 2 && pb == 1) || (bi.len() == 1 && ai.len() == 2 && pa == 1)) {
            Contract::DotRows { vector_is_a: ai.len() == 1, n }
        } else {
            Contract::General { dims: dims.clone(), ra, rb, ka: sa[pa], kb: sb[pb], n }
        };
        Some((idx, dims, plan))
    }

    /// out = Σ_k a·b (out is cleared first).
    pub(super) fn run(&self, a: &[f64], b: &[f64], out: &mut Vec<f64>) {
        out.clear();
        match self {
            Contract::RowsAxpy { vector_is_a, cols } => {
                let (v, m) = if *vector_is_a { (a, b) } else { (b, a) };
                out.resize(*cols, 0.0);
                rows_axpy(out, v, m);
            }
            Contract::DotRows { vector_is_a, n } => {
                let (v, m) = if *vector_is_a { (a, b) } else { (b, a) };
                dot_rows(m, v, *n, out);
            }
            Contract::General { dims, ra, rb, ka, kb, n } => {
                let (ka, kb, n) = (*ka, *kb, *n);
                let total: usize = dims.iter().product();
                out.reserve(total);
                let mut ctr = vec![0usize; dims.len()];
                let (mut oa, mut ob) = (0usize, 0usize);
                for _ in 0..total {
                    let acc = if ka == 1 && kb == 1 { dot(&a[oa..oa + n], &b[ob..ob + n]) } else { (0..n).map(|j| a[oa + j * ka] * b[ob + j * kb]).sum() };
                    out.push(acc);
                    advance(&mut ctr, dims, (ra, rb), (&mut oa, &mut ob), dims.len());
                }
            }
        }
    }
}

/// Σ over one axis: the sizes before it, its own, after it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reduce {
    outer: usize,
    n: usize,
    inner: usize,
}

impl Reduce {
    pub(super) fn plan(dims: &[usize], p: usize) -> Reduce {
        Reduce { outer: dims[..p].iter().product(), n: dims[p], inner: dims[p + 1..].iter().product() }
    }
    pub(super) fn run(&self, x: &[f64], out: &mut Vec<f64>) {
        let Reduce { outer, n, inner } = *self;
        out.clear();
        out.resize(outer * inner, 0.0);
        for o in 0..outer {
            for j in 0..n {
                let src = &x[(o * n + j) * inner..(o * n + j + 1) * inner];
                for (d, s) in out[o * inner..(o + 1) * inner].iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
    }
}

/// x · y with four running sums (the compiler vectorises it; the order of additions is fixed, so the result is
/// deterministic).
/// x · y with four running sums. On a CPU with AVX the same operations run four lanes wide (each lane one of
/// the four sums, a multiply then an add, no fused multiply–add): the result is the same to the last bit.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked just above)
        return unsafe { dot_avx(x, y) };
    }
    dot_plain(x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn dot_avx(x: &[f64], y: &[f64]) -> f64 {
    use std::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd};
    let n = x.len().min(y.len());
    let ((xc, xt), (yc, yt)) = (x[..n].as_chunks::<4>(), y[..n].as_chunks::<4>());
    let mut acc = _mm256_setzero_pd();
    for (a, b) in xc.iter().zip(yc) {
        // SAFETY: each of a and b is four f64 in a row
        let (va, vb) = unsafe { (_mm256_loadu_pd(a.as_ptr()), _mm256_loadu_pd(b.as_ptr())) };
        acc = _mm256_add_pd(acc, _mm256_mul_pd(va, vb));
    }
    let mut lanes = [0.0f64; 4];
    // SAFETY: lanes holds four f64
    unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), acc) };
    let tail: f64 = xt.iter().zip(yt).map(|(a, b)| a * b).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// out += Σⱼ v[j] · (row j of m): a matrix times a vector along the matrix's rows, row by row (contiguous). With
/// AVX as [`dot`]: the same operations, wider.
fn rows_axpy(out: &mut [f64], v: &[f64], m: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked just above)
        return unsafe { rows_axpy_avx(out, v, m) };
    }
    rows_axpy_plain(out, v, m)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn rows_axpy_avx(out: &mut [f64], v: &[f64], m: &[f64]) {
    use std::arch::x86_64::{__m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_storeu_pd};
    let cols = out.len();
    let rows = v.len().min(m.len().checked_div(cols).unwrap_or(0));
    // Each entry of `out` still gets its terms added in the order of the rows (the same bits as the plain loop);
    // sixteen columns at a time stay in registers for all rows, four independent sums instead of one.
    let mut c = 0;
    while c + 16 <= cols {
        // SAFETY: c + 16 <= cols, and every row j < rows has cols entries starting at j * cols
        unsafe {
            let o = out.as_mut_ptr().add(c);
            let mut acc: [__m256d; 4] = [_mm256_loadu_pd(o), _mm256_loadu_pd(o.add(4)), _mm256_loadu_pd(o.add(8)), _mm256_loadu_pd(o.add(12))];
            for (j, x) in v.iter().enumerate().take(rows) {
                let vx = _mm256_set1_pd(*x);
                let w = m.as_ptr().add(j * cols + c);
                for (q, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_add_pd(*a, _mm256_mul_pd(vx, _mm256_loadu_pd(w.add(4 * q))));
                }
            }
            for (q, a) in acc.iter().enumerate() {
                _mm256_storeu_pd(o.add(4 * q), *a);
            }
        }
        c += 16;
    }
    while c + 4 <= cols {
        // SAFETY: as above, four columns
        unsafe {
            let o = out.as_mut_ptr().add(c);
            let mut a = _mm256_loadu_pd(o);
            for (j, x) in v.iter().enumerate().take(rows) {
                a = _mm256_add_pd(a, _mm256_mul_pd(_mm256_set1_pd(*x), _mm256_loadu_pd(m.as_ptr().add(j * cols + c))));
            }
            _mm256_storeu_pd(o, a);
        }
        c += 4;
    }
    for (k, o) in out.iter_mut().enumerate().skip(c) {
        for (j, x) in v.iter().enumerate().take(rows) {
            *o += x * m[j * cols + k];
        }
    }
}

#[inline(always)]
fn rows_axpy_plain(out: &mut [f64], v: &[f64], m: &[f64]) {
    let cols = out.len();
    for (j, x) in v.iter().enumerate() {
        for (o, w) in out.iter_mut().zip(&m[j * cols..(j + 1) * cols]) {
            *o += x * w;
        }
    }
}

/// The dot product of every `n`-long row of `m` with `v` (a matrix times a vector along its columns), each row
/// exactly as [`dot`] computes it; with AVX four rows at a time (four independent sums instead of one).
pub(super) fn dot_rows(m: &[f64], v: &[f64], n: usize, out: &mut Vec<f64>) {
    out.clear();
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked just above)
        return unsafe { dot_rows_avx(m, v, n, out) };
    }
    out.extend(m.chunks_exact(n).map(|row| dot_plain(row, v)))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn dot_rows_avx(m: &[f64], v: &[f64], n: usize, out: &mut Vec<f64>) {
    use std::arch::x86_64::{__m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd};
    if n == 0 {
        return;
    }
    out.reserve(m.len() / n);
    let k = n.min(v.len());
    let whole = k - k % 4;
    let mut blocks = m.chunks_exact(4 * n);
    for block in blocks.by_ref() {
        let b: [&[f64]; 4] = [&block[..n], &block[n..2 * n], &block[2 * n..3 * n], &block[3 * n..]];
        let mut acc: [__m256d; 4] = [_mm256_setzero_pd(); 4];
        let mut i = 0;
        while i < whole {
            // SAFETY: i + 4 <= whole <= n and <= v.len(); every row has n entries
            unsafe {
                let vv = _mm256_loadu_pd(v.as_ptr().add(i));
                for (a, row) in acc.iter_mut().zip(b) {
                    *a = _mm256_add_pd(*a, _mm256_mul_pd(_mm256_loadu_pd(row.as_ptr().add(i)), vv));
                }
            }
            i += 4;
        }
        for (a, row) in acc.iter().zip(b) {
            let mut lanes = [0.0f64; 4];
            // SAFETY: lanes holds four f64
            unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), *a) };
            let tail: f64 = row[whole..k].iter().zip(&v[whole..k]).map(|(a, b)| a * b).sum();
            out.push((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail);
        }
    }
    out.extend(blocks.remainder().chunks_exact(n).map(|row| dot_avx(row, v)));
}

#[inline(always)]
fn dot_plain(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let ((xc, xt), (yc, yt)) = (x[..n].as_chunks::<4>(), y[..n].as_chunks::<4>());
    let tail: f64 = xt.iter().zip(yt).map(|(a, b)| a * b).sum();
    let mut acc = [0.0f64; 4];
    for (a, b) in xc.iter().zip(yc) {
        for l in 0..4 {
            acc[l] += a[l] * b[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}


/// One step of an odometer over the axes `0..upto` (the last of them turning fastest), moving the offsets into two
/// operands by their strides; false when every axis has wrapped around (the walk is over).
#[inline]
fn advance(ctr: &mut [usize], dims: &[usize], (sa, sb): (&[usize], &[usize]), (oa, ob): (&mut usize, &mut usize), upto: usize) -> bool {
    for q in (0..upto).rev() {
        ctr[q] += 1;
        *oa += sa[q];
        *ob += sb[q];
        if ctr[q] < dims[q] {
            return true;
        }
        *oa -= sa[q] * dims[q];
        *ob -= sb[q] * dims[q];
        ctr[q] = 0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    fn numbers(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        // mixed magnitudes and signs, so that rounding differences would show
        (0..n).map(|_| ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi((rng.next_u32() % 9) as i32 - 4)).collect()
    }

    #[test]
    fn the_wide_kernels_give_the_same_bits_as_the_plain_loops() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for n in 0..70 {
            let (x, y) = (numbers(&mut rng, n), numbers(&mut rng, n));
            assert_eq!(dot(&x, &y).to_bits(), dot_plain(&x, &y).to_bits(), "dot of length {n}");
            for cols in [1, 3, 4, 9, 64] {
                let m = numbers(&mut rng, n * cols);
                let start = numbers(&mut rng, cols);
                let (mut a, mut b) = (start.clone(), start);
                rows_axpy(&mut a, &x, &m);
                rows_axpy_plain(&mut b, &x, &m);
                assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "rows of length {cols}, {n} rows");
                // the other way round: `cols` rows of length n, each dotted with x
                if n > 0 {
                    let m = numbers(&mut rng, n * cols);
                    let want: Vec<u64> = m.chunks_exact(n).map(|row| dot_plain(row, &x).to_bits()).collect();
                    let mut got = vec![];
                    dot_rows(&m, &x, n, &mut got);
                    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want, "{cols} rows of length {n}");
                }
            }
        }
    }
}
