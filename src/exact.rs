//! Exact numbers for proofs: every number in an expression is read as the decimal it was written as (a user's
//! `0.1` is 1/10, the rules' `0.5` is 1/2), and a proof compares such rationals exactly — never with a
//! tolerance. A literal whose decimal a 64-bit float cannot hold exactly as its shortest form (more than about
//! 17 significant digits) is refused by the readers, so that the number a formula computes with and the number
//! a proof reasons about are one and the same.
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// An exact rational.
pub type Rational = BigRational;

/// The exact value of a decimal literal such as `12`, `0.25`, `1e-13`, `2.5E+3` (None if it is not one).
pub fn decimal(text: &str) -> Option<Rational> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    if exp.abs() > 400 {
        return None;
    }
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: BigInt = format!("0{int}{frac}").parse().ok()?;
    let scale = exp - frac.len() as i64;
    let ten = BigInt::from(10);
    let mut r = if scale >= 0 {
        Rational::from_integer(digits * num_traits::pow(ten, scale as usize))
    } else {
        Rational::new(digits, num_traits::pow(ten, (-scale) as usize))
    };
    if neg {
        r = -r;
    }
    Some(r)
}

/// The exact rational a float in an expression stands for: its shortest decimal form (the one Rust prints,
/// which reads back to the same float), so 0.1 is 1/10.
pub fn of_f64(v: f64) -> Option<Rational> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some(Rational::zero());
    }
    decimal(&format!("{v:e}"))
}

/// Does the float `v` read from `text` stand for exactly the decimal written (no digits lost)?
pub fn literal_is_exact(text: &str, v: f64) -> bool {
    matches!((decimal(text), of_f64(v)), (Some(a), Some(b)) if a == b)
}

/// The nearest float, for display.
pub fn to_f64(r: &Rational) -> f64 {
    use num_traits::ToPrimitive;
    r.to_f64().unwrap_or(f64::NAN)
}

/// One, for building products.
pub fn one() -> Rational {
    Rational::one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal("0.1"), Some(Rational::new(1.into(), 10.into())));
        assert_eq!(decimal("1e-13"), Some(Rational::new(1.into(), BigInt::from(10).pow(13))));
        assert_eq!(decimal("2.5E+3"), Some(Rational::from_integer(2500.into())));
        assert_eq!(of_f64(0.5), Some(Rational::new(1.into(), 2.into())));
        assert_eq!(of_f64(1.0000000000001), decimal("1.0000000000001"));
        assert_ne!(of_f64(1.0000000000001), of_f64(1.0));
        assert!(literal_is_exact("0.000000000001", 1e-12));
        assert!(!literal_is_exact("1.00000000000000000001", 1.0));
        assert!(literal_is_exact("1.000", 1.0));
        assert_eq!(decimal("1.2.3"), None);
        assert_eq!(decimal("e5"), None);
    }
}
