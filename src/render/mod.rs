//! Rendering for a person: the derive report as text ([`report`]) or JSON ([`json`]), study notes in LaTeX or
//! Markdown ([`latex`]), the check report ([`check`]), and numbers ([`values`]). Only the CLI uses this layer;
//! it displays typed values and never computes or decides. Expressions print through [`crate::print`].
pub mod check;
pub mod json;
pub mod html;
pub mod latex;
pub mod mathml;
pub mod report;
pub mod values;
pub mod words;
pub use crate::matrix;
pub use crate::print as text;
