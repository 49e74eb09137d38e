//! Readers for formulas written by people: the LaTeX subset of study notes ([`latex`]).
pub mod latex;
