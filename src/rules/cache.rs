//! Compiled rules by their text: reading a rule line (parse, then compile its patterns for egg's matcher) is a
//! pure function of the line, its kind and what the appliers know, so a process reads each line once. The
//! any-T check loads the same files for T = 1..8; only the lines that mention T differ between them.
use super::Kind;
use super::apply::{Cond, Ctx};
use super::parse::Rhs;
use crate::lang::{Expr, Rw};
use egg::{PatternAst, Symbol};
use std::collections::{BTreeSet, HashMap};
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

/// The line, its kind, the independent names, and T when a condition reads it (`before-end`).
type Key = (String, Kind, BTreeSet<Symbol>, Option<usize>);

/// Enough for every shipped and user rule set; past it (e.g. a fuzzer's endless new lines) nothing more is kept.
const MAX_ENTRIES: usize = 20_000;

static COMPILED: LazyLock<Mutex<HashMap<Key, Compiled>>> = LazyLock::new(Default::default);

fn reads_steps(conds: &[Cond]) -> bool {
    conds.iter().any(|c| matches!(c, Cond::BeforeEnd(_)))
}

/// The compiled rule for `line`, if this process compiled it before under the same context.
pub fn get(line: &str, kind: Kind, ctx: &Ctx) -> Option<Compiled> {
    let map = COMPILED.lock().ok()?;
    let key = |steps| (line.to_string(), kind, ctx.independent.clone(), steps);
    map.get(&key(None)).or_else(|| map.get(&key(Some(ctx.steps)))).cloned()
}

/// Remember how `line` compiled.
pub fn put(line: &str, kind: Kind, ctx: &Ctx, c: &Compiled) {
    let Ok(mut map) = COMPILED.lock() else { return };
    if map.len() < MAX_ENTRIES {
        let steps = reads_steps(&c.conds).then_some(ctx.steps);
        map.insert((line.to_string(), kind, ctx.independent.clone(), steps), c.clone());
    }
}
