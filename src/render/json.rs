//! The `--format json` object: model, params, wrt, loss, steps (eq, title, rules, text, value), gradient and
//! finite differences.
use crate::print::{Style, render};
use crate::derive::Derivation;
use crate::eval::Tensor;
use crate::params::Array;
use crate::session::Session;
use crate::verify::Verified;
use serde_json::{Value, json};

fn value(t: &Tensor) -> Value {
    Array { shape: t.dims.clone(), data: t.data.clone() }.to_json()
}

/// The JSON report.
pub fn report(s: &Session, d: &Derivation, n: &Verified, closed: Option<&(egg::RecExpr<crate::lang::Expr>, Vec<crate::closed::AtT>)>, lang: crate::options::Lang) -> Value {
    let txt = |e: &egg::RecExpr<crate::lang::Expr>| render(e, Style::Unicode, usize::MAX / 4);
    let mut steps = vec![];
    for (b, v) in d.beats.iter().zip(&n.beats) {
        let text = match (&b.part_lhs, &b.part) {
            (Some(l), Some(p)) => format!("{} = {}", txt(l), txt(p)),
            _ => txt(&b.whole),
        };
        let wheres: Vec<Value> = b.wheres.iter().map(|w| json!({"text": format!("{} = {}", txt(&w.lhs), txt(&w.rhs)), "rules": w.rules.iter().map(|r| r.0.clone()).collect::<Vec<_>>()})).collect();
        steps.push(json!({
            "eq": b.eq,
            "title": lang.pick(&b.title, b.title_ko.as_deref()),
            "rules": b.rules.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "text": text,
            "whole": txt(&b.whole),
            "where": wheres,
            "value": value(v),
        }));
    }
    let closed = closed.map(|(e, c)| {
        json!({
            "text": txt(e),
            "checked": c.iter().map(|a| json!({"steps": a.steps, "same_form": a.same_form, "relative_error": a.rel_error})).collect::<Vec<_>>(),
        })
    });
    let fd = Tensor { indices: n.gradient.indices.clone(), dims: n.gradient.dims.clone(), data: n.fd.clone() };
    let h = s.header();
    let mut model = json!({
        "steps": h.steps,
        "activation": h.activation.name(),
        "loss": h.loss.tag(),
        "bias": h.bias,
        "many_to_many": h.many_to_many,
    });
    for (word, n) in &h.sizes {
        model[word.as_str()] = json!(n);
    }
    json!({
        "model": model,
        "seed": if s.options.params.is_some() { Value::Null } else { json!(s.options.seed) },
        "params": s.params.to_json(&s.model),
        "wrt": h.wrt.as_str(),
        "loss": n.loss,
        "steps": steps,
        "gradient": value(&n.gradient),
        "finite_difference": value(&fd),
        "closed_form": closed,
        "matrix_form": n.matrix.iter().map(|m| json!({"text": format!("{}{}", m.text, super::words::range(crate::options::Lang::En, m.range)), "relative_error": m.error})).collect::<Vec<_>>(),
        "check": {
            "worst_step_change": n.worst_step,
            "finite_difference_max_abs_error": n.fd_error,
            "ok": n.ok(),
        },
    })
}
