//! The notation layer, below everything: how numbers and superscripts are written, and the one table of
//! activations. An activation is a row of [`ACTIVATIONS`] (its node name, its numbers, its spellings) plus its
//! chain rule in `rules/calculus.rules`; no other Rust code names one.
//!
//! Must not know: expressions, models, rules, or any network.
pub mod fast;

/// One activation function σ: the name of its node (`(tanh a)`) and of its derivative's (`(dtanh a)`), its
/// value, first and second derivative, and how it is written.
pub struct Activation {
    /// The node's name in rule files and s-expressions, and the value of `--activation`.
    pub name: &'static str,
    /// The node's name of the derivative σ′.
    pub prime: &'static str,
    /// σ(x), σ′(x), σ″(x).
    pub f: fn(f64) -> f64,
    pub df: fn(f64) -> f64,
    pub ddf: fn(f64) -> f64,
    /// σ′ from the value y = σ(x), where it has such a form (tanh′ = 1 − y², the logistic σ′ = y(1 − y)): the
    /// same numbers as `df` (the same operations on the same y), so the fast evaluator can reuse σ(x) for σ′(x).
    pub df_of_value: Option<fn(f64) -> f64>,
    /// σ over a whole array at once, where a faster form exists ([`fast`]): within 2 ulp of `f`, for the fast
    /// evaluator only (the evaluator that checks every step uses `f`).
    pub f_many: Option<ManyFn>,
    /// As printed: Unicode text, ASCII text, LaTeX.
    pub unicode: &'static str,
    pub ascii: &'static str,
    pub latex: &'static str,
    /// Other words the formula readers accept for it (besides `name`, `unicode` and `ascii`); LaTeX commands
    /// are written without the backslash.
    pub aliases: &'static [&'static str],
}

/// σ over a whole array: the inputs, and the outputs (cleared, then one per input).
pub type ManyFn = fn(&[f64], &mut Vec<f64>);

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Every activation the tool knows, in the order `--help` lists them. Adding one is a row here and its chain
/// rule `d-NAME` in `rules/calculus.rules` (see ARCHITECTURE.md).
pub const ACTIVATIONS: &[Activation] = &[
    Activation {
        name: "tanh",
        prime: "dtanh",
        f: f64::tanh,
        df: |x| 1.0 - x.tanh().powi(2),
        ddf: |x| {
            let t = x.tanh();
            -2.0 * t * (1.0 - t * t)
        },
        df_of_value: Some(|y| 1.0 - y.powi(2)),
        f_many: Some(fast::tanh_into),
        unicode: "tanh",
        ascii: "tanh",
        latex: "\\tanh",
        aliases: &["tanh"],
    },
    Activation {
        name: "sigmoid",
        prime: "dsigmoid",
        f: sigmoid,
        df: |x| {
            let s = sigmoid(x);
            s * (1.0 - s)
        },
        ddf: |x| {
            let s = sigmoid(x);
            s * (1.0 - s) * (1.0 - 2.0 * s)
        },
        df_of_value: Some(|s| s * (1.0 - s)),
        f_many: None,
        unicode: "σ",
        ascii: "sigmoid",
        latex: "\\sigma",
        aliases: &["sigma", "σ"],
    },
    Activation {
        name: "relu",
        prime: "drelu",
        f: |x| x.max(0.0),
        df: |x| if x > 0.0 { 1.0 } else { 0.0 },
        ddf: |_| 0.0,
        df_of_value: None,
        f_many: None,
        unicode: "relu",
        ascii: "relu",
        latex: "\\mathrm{relu}",
        aliases: &["relu"],
    },
    Activation {
        name: "identity",
        prime: "didentity",
        f: |x| x,
        df: |_| 1.0,
        ddf: |_| 0.0,
        df_of_value: None,
        f_many: None,
        unicode: "id",
        ascii: "id",
        latex: "\\mathrm{id}",
        aliases: &["id"],
    },
    // the fifth row: all that adding an activation takes, with `d-softplus` in rules/calculus.rules
    Activation {
        name: "softplus",
        prime: "dsoftplus",
        // log(1 + eˣ), computed without overflow for large x
        f: |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
        df: sigmoid,
        ddf: |x| {
            let s = sigmoid(x);
            s * (1.0 - s)
        },
        df_of_value: None,
        f_many: None,
        unicode: "softplus",
        ascii: "softplus",
        latex: "\\mathrm{softplus}",
        aliases: &[],
    },
];

/// An activation, as its row in [`ACTIVATIONS`]; nodes carry this (one byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Act(u8);

