//! Compiled rules by their text: reading a rule line (parse, then compile its patterns for egg's matcher) is a
//! pure function of the line, its kind and what the appliers know, so a process reads each line once. The
//! any-T check loads the same files for T = 1..8; only the lines that mention T differ between them.
use super::Kind;
use super::apply::{Cond, Ctx};
use super::parse::Rhs;
use crate::lang::{Expr, Rw};
use egg::{PatternAst, Symbol};
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

/// What a rule line compiles to.
#[derive(Clone)]
pub struct Compiled {
    pub name: String,
    pub lhs: PatternAst<Expr>,
    pub rhs: Rhs,
    pub conds: Vec<Cond>,
    pub rewrite: Rw,
}

/// Per line: its kind, the independent names, T when a condition reads it (`before-end`), and what it compiled
/// to (looked up by the line without copying it).
type Entries = Vec<(Kind, BTreeSet<Symbol>, Option<usize>, Compiled)>;

/// Enough for every shipped and user rule set; past it (e.g. a fuzzer's endless new lines) nothing more is kept.
const MAX_ENTRIES: usize = 20_000;

static COMPILED: LazyLock<Mutex<(usize, rustc_hash::FxHashMap<String, Entries>)>> = LazyLock::new(Default::default);

fn reads_steps(conds: &[Cond]) -> bool {
    conds.iter().any(|c| matches!(c, Cond::BeforeEnd(_)))
}

/// The compiled rule for `line`, if this process compiled it before under the same context.
pub fn get(line: &str, kind: Kind, ctx: &Ctx) -> Option<Compiled> {
    let map = COMPILED.lock().ok()?;
    let found = map.1.get(line)?.iter().find(|(k, ind, steps, _)| *k == kind && *ind == ctx.independent && steps.is_none_or(|t| t == ctx.steps));
    found.map(|e| e.3.clone())
}

/// Remember how `line` compiled.
pub fn put(line: &str, kind: Kind, ctx: &Ctx, c: &Compiled) {
    let Ok(mut map) = COMPILED.lock() else { return };
    if map.0 < MAX_ENTRIES {
        let steps = reads_steps(&c.conds).then_some(ctx.steps);
        map.0 += 1;
        map.1.entry(line.to_string()).or_default().push((kind, ctx.independent.clone(), steps, c.clone()));
    }
}
