//! Rules as data: the ordered list of rule, model and plan files (embedded in the binary, or read from
//! `--rules DIR`), their loading with every error reported at once, and the loaded rule set.
pub mod apply;
mod cache;
pub mod parse;
pub mod regroup;
mod collect;
mod template;
pub mod rhs;

use crate::diag::{Diag, Diags};
use crate::error::{Error, Result};
use crate::lang::{Expr, Rw};
use crate::sexp::Src;
use apply::{Cond, Ctx};
pub use template::{TAGS, Template};
use egg::PatternAst;
use parse::{Rhs, build_rewrite, parse_rule};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Every file the tool reads, in load order: (path relative to the rules folder, embedded text).
/// The mistake catalogue's file name in the rules folder (`bptt check` reads it; never used to derive).
pub const CATALOGUE: &str = "mistakes.catalogue";

pub const MANIFEST: &[(&str, &str)] = &[
    ("calculus.rules", include_str!("../../rules/calculus.rules")),
    ("algebra.rules", include_str!("../../rules/algebra.rules")),
    ("index.rules", include_str!("../../rules/index.rules")),
    ("time.rules", include_str!("../../rules/time.rules")),
    ("models/rnn.model", include_str!("../../rules/models/rnn.model")),
    ("models/rnn-bias.model", include_str!("../../rules/models/rnn-bias.model")),
    ("models/rnn-backprop.rules", include_str!("../../rules/models/rnn-backprop.rules")),
    ("plans/W_r.plan", include_str!("../../rules/plans/W_r.plan")),
    ("plans/W_x.plan", include_str!("../../rules/plans/W_x.plan")),
    ("plans/W_y.plan", include_str!("../../rules/plans/W_y.plan")),
    ("plans/s0.plan", include_str!("../../rules/plans/s0.plan")),
    ("plans/b.plan", include_str!("../../rules/plans/b.plan")),
    ("plans/c.plan", include_str!("../../rules/plans/c.plan")),
    ("plans/m2m/W_r.plan", include_str!("../../rules/plans/m2m/W_r.plan")),
    ("plans/m2m/W_x.plan", include_str!("../../rules/plans/m2m/W_x.plan")),
    ("plans/m2m/W_y.plan", include_str!("../../rules/plans/m2m/W_y.plan")),
    ("plans/m2m/s0.plan", include_str!("../../rules/plans/m2m/s0.plan")),
    ("plans/m2m/b.plan", include_str!("../../rules/plans/m2m/b.plan")),
    ("plans/m2m/c.plan", include_str!("../../rules/plans/m2m/c.plan")),
    ("models/lstm.model", include_str!("../../rules/models/lstm.model")),
    ("models/lstm-bias.model", include_str!("../../rules/models/lstm-bias.model")),
    ("models/lstm-backprop.rules", include_str!("../../rules/models/lstm-backprop.rules")),
    ("plans/lstm/W_fr.plan", include_str!("../../rules/plans/lstm/W_fr.plan")),
    ("plans/lstm/W_fx.plan", include_str!("../../rules/plans/lstm/W_fx.plan")),
    ("plans/lstm/W_gr.plan", include_str!("../../rules/plans/lstm/W_gr.plan")),
    ("plans/lstm/W_gx.plan", include_str!("../../rules/plans/lstm/W_gx.plan")),
    ("plans/lstm/W_ir.plan", include_str!("../../rules/plans/lstm/W_ir.plan")),
    ("plans/lstm/W_ix.plan", include_str!("../../rules/plans/lstm/W_ix.plan")),
    ("plans/lstm/W_or.plan", include_str!("../../rules/plans/lstm/W_or.plan")),
    ("plans/lstm/W_ox.plan", include_str!("../../rules/plans/lstm/W_ox.plan")),
    ("plans/lstm/W_y.plan", include_str!("../../rules/plans/lstm/W_y.plan")),
    ("plans/lstm/b_f.plan", include_str!("../../rules/plans/lstm/b_f.plan")),
    ("plans/lstm/b_g.plan", include_str!("../../rules/plans/lstm/b_g.plan")),
    ("plans/lstm/b_i.plan", include_str!("../../rules/plans/lstm/b_i.plan")),
    ("plans/lstm/b_o.plan", include_str!("../../rules/plans/lstm/b_o.plan")),
    ("plans/lstm/b_y.plan", include_str!("../../rules/plans/lstm/b_y.plan")),
    ("plans/lstm/c0.plan", include_str!("../../rules/plans/lstm/c0.plan")),
    ("plans/lstm/s0.plan", include_str!("../../rules/plans/lstm/s0.plan")),
    ("plans/lstm/m2m/W_fr.plan", include_str!("../../rules/plans/lstm/m2m/W_fr.plan")),
    ("plans/lstm/m2m/W_fx.plan", include_str!("../../rules/plans/lstm/m2m/W_fx.plan")),
    ("plans/lstm/m2m/W_gr.plan", include_str!("../../rules/plans/lstm/m2m/W_gr.plan")),
    ("plans/lstm/m2m/W_gx.plan", include_str!("../../rules/plans/lstm/m2m/W_gx.plan")),
    ("plans/lstm/m2m/W_ir.plan", include_str!("../../rules/plans/lstm/m2m/W_ir.plan")),
    ("plans/lstm/m2m/W_ix.plan", include_str!("../../rules/plans/lstm/m2m/W_ix.plan")),
    ("plans/lstm/m2m/W_or.plan", include_str!("../../rules/plans/lstm/m2m/W_or.plan")),
    ("plans/lstm/m2m/W_ox.plan", include_str!("../../rules/plans/lstm/m2m/W_ox.plan")),
    ("plans/lstm/m2m/W_y.plan", include_str!("../../rules/plans/lstm/m2m/W_y.plan")),
    ("plans/lstm/m2m/b_f.plan", include_str!("../../rules/plans/lstm/m2m/b_f.plan")),
    ("plans/lstm/m2m/b_g.plan", include_str!("../../rules/plans/lstm/m2m/b_g.plan")),
    ("plans/lstm/m2m/b_i.plan", include_str!("../../rules/plans/lstm/m2m/b_i.plan")),
    ("plans/lstm/m2m/b_o.plan", include_str!("../../rules/plans/lstm/m2m/b_o.plan")),
    ("plans/lstm/m2m/b_y.plan", include_str!("../../rules/plans/lstm/m2m/b_y.plan")),
    ("plans/lstm/m2m/c0.plan", include_str!("../../rules/plans/lstm/m2m/c0.plan")),
    ("plans/lstm/m2m/s0.plan", include_str!("../../rules/plans/lstm/m2m/s0.plan")),
    ("models/gru.model", include_str!("../../rules/models/gru.model")),
    ("models/gru-bias.model", include_str!("../../rules/models/gru-bias.model")),
    ("models/gru-backprop.rules", include_str!("../../rules/models/gru-backprop.rules")),
    ("plans/gru/W_nr.plan", include_str!("../../rules/plans/gru/W_nr.plan")),
    ("plans/gru/W_nx.plan", include_str!("../../rules/plans/gru/W_nx.plan")),
    ("plans/gru/W_rr.plan", include_str!("../../rules/plans/gru/W_rr.plan")),
    ("plans/gru/W_rx.plan", include_str!("../../rules/plans/gru/W_rx.plan")),
    ("plans/gru/W_y.plan", include_str!("../../rules/plans/gru/W_y.plan")),
    ("plans/gru/W_zr.plan", include_str!("../../rules/plans/gru/W_zr.plan")),
    ("plans/gru/W_zx.plan", include_str!("../../rules/plans/gru/W_zx.plan")),
    ("plans/gru/b_n.plan", include_str!("../../rules/plans/gru/b_n.plan")),
    ("plans/gru/b_r.plan", include_str!("../../rules/plans/gru/b_r.plan")),
    ("plans/gru/b_y.plan", include_str!("../../rules/plans/gru/b_y.plan")),
    ("plans/gru/b_z.plan", include_str!("../../rules/plans/gru/b_z.plan")),
    ("plans/gru/s0.plan", include_str!("../../rules/plans/gru/s0.plan")),
    ("plans/gru/m2m/W_nr.plan", include_str!("../../rules/plans/gru/m2m/W_nr.plan")),
    ("plans/gru/m2m/W_nx.plan", include_str!("../../rules/plans/gru/m2m/W_nx.plan")),
    ("plans/gru/m2m/W_rr.plan", include_str!("../../rules/plans/gru/m2m/W_rr.plan")),
    ("plans/gru/m2m/W_rx.plan", include_str!("../../rules/plans/gru/m2m/W_rx.plan")),
    ("plans/gru/m2m/W_y.plan", include_str!("../../rules/plans/gru/m2m/W_y.plan")),
    ("plans/gru/m2m/W_zr.plan", include_str!("../../rules/plans/gru/m2m/W_zr.plan")),
    ("plans/gru/m2m/W_zx.plan", include_str!("../../rules/plans/gru/m2m/W_zx.plan")),
    ("plans/gru/m2m/b_n.plan", include_str!("../../rules/plans/gru/m2m/b_n.plan")),
    ("plans/gru/m2m/b_r.plan", include_str!("../../rules/plans/gru/m2m/b_r.plan")),
    ("plans/gru/m2m/b_y.plan", include_str!("../../rules/plans/gru/m2m/b_y.plan")),
    ("plans/gru/m2m/b_z.plan", include_str!("../../rules/plans/gru/m2m/b_z.plan")),
    ("plans/gru/m2m/s0.plan", include_str!("../../rules/plans/gru/m2m/s0.plan")),
    ("mistakes.catalogue", include_str!("../../rules/mistakes.catalogue")),
];

