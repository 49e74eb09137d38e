//! The catalogue of typical mistakes (`rules/mistakes.catalogue`): loading it, and making the wrong forms — every
//! correct form of the derivation with one mistake applied — that a refuted formula is compared against.
use crate::derive::Derivation;
use crate::error::Result;
use crate::lang::{Expr, normal_form, symbols};
use crate::plan::RuleUse;
use crate::rules::{Kind, RuleSet, finish, read_rules};
use crate::session::Session;
use crate::stepper::{Limits, Stats, run};
use egg::RecExpr;
use std::collections::BTreeSet;

/// The catalogue's file name in the rules folder.
pub const FILE: &str = crate::rules::CATALOGUE;

/// One mistake: its rule name, its description (the rule's comment), and where it is written.
#[derive(Debug, Clone)]
pub struct Mistake {
    pub name: String,
    pub words: String,
    /// The words in Korean (the entry's `# ko:` line).
    pub words_ko: Option<String>,
    pub at: String,
}

/// A wrong form: a correct form with one mistake applied.
pub struct WrongForm {
    pub mistake: usize,
    pub form: RecExpr<Expr>,
}

/// The loaded catalogue.
pub struct Catalogue {
    pub mistakes: Vec<Mistake>,
    rules: RuleSet,
}

impl Catalogue {
    pub fn load(s: &Session) -> Result<Catalogue> {
        let mut diags = vec![];
        let Some((file, text)) = s.sources.get(FILE) else {
            return Ok(Catalogue { mistakes: vec![], rules: RuleSet::new(vec![], &mut diags, &s.sources) });
        };
        let rules = read_rules(file, text, &s.ctx, Kind::Rule, &|_| false, &mut diags);
        let rules = RuleSet::new(rules.into_iter().map(std::sync::Arc::new).collect(), &mut diags, &s.sources);
        finish(diags)?;
        let mistakes = rules.rules.iter().map(|r| Mistake { name: r.name.clone(), words: r.comment.clone(), words_ko: r.comment_ko.clone(), at: format!("{}:{}", r.file, r.line) }).collect();
        Ok(Catalogue { mistakes, rules })
    }

    /// Every wrong form: each mistake applied once (at every place it matches) to each correct form.
    pub fn wrong_forms(&self, correct: &[RecExpr<Expr>], limits: Limits) -> Vec<WrongForm> {
        let mut seen = BTreeSet::new();
        let mut out = vec![];
        for (m, mistake) in self.mistakes.iter().enumerate() {
            let uses = [RuleUse { name: mistake.name.clone(), limit: Some(1) }];
            for form in correct {
                let mut stats = Stats::default();
                let Ok(steps) = run(form, &uses, &self.rules, &symbols(form).into(), limits, &mut stats, "mistake") else { continue };
                let Some(last) = steps.last() else { continue };
                // a mistake inside ∂/∂W (∂L/∂δ(i,p)) is not a formula anyone writes
                let odd = last.term.as_ref().iter().any(|n| matches!(n, Expr::D([_, w]) if !matches!(&last.term[*w], Expr::Ix(_) | Expr::Tx(_) | Expr::Symbol(_))));
                if !odd && seen.insert((m, normal_form(&last.term))) {
                    out.push(WrongForm { mistake: m, form: last.term.clone() });
                }
            }
        }
        out
    }
}

/// The correct forms of a derivation a mistake can be applied to: every beat's whole expression, then `more`.
pub fn correct_forms(d: &Derivation, more: &[RecExpr<Expr>]) -> Vec<RecExpr<Expr>> {
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for f in d.beats.iter().map(|b| &b.whole).chain(more) {
        if seen.insert(normal_form(f)) {
            out.push(f.clone());
        }
    }
    out
}
