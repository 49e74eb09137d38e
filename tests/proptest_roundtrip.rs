//! Random well-formed expressions survive print → parse → print (the same text up to line breaks, the same
//! expression up to associativity), in Unicode text, ASCII text and LaTeX.
use bptt::lang::{Expr, normal_form, num};
use bptt::render::text::{Style, render};
use egg::{Id, RecExpr};
use proptest::prelude::*;

/// A random expression as a tree, turned into a RecExpr.
#[derive(Debug, Clone)]
enum T {
    W(u8, u8),
    S(u8, u8),
    H(u8),
    L,
    Num(u8),
    Half,
    Add(Box<T>, Box<T>),
    Sub(Box<T>, Box<T>),
    Mul(Box<T>, Box<T>),
    Neg(Box<T>),
    Sq(Box<T>),
    Tanh(Box<T>),
    DSig(Box<T>),
    Sum(u8, Box<T>),
    TSum(Box<T>),
    Delta(u8, u8),
    DL(u8),
}

const IDX: [&str; 4] = ["i", "p", "a", "b"];

fn leaf() -> impl Strategy<Value = T> {
    prop_oneof![
        (0..4u8, 0..4u8).prop_map(|(a, b)| T::W(a, b)),
        (0..4u8, 0..4u8).prop_map(|(t, a)| T::S(t, a)),
        (0..4u8).prop_map(T::H),
        Just(T::L),
        (0..10u8).prop_map(T::Num),
        Just(T::Half),
        (0..4u8, 0..4u8).prop_map(|(a, b)| T::Delta(a, b)),
        (0..4u8).prop_map(T::DL),
    ]
}

fn tree() -> impl Strategy<Value = T> {
    leaf().prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| T::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| T::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| T::Mul(Box::new(a), Box::new(b))),
            inner.clone().prop_map(|a| T::Neg(Box::new(a))),
            inner.clone().prop_map(|a| T::Sq(Box::new(a))),
            inner.clone().prop_map(|a| T::Tanh(Box::new(a))),
            inner.clone().prop_map(|a| T::DSig(Box::new(a))),
            (0..4u8, inner.clone()).prop_map(|(k, a)| T::Sum(k, Box::new(a))),
            inner.prop_map(|a| T::TSum(Box::new(a))),
        ]
    })
}

fn build(t: &T, e: &mut RecExpr<Expr>) -> Id {
    let sym = |e: &mut RecExpr<Expr>, s: &str| e.add(Expr::Symbol(s.into()));
    match t {
        T::W(a, b) => {
            let (n, a, b) = (sym(e, "W_r"), sym(e, IDX[*a as usize]), sym(e, IDX[*b as usize]));
            e.add(Expr::Ix(vec![n, a, b].into()))
        }
        T::S(time, a) => {
            let n = sym(e, "s");
            let t = if *time == 0 {
                let k = sym(e, "k");
                let one = e.add(num(1.0));
                e.add(Expr::Sub([k, one]))
            } else {
                e.add(num(*time as f64))
            };
            let a = sym(e, IDX[*a as usize]);
            e.add(Expr::Tx(vec![n, t, a].into()))
        }
        T::H(a) => {
            let (n, t, a) = (sym(e, "h"), e.add(num(3.0)), sym(e, IDX[*a as usize]));
            e.add(Expr::Tx(vec![n, t, a].into()))
        }
        T::L => sym(e, "L"),
        T::Num(v) => e.add(num(*v as f64)),
        T::Half => e.add(num(0.5)),
        T::Add(a, b) => {
            let (a, b) = (build(a, e), build(b, e));
            e.add(Expr::Add([a, b]))
        }
        T::Sub(a, b) => {
            let (a, b) = (build(a, e), build(b, e));
            e.add(Expr::Sub([a, b]))
        }
        T::Mul(a, b) => {
            let (a, b) = (build(a, e), build(b, e));
            e.add(Expr::Mul([a, b]))
        }
        T::Neg(a) => {
            let a = build(a, e);
            e.add(Expr::Neg(a))
        }
        T::Sq(a) => {
            let a = build(a, e);
            let two = e.add(num(2.0));
            e.add(Expr::Pow([a, two]))
        }
        T::Tanh(a) => {
            let a = build(a, e);
            e.add(Expr::Act(bptt::notation::Act::named("tanh").unwrap(), a))
        }
        T::DSig(a) => {
            let a = build(a, e);
            e.add(Expr::DAct(bptt::notation::Act::named("sigmoid").unwrap(), a))
        }
        T::Sum(k, a) => {
            let k = sym(e, IDX[*k as usize]);
            let d = sym(e, bptt::read::NO_MODEL_SIZE); // what a read without a model gives every Σ
            let a = build(a, e);
            e.add(Expr::Sum([k, d, a]))
        }
        T::TSum(a) => {
            let k = sym(e, "k");
            let (lo, hi) = (e.add(num(1.0)), e.add(num(3.0)));
            let a = build(a, e);
            e.add(Expr::TSum([k, lo, hi, a]))
        }
        T::Delta(a, b) => {
            let (a, b) = (sym(e, IDX[*a as usize]), sym(e, IDX[*b as usize]));
            e.add(Expr::Delta([a, b]))
        }
        T::DL(a) => {
            let (l, n, t, a) = (sym(e, "L"), sym(e, "h"), sym(e, "k"), sym(e, IDX[*a as usize]));
            let q = e.add(Expr::Tx(vec![n, t, a].into()));
            e.add(Expr::D([l, q]))
        }
    }
}

fn read(style: Style, text: &str) -> Result<RecExpr<Expr>, String> {
    match style {
        Style::Latex => bptt::read::latex::read(text, "random", None),
        _ => bptt::read::text::read(text, "random", None),
    }
    .map_err(|d| d.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn print_parse_print(t in tree()) {
        let mut e = RecExpr::default();
        build(&t, &mut e);
        for style in [Style::Unicode, Style::Ascii, Style::Latex] {
            let printed = render(&e, style, 60);
            let back = read(style, &printed).map_err(|m| TestCaseError::fail(format!("{style:?}: {printed}\n{m}")))?;
            // the same text up to where lines break (a + (b + c) and (a + b) + c group differently)
            let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(flat(&render(&back, style, 60)), flat(&printed), "{:?}", style);
            prop_assert_eq!(normal_form(&back), normal_form(&e), "{:?}: {}", style, printed);
        }
    }
}