/// The source files after template expansion: `{act}`, `{T}`, `{T-1}`, `{Tsup}` and `{out}` are replaced.
#[derive(Clone)]
pub struct Sources {
    pub files: Vec<(String, Arc<str>)>,
}

impl Sources {
    /// The embedded files, or the same file names read from `dir`.
    pub fn load(dir: Option<&Path>, t: &Template) -> Result<Sources> {
        Sources::load_only(dir, t, |_| true)
    }

    /// The files whose manifest name passes `keep` (the sizes probe needs only the model file); from a rules
    /// folder also its own models, model rule files and plans ([`extra_names`]).
    pub fn load_only(dir: Option<&Path>, t: &Template, keep: impl Fn(&str) -> bool) -> Result<Sources> {
        let mut files = vec![];
        let extra = match dir {
            Some(d) => extra_names(d)?,
            None => vec![],
        };
        let all = MANIFEST.iter().map(|(n, t)| (n.to_string(), Some(*t))).chain(extra.into_iter().map(|n| (n, None)));
        for (name, text) in all.filter(|(n, _)| keep(n)) {
            let name = name.as_str();
            let raw = match (dir, text) {
                (None, Some(text)) => {
                    files.push((format!("rules/{name}"), cache::expanded(text, t)));
                    continue;
                }
                (None, None) => continue,
                (Some(d), _) => {
                    let p = d.join(name);
                    let mut f = std::fs::File::open(&p).map_err(|e| Error::Io {
                        path: p.display().to_string(),
                        reason: format!("{e} (a rules folder must hold every file of the built-in set: {})", MANIFEST.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")),
                    })?;
                    let bytes = crate::limits::read_capped(&mut f, &p.display().to_string())?;
                    String::from_utf8(bytes).map_err(|_| Error::Io { path: p.display().to_string(), reason: "the file is not UTF-8 text".into() })?
                }
            };
            let shown = match dir {
                None => format!("rules/{name}"),
                Some(d) => d.join(name).display().to_string(),
            };
            files.push((shown, cache::expanded(&raw, t)));
        }
        Ok(Sources { files })
    }

    /// The names of every file a run may read: the built-in set and, from a rules folder, its own files.
    pub fn names(dir: Option<&Path>) -> Result<Vec<String>> {
        let mut out: Vec<String> = MANIFEST.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(d) = dir {
            out.extend(extra_names(d)?);
        }
        Ok(out)
    }

    pub fn get(&self, suffix: &str) -> Option<(&str, &Arc<str>)> {
        self.files.iter().find(|(n, _)| n.ends_with(suffix)).map(|(n, t)| (n.as_str(), t))
    }
}

/// The most files a rules folder may add to the built-in set.
const MAX_EXTRA_FILES: usize = 1000;

/// A rules folder's own files beyond the built-in set, by name relative to it, sorted: `models/*.model`,
/// `models/*.rules` (read only with a model that names them) and `plans/**/*.plan` (a model's plans are in
/// `plans/NAME/`). A new cell is these files and nothing else.
pub fn extra_names(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, rel: &str, depth: usize, out: &mut Vec<String>) -> Result<()> {
        let path = root.join(rel);
        let Ok(entries) = std::fs::read_dir(&path) else { return Ok(()) };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let r = format!("{rel}/{name}");
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let wanted = match rel.split('/').next() {
                Some("models") => !is_dir && (name.ends_with(".model") || name.ends_with(".rules")),
                _ => !is_dir && name.ends_with(".plan"),
            };
            if is_dir && rel.starts_with("plans") && depth < 2 {
                walk(root, &r, depth + 1, out)?;
            } else if wanted && !MANIFEST.iter().any(|(m, _)| *m == r) {
                out.push(r);
            }
            if out.len() > MAX_EXTRA_FILES {
                return Err(Error::Usage(format!("{}: more than {MAX_EXTRA_FILES} model, rule and plan files", root.display())));
            }
        }
        Ok(())
    }
    let mut out = vec![];
    walk(dir, "models", 0, &mut out)?;
    walk(dir, "plans", 0, &mut out)?;
    out.sort();
    Ok(out)
}

