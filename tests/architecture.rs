//! The code's shape, checked: the top-level modules form layers without cycles, only the CLI imports the
//! renderers, and no Rust string literal outside the activation table names a network's parameter, quantity,
//! size or activation (those live in `rules/models/*.model` and `src/notation.rs`).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source with comments removed, and string literals returned separately (each with its line).
struct Lexed {
    code: String,
    /// (line, text); strings inside attributes (`#[arg(value_name = "T")]`: help text) are left out.
    strings: Vec<(usize, String)>,
}

fn lex(src: &str) -> Lexed {
    let b: Vec<char> = src.chars().collect();
    let (mut code, mut strings, mut i, mut line) = (String::new(), vec![], 0, 1);
    // inside an attribute: the bracket depth at which it closes
    let (mut attr, mut depth) = (None::<usize>, 0usize);
    let keep = |strings: &mut Vec<(usize, String)>, at: usize, s: String, attr: Option<usize>| {
        if attr.is_none() {
            strings.push((at, s));
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '#' && (next == Some('[') || (next == Some('!') && b.get(i + 2) == Some(&'['))) && attr.is_none() {
            attr = Some(depth);
        }
        if c == '[' {
            depth += 1;
        } else if c == ']' {
            depth = depth.saturating_sub(1);
            if attr == Some(depth) {
                attr = None;
            }
        }
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                line += (b[i] == '\n') as usize;
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !b.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_') {
            // a raw string r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                code.push(c);
                i += 1;
                continue;
            }
            let (start, at) = (j + 1, line);
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    break;
                }
                line += (b[j] == '\n') as usize;
                j += 1;
            }
            keep(&mut strings, at, b[start..j.min(b.len())].iter().collect(), attr);
            code.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c == '"' {
            let (mut j, at, mut s) = (i + 1, line, String::new());
            while j < b.len() && b[j] != '"' {
                if b[j] == '\\' {
                    s.push(b[j]);
                    j += 1;
                }
                if j < b.len() {
                    line += (b[j] == '\n') as usize;
                    s.push(b[j]);
                }
                j += 1;
            }
            keep(&mut strings, at, s, attr);
            code.push_str("\"\"");
            i = j + 1;
        } else if c == '\'' {
            // a char literal ('x', '\n', '\u{1F600}') or a lifetime ('a)
            let close = if next == Some('\\') { (i + 2..b.len().min(i + 12)).find(|&j| b[j] == '\'') } else if b.get(i + 2) == Some(&'\'') { Some(i + 2) } else { None };
            match close {
                Some(j) => {
                    code.push_str("' '");
                    i = j + 1;
                }
                None => {
                    code.push(c);
                    i += 1;
                }
            }
        } else {
            line += (c == '\n') as usize;
            code.push(c);
            i += 1;
        }
    }
    Lexed { code, strings }
}

