//! Compiled rules by their text: reading a rule line (parse, then compile its patterns for egg's matcher) is a
//! pure function of the line, its kind and what the appliers know, so a process reads each line once. The
//! any-T check loads the same files for T = 1..8; only the lines that mention T differ between them. Whole
//! files are kept too: a file's expanded text, and a rule file's rules, are the same at every T unless the file
//! mentions T.
use super::{Kind, Rule};
use super::apply::{Cond, Ctx};
use super::parse::Rhs;
use crate::lang::{Expr, Rw};
use egg::{PatternAst, Symbol};
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Mutex};

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

/// Expanded file texts by their raw text: a file without `{T…}` placeholders expands the same at every T, so the
/// any-T check's sessions share one text (and, through [`rules_of`], its rules). Per raw text: the activation,
/// tags, output and T (only where the text reads T) it was expanded with.
type Expansions = Vec<(String, Vec<String>, String, Option<usize>, Arc<str>)>;

/// The most expanded texts and read files kept (a process reads a handful of files at a few T).
const MAX_FILES: usize = 1000;

/// Per raw text, its expansions; with the count of entries kept.
type ExpandedTable = (usize, rustc_hash::FxHashMap<Box<str>, Expansions>);

static EXPANDED: LazyLock<Mutex<ExpandedTable>> = LazyLock::new(Default::default);

/// `raw` expanded by `t` ([`Template::expand`]), shared with every earlier expansion of the same text alike.
pub fn expanded(raw: &str, t: &super::Template) -> Arc<str> {
    let steps = raw.contains("{T").then_some(t.steps);
    let same = |e: &(String, Vec<String>, String, Option<usize>, Arc<str>)| e.0 == t.act && e.1 == t.tags && e.2 == t.out && e.3 == steps;
    if let Ok(map) = EXPANDED.lock()
        && let Some(e) = map.1.get(raw).and_then(|es| es.iter().find(|e| same(e)))
    {
        return e.4.clone();
    }
    let text: Arc<str> = Arc::from(t.expand(raw));
    if let Ok(mut map) = EXPANDED.lock()
        && map.0 < MAX_FILES
    {
        map.0 += 1;
        map.1.entry(raw.into()).or_default().push((t.act.clone(), t.tags.clone(), t.out.clone(), steps, text.clone()));
    }
    text
}

/// A rule file's rules by its name and expanded text: per file, the independent names, T where a rule reads it,
/// and the rules.
type Files = rustc_hash::FxHashMap<(String, Arc<str>), Vec<(BTreeSet<Symbol>, Option<usize>, Arc<[Arc<Rule>]>)>>;

static FILES: LazyLock<Mutex<(usize, Files)>> = LazyLock::new(Default::default);

/// The rules of the rule file `name` with text `text`, read once per process and context: `read` reads them
/// (collecting its errors in `diags`); a file with errors is not kept.
pub fn rules_of(name: &str, text: &Arc<str>, ctx: &Ctx, diags: &mut Vec<super::Diag>, read: impl FnOnce(&mut Vec<super::Diag>) -> Vec<Rule>) -> Vec<Arc<Rule>> {
    let key = (name.to_string(), text.clone());
    if let Ok(map) = FILES.lock()
        && let Some(e) = map.1.get(&key).and_then(|es| es.iter().find(|(ind, steps, _)| *ind == ctx.independent && steps.is_none_or(|t| t == ctx.steps)))
    {
        return e.2.to_vec();
    }
    let before = diags.len();
    let rules: Vec<Arc<Rule>> = read(diags).into_iter().map(Arc::new).collect();
    if diags.len() == before
        && let Ok(mut map) = FILES.lock()
        && map.0 < MAX_FILES
    {
        map.0 += 1;
        let steps = rules.iter().any(|r| reads_steps(&r.conds)).then_some(ctx.steps);
        map.1.entry(key).or_default().push((ctx.independent.clone(), steps, rules.clone().into()));
    }
    rules
}