/// One line of a source file.
pub enum Line {
    Blank,
    Comment(String),
    Content(Range<usize>),
}

/// The lines of a file with their byte ranges (trailing comments after content are cut off).
pub fn lines(text: &str) -> Vec<(Range<usize>, Line)> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', b).count() + 1);
    let mut start = 0;
    while start < b.len() {
        let next = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i + 1);
        let mut end = next;
        while end > start && matches!(b[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        let s = &text[start..end];
        let t = s.trim();
        let kind = if t.is_empty() {
            Line::Blank
        } else if let Some(c) = t.strip_prefix('#') {
            Line::Comment(c.trim().to_string())
        } else {
            // the first ` #` cuts the line: each `#` after a space
            let content_end = memchr::memchr_iter(b'#', s.as_bytes()).find(|&i| i > 0 && s.as_bytes()[i - 1] == b' ').map_or(end, |i| start + i - 1);
            Line::Content(start..content_end)
        };
        out.push((start..end, kind));
        start = next;
    }
    out
}

/// Whether a rule came from a rule file or from a model definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Rule,
    Definition,
}

/// A loaded rule: its name, its math comment, where it was written, and the rewrite egg runs.
pub struct Rule {
    pub name: String,
    pub comment: String,
    /// The comment in Korean (a `# ko: …` line among the comment lines above the rule), for `--lang ko`.
    pub comment_ko: Option<String>,
    pub file: String,
    pub line: usize,
    pub text: String,
    pub lhs: PatternAst<Expr>,
    pub rhs: Rhs,
    pub conds: Vec<Cond>,
    pub kind: Kind,
    pub rewrite: Rw,
}