/// The code before the first `#[cfg(test)]` (unit tests are not part of the layering).
fn without_tests(code: &str) -> &str {
    code.find("#[cfg(test)]").map(|i| &code[..i]).unwrap_or(code)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/render/text.rs` → `render`; `src/lib.rs` and `src/main.rs` are the crate itself.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_string();
    (first != "lib" && first != "main").then_some(first)
}

/// The imports `crate::X` between top-level modules, with the files they occur in.
fn import_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in &files {
        let Some(from) = top_module(&src, f) else { continue };
        let lexed = lex(&std::fs::read_to_string(f).unwrap());
        let code = without_tests(&lexed.code);
        let mut targets = vec![];
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + 7..];
            if let Some(group) = rest.strip_prefix('{') {
                // use crate::{a::b, c}: every first segment in the group
                let end = group.find('}').unwrap_or(group.len());
                targets.extend(group[..end].split(',').map(|p| p.trim().split("::").next().unwrap_or("").trim().to_string()));
            } else {
                targets.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
            }
        }
        for t in targets {
            if modules.contains(&t) && t != from {
                graph.entry(from.clone()).or_default().entry(t).or_default().insert(f.strip_prefix(&src).unwrap().display().to_string());
            }
        }
        graph.entry(from).or_default();
    }
    graph
}

#[test]
fn the_top_level_modules_form_layers_without_a_cycle() {
    let graph = import_graph();
    // Kahn's algorithm: repeatedly take the modules that import nothing left; what remains lies on a cycle.
    let mut left: BTreeMap<&String, BTreeSet<&String>> = graph.iter().map(|(m, to)| (m, to.keys().collect())).collect();
    let mut order = vec![];
    loop {
        let free: Vec<&String> = left.iter().filter(|(_, to)| to.is_empty()).map(|(m, _)| *m).collect();
        if free.is_empty() {
            break;
        }
        for m in &free {
            left.remove(m);
        }
        for to in left.values_mut() {
            for m in &free {
                to.remove(m);
            }
        }
        order.push(free);
    }
    let on_cycle: Vec<String> = left
        .iter()
        .map(|(m, to)| format!("{m} imports {}", to.iter().map(|t| format!("{t} (in {})", graph[*m][*t].iter().cloned().collect::<Vec<_>>().join(", "))).collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(on_cycle.is_empty(), "modules on an import cycle:\n{}", on_cycle.join("\n"));
    // the bottom and the top, as ARCHITECTURE.md draws them
    assert!(order[0].iter().any(|m| *m == "notation"), "the notation layer imports nothing: {:?}", order[0]);
    assert_eq!(order.last().unwrap().iter().map(|m| m.as_str()).collect::<Vec<_>>(), ["cli"], "the CLI is the one module on top");
    assert!(graph.len() >= 20, "the graph was read: {graph:?}");
}

/// The layers of ARCHITECTURE.md, bottom to top: a module imports only modules of its own layer or below.
const LAYERS: &[&[&str]] = &[
    &["notation", "diag", "error", "limits", "exact"],
    &["lang", "print", "sexp"],
    &["rules", "model", "plan", "options"],
    &["params", "session"],
    &["stepper", "derive"],
    &["eval", "dense", "matrix", "verify", "closed", "soundness"],
    &["read", "check"],
    &["pipeline"],
    &["render", "plot"],
    &["cli"],
];

#[test]
fn every_import_goes_down_the_layers() {
    let graph = import_graph();
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let mut up = vec![];
    for (from, to) in &graph {
        let Some(lf) = layer(from) else { panic!("module {from} is in no layer of ARCHITECTURE.md (add it to LAYERS)") };
        for (t, files) in to {
            let lt = layer(t).unwrap_or_else(|| panic!("module {t} is in no layer"));
            if lt > lf {
                up.push(format!("{from} (layer {lf}) imports {t} (layer {lt}) in {}", files.iter().cloned().collect::<Vec<_>>().join(", ")));
            }
        }
    }
    assert!(up.is_empty(), "imports that go up a layer:\n{}", up.join("\n"));
}

#[test]
fn only_the_cli_imports_the_renderers() {
    let graph = import_graph();
    let importers: Vec<String> = graph
        .iter()
        .filter(|(m, to)| *m != "cli" && to.contains_key("render"))
        .map(|(m, to)| format!("{m} ({})", to["render"].iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(importers.is_empty(), "only the CLI may import `render`; also: {importers:?}");
    assert!(graph["cli"].contains_key("render"), "the CLI prints through the renderers");
}

/// Every name a model file declares: sizes (symbol and the word for its flag), parameters, data, quantities, the
/// loss and the step count.
fn model_names() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/models");
    let mut names = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "model") {
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            // a variant prefix [m2o mse] is not part of the declaration
            let line = line.trim_start();
            let line = if line.starts_with('[') { line.split_once(']').map(|x| x.1).unwrap_or(line) } else { line };
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["dim", sym, word, ..] => names.extend([sym.to_string(), word.to_string()]),
                ["param" | "data" | "quantity" | "loss" | "steps", name, ..] => {
                    names.insert(name.to_string());
                }
                _ => {}
            }
        }
    }
    names
}

#[test]
fn no_rust_string_literal_names_the_network() {
    let names = model_names();
    for must in ["W_r", "s0", "h", "L", "T", "n_h", "hidden", "ybar"] {
        assert!(names.contains(must), "the model files declare {must}: {names:?}");
    }
    let activations = ["tanh", "sigmoid", "relu", "identity", "softplus"];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut found = vec![];
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        let cut = lex(&text).code.find("#[cfg(test)]").map(|i| text[..i].lines().count()).unwrap_or(usize::MAX);
        for (line, s) in lex(&text).strings {
            if line > cut {
                continue;
            }
            let activation = activations.contains(&s.as_str()) && rel != "notation.rs";
            if names.contains(&s) || activation {
                found.push(format!("src/{rel}:{line}: \"{s}\""));
            }
        }
    }
    assert!(found.is_empty(), "string literals that name the network (they belong in a model file or the activation table):\n{}", found.join("\n"));
}

#[test]
fn the_lexer_sees_strings_and_not_comments() {
    let l = lex("let a = \"W_r\"; // \"T\"\nlet c = '\"'; let r = r#\"x\"#; /* \"L\" */ fn f<'a>() {}\n#[arg(value_name = \"T\", x = [\"a\"])] let v = [\"h\"];");
    assert_eq!(l.strings.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), ["W_r", "x", "h"]);
    assert_eq!(l.strings[1].0, 2);
}

/// The lines of a Rust file as shapes: names, strings, characters and numbers replaced by placeholders; blank
/// lines, comments, imports, lines that only close a block and enum variants (`Num(f64),`) dropped: they declare,
/// they carry no logic of their own.
fn shapes(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = vec![];
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") || t.starts_with("use ") || t.chars().all(|c| "})];,".contains(c)) {
            continue;
        }
        let (mut shape, mut word) = (String::new(), false);
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                // a string: its text does not count
                let mut escaped = false;
                for d in chars.by_ref() {
                    if d == '"' && !escaped {
                        break;
                    }
                    escaped = d == '\\' && !escaped;
                }
                shape.push('S');
                word = false;
            } else if c.is_alphanumeric() || c == '_' {
                if !word {
                    shape.push('I');
                }
                word = true;
            } else {
                shape.push(c);
                word = false;
            }
        }
        if shape == "I(I)," || shape == "I," {
            continue;
        }
        out.push((n + 1, shape));
    }
    out
}

#[test]
fn the_two_formula_readers_share_no_run_of_six_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/read");
    let (a, b) = (shapes(&dir.join("text.rs")), shapes(&dir.join("latex.rs")));
    assert!(a.len() > 100 && b.len() > 100, "the readers were read");
    let mut runs = vec![];
    for i in 0..a.len() {
        for j in 0..b.len() {
            // only maximal runs: the previous lines differ
            if i > 0 && j > 0 && a[i - 1].1 == b[j - 1].1 {
                continue;
            }
            let k = (0..).take_while(|k| i + k < a.len() && j + k < b.len() && a[i + k].1 == b[j + k].1).count();
            if k >= 6 {
                runs.push(format!("text.rs:{}-{} ~ latex.rs:{}-{}", a[i].0, a[i + k - 1].0, b[j].0, b[j + k - 1].0));
            }
        }
    }
    assert!(runs.is_empty(), "the readers repeat each other (move it to src/read/core.rs): {runs:?}");
}

#[test]
fn the_rule_languages_registries_are_what_the_docs_and_bptt_rules_list() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/README.md")).unwrap();
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_bptt")).arg("rules").output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    for c in bptt::rules::apply::CONDITIONS {
        assert!(readme.contains(&format!("`{}", c.name)), "rules/README.md does not document the condition {}", c.name);
        assert!(listed.contains(c.doc), "bptt rules does not list {}", c.name);
    }
    for a in bptt::rules::apply::APPLIERS {
        assert!(readme.contains(&format!("`@{}", a.name)), "rules/README.md does not document @{}", a.name);
        assert!(listed.contains(a.doc), "bptt rules does not list @{}", a.name);
    }
    for a in bptt::notation::ACTIVATIONS {
        assert!(readme.contains(a.name) && readme.contains(a.prime), "rules/README.md does not name the activation {}", a.name);
        assert!(listed.contains(&format!("d-{}", a.name)), "bptt rules does not list d-{}", a.name);
    }
}
