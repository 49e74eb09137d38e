//! Rendering a derivation: expressions as text ([`text`]), the whole report as text ([`report`]) or JSON
//! ([`json`]), and numbers ([`values`]). Rendering never changes an expression.
pub mod check;
pub mod json;
pub mod latex;
pub mod matrix;
pub mod report;
pub mod text;
pub mod values;