/// All loaded rules, by name.
pub struct RuleSet {
    /// Shared: the rules of a file read before in this process (the any-T check's sessions) are the same.
    pub rules: Vec<Arc<Rule>>,
    index: rustc_hash::FxHashMap<String, usize>,
    /// Names a fresh Σ index never takes: the model's names (a cell's quantity c is never also a dummy index c).
    pub reserved: std::collections::BTreeSet<egg::Symbol>,
}

impl RuleSet {
    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.index.get(name).map(|i| &*self.rules[*i])
    }

    /// Build the set from rules already read, reporting duplicate names.
    pub fn new(rules: Vec<Arc<Rule>>, diags: &mut Vec<Diag>, sources: &Sources) -> RuleSet {
        let mut index: rustc_hash::FxHashMap<String, usize> = rustc_hash::FxHashMap::default();
        let mut kept: Vec<Arc<Rule>> = vec![];
        for r in rules {
            if let Some(&first) = index.get(&r.name) {
                let f: &Rule = kept[first].as_ref();
                if let Some((_, text)) = sources.files.iter().find(|(n, _)| *n == r.file) {
                    let start = line_start_of(text, r.line);
                    diags.push(
                        Diag::new(&r.file, text, start..start + r.name.len(), format!("duplicate rule name `{}`", r.name))
                            .hint(format!("it is first defined at {}:{}; rule names must be unique", f.file, f.line)),
                    );
                }
                continue;
            }
            index.insert(r.name.clone(), kept.len());
            kept.push(r);
        }
        RuleSet { rules: kept, index, reserved: Default::default() }
    }
}

/// Byte offset of the first non-blank character of a 1-based line.
pub fn line_start_of(text: &str, line: usize) -> usize {
    text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum::<usize>()
        + text.split_inclusive('\n').nth(line.saturating_sub(1)).map(|l| l.len() - l.trim_start().len()).unwrap_or(0)
}

