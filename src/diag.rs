//! Errors that point into a source (a rule file, a model file, a plan, a params file, a formula): position,
//! the quoted line with a caret, and a hint, rendered with codespan-reporting.
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config, termcolor::NoColor};
use std::fmt;
use std::sync::Arc;

/// One problem at one place in a named source text.
#[derive(Debug, Clone)]
pub struct Diag {
    /// The file name as shown to the user (e.g. `rules/calculus.rules`).
    pub file: String,
    /// The whole source text, so the message can quote the line.
    pub source: Arc<str>,
    /// Byte range of the offending text.
    pub span: std::ops::Range<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diag {
    pub fn new(file: &str, source: &Arc<str>, span: std::ops::Range<usize>, message: impl Into<String>) -> Self {
        // a span that cuts a character (a caller's arithmetic gone wrong) widens to whole characters: a
        // diagnostic never panics
        let len = source.len();
        let mut start = span.start.min(len);
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, len);
        while !source.is_char_boundary(end) {
            end += 1;
        }
        Diag { file: file.to_string(), source: source.clone(), span: start..end, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        let before = &self.source[..self.span.start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }
}

/// A character that would print invisibly (NUL and other controls, a byte-order mark, zero-width and
/// direction marks), written out instead: `<U+200B>`.
fn invisible(c: char) -> Option<String> {
    let hidden = (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}');
    hidden.then(|| format!("<U+{:04X}>", c as u32))
}

/// `text` with every invisible character written out.
pub fn visible(text: &str) -> String {
    text.chars().map(|c| invisible(c).unwrap_or_else(|| c.to_string())).collect()
}

/// Characters of a line shown around the error's column when the line is long.
const WINDOW: usize = 60;

impl Diag {
    /// The text and span to show: the error's line with invisible characters written out, and cut to a window
    /// around the column when it is long (a 400 kB line is not echoed whole). Other lines are kept, so line
    /// numbers stay right.
    fn shown(&self) -> (String, std::ops::Range<usize>) {
        let src: &str = &self.source;
        let line_start = src[..self.span.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = src[self.span.start..].find('\n').map(|i| self.span.start + i).unwrap_or(src.len());
        let line = &src[line_start..line_end];
        let col = src[line_start..self.span.start].chars().count();
        let total = line.chars().count();
        let (from, to) = if total > 2 * WINDOW + 20 { (col.saturating_sub(WINDOW), (col + WINDOW).min(total)) } else { (0, total) };
        let mut out = String::with_capacity(line_end - line_start + 16);
        let (mut start, mut end) = (None, None);
        if from > 0 {
            out.push('…');
        }
        for (k, (b, c)) in line.char_indices().enumerate() {
            let at = line_start + b;
            if at == self.span.start {
                start = Some(out.len());
            }
            if at == self.span.end && end.is_none() {
                end = Some(out.len());
            }
            if k < from || k >= to {
                continue;
            }
            match invisible(c) {
                Some(v) => out.push_str(&v),
                None => out.push(c),
            }
        }
        let start = start.unwrap_or(out.len());
        let end = end.unwrap_or(out.len()).max(start);
        if to < total {
            out.push('…');
        }
        let shown = format!("{}{}{}", &src[..line_start], out, &src[line_end..]);
        (shown, line_start + start..line_start + end)
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, span) = self.shown();
        let file = SimpleFile::new(self.file.as_str(), text.as_str());
        let mut d = Diagnostic::error()
            .with_message(visible(&self.message))
            .with_labels(vec![Label::primary((), span.clone())]);
        let mut notes = vec![];
        if let Some(h) = &self.hint {
            notes.push(format!("hint: {h}"));
        }
        let (line, col) = self.line_col();
        let (_, shown_col) = (Diag { source: Arc::from(text.as_str()), span: span.clone(), ..self.clone() }).line_col();
        if shown_col != col {
            notes.push(format!("the line is long: shown around line {line}, column {col}"));
        }
        if !notes.is_empty() {
            d = d.with_notes(notes);
        }
        let mut out = NoColor::new(Vec::new());
        match term::emit(&mut out, &Config::default(), &file, &d) {
            Ok(()) => f.write_str(String::from_utf8_lossy(&out.into_inner()).trim_end()),
            Err(_) => {
                let (l, c) = self.line_col();
                write!(f, "error: {}\n  at {}:{}:{}", self.message, self.file, l, c)
            }
        }
    }
}

/// Several diagnostics reported together (a rule file reports every error, not only the first).
#[derive(Debug, Clone)]
pub struct Diags(pub Vec<Diag>);

impl fmt::Display for Diags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} errors", self.0.len())?;
        }
        Ok(())
    }
}
