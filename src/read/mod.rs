//! Readers for formulas written by people: the text syntax bptt prints, Unicode or ASCII ([`text`]), and the LaTeX
//! subset of study notes ([`latex`]).
pub mod latex;
pub mod text;