/// 1-based line number of a byte offset.
pub fn line_no(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Read the rules of one `.rules` file (or the definitions of a model file, with `:=`), collecting every error.
/// `skip` says which content lines belong to another reader (model declarations).
pub fn read_rules(
    file: &str,
    text: &Arc<str>,
    ctx: &Arc<Ctx>,
    kind: Kind,
    skip: &dyn Fn(&str) -> bool,
    diags: &mut Vec<Diag>,
) -> Vec<Rule> {
    let src = Src { file, text };
    let mut out = vec![];
    let ls = lines(text);
    match ls.iter().find(|(_, l)| !matches!(l, Line::Blank)) {
        Some((_, Line::Comment(_))) | None => {}
        Some((r, _)) => diags.push(
            src.diag(r.start..r.start, "the file does not start with a header comment")
                .hint("begin with `# …` lines saying what the file covers and what it relies on"),
        ),
    }
    let mut last_comment: Option<String> = None;
    let mut last_ko: Option<String> = None;
    let arrow = if kind == Kind::Definition { ":=" } else { "=>" };
    // line numbers counted as the lines go by: loading stays linear in the file's length
    let (mut counted_to, mut line_at) = (0usize, 1usize);
    for (range, l) in &ls {
        line_at += text[counted_to..range.start.max(counted_to)].matches('\n').count();
        counted_to = range.start.max(counted_to);
        let line = line_at;
        match l {
            Line::Blank => {
                last_comment = None;
                last_ko = None;
            }
            Line::Comment(c) => match c.strip_prefix("ko:") {
                Some(ko) => last_ko = Some(ko.trim().to_string()),
                None => last_comment = Some(c.clone()),
            },
            Line::Content(r) => {
                let content = &text[r.clone()];
                if skip(content.trim()) {
                    last_comment = None;
                    last_ko = None;
                    continue;
                }
                let comment_ko = last_ko.take();
                let rule = |c: cache::Compiled, comment: String| Rule {
                    name: c.name,
                    comment,
                    comment_ko: comment_ko.clone(),
                    file: file.to_string(),
                    line,
                    text: content.trim().to_string(),
                    lhs: c.lhs,
                    rhs: c.rhs,
                    conds: c.conds,
                    kind,
                    rewrite: c.rewrite,
                };
                if last_comment.is_some()
                    && let Some(c) = cache::get(content, kind, ctx)
                {
                    out.push(rule(c, last_comment.take().unwrap_or_default()));
                    continue;
                }
                match parse_rule(&src, r.clone(), arrow) {
                    Err(d) => diags.push(d),
                    Ok(p) => {
                        let Some(comment) = last_comment.take() else {
                            diags.push(src.diag(p.name_span.clone(), format!("rule `{}` has no comment above it", p.name))
                                .hint("put a one-line math comment right above every rule, e.g. `# ∂(a+b)/∂w = ∂a/∂w + ∂b/∂w`"));
                            continue;
                        };
                        let p = if kind == Kind::Definition { parse::definition_to_unfold(p) } else { p };
                        match build_rewrite(&p, ctx) {
                            Ok(rewrite) => {
                                let c = cache::Compiled { name: p.name.clone(), lhs: p.lhs, rhs: p.rhs, conds: p.conds, rewrite };
                                cache::put(content, kind, ctx, &c);
                                out.push(rule(c, comment));
                            }
                            Err(e) => diags.push(src.diag(p.name_span, format!("rule `{}` cannot be built: {e}", p.name))),
                        }
                    }
                }
            }
        }
    }
    out
}

/// The rules of one `.rules` file, as [`read_rules`] reads them; read once per process and context, and shared
/// (the any-T check's sessions load the same files at eight T, and a file without T reads the same each time).
pub fn read_rule_file(file: &str, text: &Arc<str>, ctx: &Arc<Ctx>, diags: &mut Vec<Diag>) -> Vec<Arc<Rule>> {
    cache::rules_of(file, text, ctx, diags, |d| read_rules(file, text, ctx, Kind::Rule, &|_| false, d))
}

/// Fail with every collected diagnostic, if there are any.
pub fn finish(diags: Vec<Diag>) -> Result<()> {
    if diags.is_empty() { Ok(()) } else { Err(Error::Source(Diags(diags))) }
}
