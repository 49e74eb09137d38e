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
        let len = source.len();
        let start = span.start.min(len);
        let end = span.end.clamp(start, len);
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

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = SimpleFile::new(self.file.as_str(), self.source.as_ref());
        let mut d = Diagnostic::error()
            .with_message(&self.message)
            .with_labels(vec![Label::primary((), self.span.clone())]);
        if let Some(h) = &self.hint {
            d = d.with_notes(vec![format!("hint: {h}")]);
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
