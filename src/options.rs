//! What the user chose, as typed values (in the manner of ripgrep's low-level → high-level arguments): the CLI
//! turns its flags into [`Options`]; `Session::load` validates the names in it (the parameter, the sizes)
//! against the model file. Nothing here names a network: sizes are keyed by the word the model file gives them
//! (`dim n_h hidden 3` → `hidden`), the parameter is any name the model declares.
//!
//! Must not know: rules, expressions, the CLI.
use crate::notation::Act;
use std::path::PathBuf;

/// The loss at an output; each is a variant tag of the model files (`[mse]`, `[softmax-ce]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// ½ Σ_m (y[m] − ȳ[m])²
    #[default]
    Mse,
    /// −Σ_m ȳ[m] log softmax(y)[m]
    SoftmaxCe,
}

impl Loss {
    pub const ALL: [Loss; 2] = [Loss::Mse, Loss::SoftmaxCe];

    /// The variant tag in model, rule and plan files, and the word in JSON.
    pub fn tag(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SoftmaxCe => "softmax-ce",
        }
    }

    /// In words, for a title.
    pub fn words(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SoftmaxCe => "softmax cross-entropy",
        }
    }

    pub fn named(tag: &str) -> Option<Loss> {
        Loss::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// The language of what a person reads: titles, report words, verdicts, diagnoses. The mathematics is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    /// Korean, the blog's language (titles from the plans' `ko` lines, diagnoses from the catalogue's `# ko:`).
    Ko,
}

impl Lang {
    /// The language's code for HTML's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// `title` in this language: the Korean one when there is one.
    pub fn pick<'a>(self, en: &'a str, ko: Option<&'a str>) -> &'a str {
        match (self, ko) {
            (Lang::Ko, Some(k)) => k,
            _ => en,
        }
    }
}

/// The options of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The model file (`rules/models/NAME.model`); `None`: the first model of the rule set.
    pub model: Option<String>,
    pub steps: Option<usize>,
    /// Sizes by the word the model file gives each (`hidden` → 64); a size not given takes the model's default.
    pub sizes: Vec<(String, usize)>,
    pub activation: Act,
    /// The parameter to differentiate against; `None`: the model's first parameter.
    pub wrt: Option<String>,
    pub seed: u64,
    /// A params file: its name and text (shared: options are copied for every session of a run, and the text
    /// can be megabytes; an `Arc<String>` takes the text as read, where an `Arc<str>` would copy it).
    pub params: Option<(String, std::sync::Arc<String>)>,
    pub rules_dir: Option<PathBuf>,
    /// The model with biases (its `-bias` model file).
    pub bias: bool,
    /// A loss at every step, summed over t (else only at the last step).
    pub many_to_many: bool,
    pub loss: Loss,
}

impl Default for Options {
    fn default() -> Self {
        Options { model: None, steps: None, sizes: vec![], activation: Act::FIRST, wrt: None, seed: 1, params: None, rules_dir: None, bias: false, many_to_many: false, loss: Loss::Mse }
    }
}

impl Options {
    /// These options with the size called `word` set to `n`.
    pub fn size(mut self, word: &str, n: usize) -> Options {
        self.sizes.retain(|(w, _)| w != word);
        self.sizes.push((word.to_string(), n));
        self
    }

    /// The size given for `word`, if any.
    pub fn size_of(&self, word: &str) -> Option<usize> {
        self.sizes.iter().find(|(w, _)| w == word).map(|(_, n)| *n)
    }

    /// These options differentiating against `wrt`.
    pub fn wrt(mut self, wrt: &str) -> Options {
        self.wrt = Some(wrt.to_string());
        self
    }

    /// The variant tags that hold (`m2o` or `m2m`, the loss, and `bias`).
    pub fn tags(&self) -> Vec<String> {
        let shape = if self.many_to_many { "m2m" } else { "m2o" };
        let mut tags = vec![shape.to_string(), self.loss.tag().to_string()];
        if self.bias {
            tags.push("bias".into());
        }
        tags
    }

    /// The model in words, for headers: "many-to-one RNN with biases, softmax-ce loss".
    pub fn describe(&self, cell: &str) -> String {
        self.words(cell, self.bias, self.loss.tag())
    }

    /// The model in words for a title: biases left to the facts line, the loss spelled out.
    pub fn title_words(&self, cell: &str) -> String {
        self.words(cell, false, self.loss.words())
    }

    /// `cell`: what the model file calls the network (`cell LSTM`; RNN when it does not say).
    fn words(&self, cell: &str, bias: bool, loss: &str) -> String {
        format!(
            "{} {cell}{}{}",
            if self.many_to_many { "many-to-many" } else { "many-to-one" },
            if bias { " with biases" } else { "" },
            if self.loss == Loss::Mse { String::new() } else { format!(", {loss} loss") }
        )
    }
}