impl Act {
    /// The first row of the table (the blog's σ = tanh, and the default).
    pub const FIRST: Act = Act(0);
    /// The activation called `name` (its node name, or a word a reader accepts for it).
    pub fn named(name: &str) -> Option<Act> {
        ACTIVATIONS
            .iter()
            .position(|a| a.name == name || a.unicode == name || a.ascii == name || a.aliases.contains(&name))
            .map(|i| Act(i as u8))
    }
    /// The activation whose node is called `op` (`tanh`) or whose derivative's is (`dtanh`): (act, is σ′).
    pub fn of_op(op: &str) -> Option<(Act, bool)> {
        ACTIVATIONS.iter().enumerate().find_map(|(i, a)| {
            if a.name == op {
                Some((Act(i as u8), false))
            } else if a.prime == op {
                Some((Act(i as u8), true))
            } else {
                None
            }
        })
    }
    /// What σ means when no model says: the row written σ (the logistic sigmoid).
    pub fn sigma() -> Act {
        Act(ACTIVATIONS.iter().position(|a| a.unicode == "σ").unwrap_or(0) as u8)
    }
    pub fn row(self) -> &'static Activation {
        &ACTIVATIONS[self.0 as usize]
    }
    pub fn name(self) -> &'static str {
        self.row().name
    }
    /// Every activation, in table order.
    pub fn all() -> impl Iterator<Item = Act> {
        (0..ACTIVATIONS.len()).map(|i| Act(i as u8))
    }
    /// σ(x), σ′(x), σ″(x).
    pub fn eval(self, x: f64) -> (f64, f64, f64) {
        let r = self.row();
        ((r.f)(x), (r.df)(x), (r.ddf)(x))
    }
}

impl std::fmt::Display for Act {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of every activation, for error messages: `tanh, sigmoid, relu, identity`.
pub fn activation_names() -> String {
    ACTIVATIONS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

/// A superscript character for `c` (digits, signs, lower-case letters, T, parentheses), or `c` itself.
pub fn sup_char(c: char) -> char {
    match c {
        '0' => '⁰', '1' => '¹', '2' => '²', '3' => '³', '4' => '⁴', '5' => '⁵', '6' => '⁶', '7' => '⁷', '8' => '⁸',
        '9' => '⁹', '+' => '⁺', '-' => '⁻', 'a' => 'ᵃ', 'b' => 'ᵇ', 'c' => 'ᶜ', 'd' => 'ᵈ', 'e' => 'ᵉ', 'f' => 'ᶠ',
        'g' => 'ᵍ', 'h' => 'ʰ', 'i' => 'ⁱ', 'j' => 'ʲ', 'k' => 'ᵏ', 'l' => 'ˡ', 'm' => 'ᵐ', 'n' => 'ⁿ', 'o' => 'ᵒ',
        'p' => 'ᵖ', 'r' => 'ʳ', 's' => 'ˢ', 't' => 'ᵗ', 'u' => 'ᵘ', 'v' => 'ᵛ', 'w' => 'ʷ', 'x' => 'ˣ', 'y' => 'ʸ',
        'z' => 'ᶻ', 'T' => 'ᵀ', '(' => '⁽', ')' => '⁾',
        c => c,
    }
}

/// A string in superscript characters (`12` → `¹²`).
pub fn superscript(s: &str) -> String {
    s.chars().map(sup_char).collect()
}

/// A number as expressions print it: integers without a decimal point.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// The range of a recursion over time steps, as it runs: `k = 1`, `k = 2 down to 1` (the recursion goes back in
/// time; read forward, not as a list that seems to reach past T).
pub fn k_range(k: &str, lo: i64, hi: i64) -> String {
    if lo == hi { format!("{k} = {lo}") } else { format!("{k} = {hi} down to {lo}") }
}

/// Letters with a bar or a hat, as one character: a name `ybar` is shown ȳ and `yhat` ŷ (any letter that has
/// such a character; the model file's names follow this convention, and the readers read both spellings).
const ACCENTED: &[(char, &str, char)] = &[
    ('a', "bar", 'ā'), ('e', "bar", 'ē'), ('i', "bar", 'ī'), ('o', "bar", 'ō'), ('u', "bar", 'ū'), ('y', "bar", 'ȳ'),
    ('a', "hat", 'â'), ('c', "hat", 'ĉ'), ('e', "hat", 'ê'), ('g', "hat", 'ĝ'), ('h', "hat", 'ĥ'), ('i', "hat", 'î'),
    ('j', "hat", 'ĵ'), ('o', "hat", 'ô'), ('s', "hat", 'ŝ'), ('u', "hat", 'û'), ('w', "hat", 'ŵ'), ('y', "hat", 'ŷ'),
    ('z', "hat", 'ẑ'),
];

/// `ybar` → (`y`, `bar`, `ȳ`): a one-letter name with an accent word, and its one-character form.
pub fn accented(name: &str) -> Option<(char, &'static str, char)> {
    let mut cs = name.chars();
    let base = cs.next()?;
    let rest = cs.as_str();
    ACCENTED.iter().find(|(b, w, _)| *b == base && *w == rest).copied()
}

/// `ȳ` → `ybar`: the name an accented character stands for.
pub fn unaccented(c: char) -> Option<String> {
    ACCENTED.iter().find(|(_, _, a)| *a == c).map(|(b, w, _)| format!("{b}{w}"))
}

/// `word` for one, `word` + s otherwise: `1 line`, `2 lines`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}
