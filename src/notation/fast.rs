//! Activations over a whole array at once, for the fast evaluator (`bptt grad`): no call into libm per entry,
//! both branches computed and one chosen per entry, so the compiler runs four entries per instruction. Each
//! result is within 2 ulp of the one-entry form (`f64::tanh`), tested over a million points; the entry-by-entry
//! evaluator that checks every step keeps the one-entry form.
//!
//! tanh follows Cephes (S. L. Moshier, `tanh.c` and `exp.c`): below |x| = 0.625 a rational function of x², above
//! it 1 − 2/(e^{2|x|} + 1) with e^y as 2ⁿ · e^r (r = y − n ln 2 in two parts, e^r by a Padé form).
#![allow(clippy::excessive_precision)] // the constants as Cephes publishes them

/// tanh of every entry of `x`, into `out` (cleared first).
pub fn tanh_into(x: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(x.len(), 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above)
        unsafe { tanh_avx2(x, out) };
        return;
    }
    tanh_plain(x, out);
}

#[inline(always)]
fn tanh_plain(x: &[f64], out: &mut [f64]) {
    // a plain loop (a closure would not be compiled with the caller's AVX2)
    for (o, v) in out.iter_mut().zip(x) {
        *o = tanh(*v);
    }
}

/// The same operations, compiled for AVX2 (no fused multiply–add: the same bits as the plain loop).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn tanh_avx2(x: &[f64], out: &mut [f64]) {
    tanh_plain(x, out);
}

/// e^y for 1.25 ≤ y ≤ 40 (or NaN): the range [`tanh`] asks for.
#[inline(always)]
fn exp_mid(y: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const C1: f64 = 6.931_457_519_531_25E-1;
    const C2: f64 = 1.428_606_820_309_417_232_12E-6;
    // n = round(y / ln 2), read from the low bits of a number shifted by 1.5 · 2⁵²
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let t = y * LOG2E + SHIFT;
    let n = t - SHIFT;
    let r = (y - n * C1) - n * C2;
    let rr = r * r;
    let px = r * ((1.261_771_930_748_105_908_78E-4 * rr + 3.029_944_077_074_419_613_00E-2) * rr + 9.999_999_999_999_999_999_10E-1);
    let qx = ((3.001_985_051_386_644_550_42E-6 * rr + 2.524_483_403_496_841_041_92E-3) * rr + 2.272_655_482_081_550_287_66E-1) * rr + 2.000_000_000_000_000_000_09E0;
    let er = 1.0 + 2.0 * (px / (qx - px));
    // 2ⁿ: n (small and whole) is in the low bits of t; moved into the exponent field
    let scale = f64::from_bits((t.to_bits() << 52).wrapping_add(1023u64 << 52));
    er * scale
}

/// tanh(x), branch-free: within 2 ulp of `f64::tanh`; odd, ±1 beyond |x| = 20, NaN for NaN.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    // small |x|: x + x³ P(x²)/Q(x²)
    let z = a * a;
    let p = (-9.643_991_794_250_522_386_28E-1 * z - 9.928_772_310_019_185_865_64E1) * z - 1.614_687_684_417_084_479_52E3;
    let q = ((z + 1.128_116_784_916_329_314_02E2) * z + 2.235_488_390_601_004_485_83E3) * z + 4.844_063_053_251_254_860_48E3;
    let small = a + a * z * (p / q);
    // large |x|: 1 − 2/(e^{2|x|} + 1); beyond 20 that is 1 to the last bit (a NaN stays NaN: NaN > 20 is false)
    let c = if a > 20.0 { 20.0 } else { a };
    let big = 1.0 - 2.0 / (exp_mid(2.0 * c) + 1.0);
    let r = if a < 0.625 { small } else { big };
    r.copysign(x)
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    #[test]
    fn tanh_is_within_two_ulp_of_libm_everywhere() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut xs: Vec<f64> = vec![0.0, -0.0, 1e-300, -1e-300, f64::MIN_POSITIVE / 4.0, 0.625, -0.625, 0.624_999_999_999_999_9, 19.999, 20.0, 20.5, 40.0, 710.0, 1e300, -1e300, f64::INFINITY, f64::NEG_INFINITY];
        // a sweep over the branch point and the interesting range, and random points of every magnitude
        xs.extend((0..200_000).map(|i| -25.0 + i as f64 * 2.5e-4));
        xs.extend((0..800_000).map(|_| {
            let m = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let e = (rng.next_u32() % 40) as i32 - 30;
            let v = m * 2f64.powi(e);
            if rng.next_u32() % 2 == 0 { v } else { -v }
        }));
        let mut out = vec![];
        super::tanh_into(&xs, &mut out);
        let mut worst = (0u64, 0.0);
        for (x, y) in xs.iter().zip(&out) {
            let want = x.tanh();
            assert_eq!(y.to_bits() >> 63, want.to_bits() >> 63, "sign of tanh({x:e})");
            assert_eq!(y.to_bits(), super::tanh(*x).to_bits(), "the array form and the entry form differ at {x:e}");
            let u = ulps(*y, want);
            if u > worst.0 {
                worst = (u, *x);
            }
        }
        assert!(worst.0 <= 2, "tanh({:e}) is {} ulp off", worst.1, worst.0);
        super::tanh_into(&[f64::NAN, -f64::NAN], &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }
}
