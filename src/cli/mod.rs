//! The command line: clap arguments → validated options → run → text on stdout/stderr and an exit code
//! (0 ok, 1 a check found a mismatch, 2 error). The only module that prints (with [`check`], its `check` part).
pub mod check;
pub mod grad;
pub mod output;
pub mod plot;
pub mod site;
pub use plot::{PlotArgs, PlotFormat};
use plot::run_plot;
use crate::error::Error;
use crate::render::report::{View, report};
use crate::print::Style;
use crate::session::{Options, Session};
use crate::stepper::Limits;
use crate::notation::Act;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Derive the gradients of a recurrent network step by step, the way a teacher writes them on a board,
/// and check every step with numbers.
#[derive(Parser, Debug)]
#[command(name = "bptt", version, after_help = "Start with:  bptt derive\nMore:        bptt derive --wrt W_x   bptt check --help   bptt grad --help   bptt rules")]
pub struct Cli {
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What `bptt` prints with no arguments.
pub const ORIENTATION: &str = "bptt derives the gradients of a recurrent network step by step, the way the blog does, and checks every step with numbers.\nTry:  bptt derive        (more: bptt --help)\n";

/// Should output to a stream that is (or is not) a terminal be coloured?
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a derivation step by step, each step named and checked numerically (∂L/∂W⁽ʳ⁾: the blog's eqs 4–12)
    #[command(after_help = "Examples:\n  bptt derive                          the blog's default: ∂L/∂W⁽ʳ⁾, T=3, tanh\n  bptt derive --wrt W_x                the blog's second half, eqs 13–23\n  bptt derive --wrt all --steps 5      every parameter, then a summary table\n  bptt derive --steps 5 --activation sigmoid\n  bptt derive --many-to-many           a loss at every step: d2l's recurrence for ∂L/∂h⁽ᵏ⁾\n  bptt derive --model lstm --wrt W_fr  the next chapter: an LSTM's gradient through its cell state (also gru)\n  bptt derive --loss softmax-ce        cross-entropy of softmax(y): the error becomes ŷ − ȳ\n  bptt derive --params fixture.json    your own numbers (sizes come from the file)\n  bptt derive --trace                  every single rule application\n  bptt derive --format json            one JSON object, for scripts\n  bptt derive --format latex -o notes.tex && pdflatex notes.tex\n  bptt derive --format markdown        $$ … $$ blocks for Obsidian, Jupyter, GitHub\n  bptt derive --format html -o page.html   one page for the browser: MathML, offline, prints")]
    Derive(DeriveArgs),
    /// Check a gradient you derived by hand: proved, refuted with a counterexample and a diagnosis, or agreeing
    #[command(after_help = "Examples:\n  bptt check \"sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]\"          proved (the blog's eq 12)\n  bptt check \"sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]\"            refuted: time index off by one\n  bptt check --wrt W_x '\\sum_{k=1}^{T} \\frac{\\partial L}{\\partial h^{(k)}_i} x^{(k)}_q'\n  bptt check --einstein --steps 2 \"dL/dh^(2)[a] delta(a,i) s^(1)[p] + dL/dh^(2)[a] W_r[a,i] tanh'(h^(1)[i]) s^(0)[p]\"\n  bptt check --any-T \"sum_{k=1}^{T} dL/dh^(k)[i] s^(k-1)[p]\"     for every T = 1..8\n  bptt check --steps-file my-derivation.txt                      one expression per line\n  bptt check -f formula.tex --format json\n\nExit codes: 0 proved or agrees, 1 refuted, 2 error.\nThe typical mistakes it recognises are in rules/mistakes.catalogue (bptt check --rules DIR for your own).")]
    Check(check::CheckArgs),
    /// Evaluate the derived gradient at any size (T in the thousands): the closed form and the derived recursion
    #[command(after_help = "Examples:\n  bptt grad                                       ∂L/∂W⁽ʳ⁾ at the default sizes\n  bptt grad --steps 1000 --hidden 64 --input 64   a long sequence, in milliseconds\n  bptt grad --wrt W_x --params mine.json --format json")]
    Grad(grad::GradArgs),
    /// List the loaded rules with their math comments, or check each one at random points
    #[command(after_help = "Examples:\n  bptt rules\n  bptt rules --check                   every rule instantiated at random points, both sides compared\n  bptt rules --rules my-rules/        a modified copy of the rules/ folder")]
    Rules(RulesArgs),
    /// Plot each time step's share of the gradient: vanishing and exploding gradients (SVG or CSV)
    #[command(after_help = "Examples:\n  bptt plot                            W⁽ʳ⁾, T=100, tanh/sigmoid/identity, W⁽ʳ⁾ as drawn → bptt-W_r.svg\n  bptt plot --scale 0.9 -o small.svg   W⁽ʳ⁾ rescaled to spectral radius 0.9 (vanishing)\n  bptt plot --scale 1.5                spectral radius 1.5 (exploding for identity)\n  bptt plot --format csv               the numbers instead\n  bptt plot --model rnn,lstm,gru       one line per cell: the vanilla RNN's terms vanish, the gated cells' less\n  bptt plot --model rnn,lstm,gru --forget-bias 3   b_f = 3: the LSTM's cell path stays open")]
    Plot(PlotArgs),
    /// Write a small static study site: an index and the derivation of every parameter, in English and Korean
    #[command(after_help = "Examples:\n  bptt site public/                    public/index.html and one page per parameter and language\n  bptt site public/ --steps 5\n\nEvery page is self-contained (no network request, no script needed): serve the folder as it is.")]
    Site(site::SiteArgs),
    /// Print a shell completion script (bash, zsh, fish)
    #[command(after_help = "Examples:\n  bptt completions bash > ~/.local/share/bash-completion/completions/bptt\n  bptt completions zsh > ~/.zfunc/_bptt\n  bptt completions fish > ~/.config/fish/completions/bptt.fish")]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff)
    #[command(after_help = "Example:\n  bptt man > bptt.1 && man ./bptt.1")]
    Man,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// a standalone LaTeX document (pdflatex)
    Latex,
    /// Markdown with $$ … $$ math (KaTeX/MathJax)
    Markdown,
    /// one self-contained HTML page, math as MathML (any browser, offline, prints)
    Html,
}

/// `--activation`: the names of the activation table, as clap's possible values.
fn activation_parser() -> impl clap::builder::TypedValueParser<Value = Act> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(crate::notation::ACTIVATIONS.iter().map(|a| clap::builder::PossibleValue::new(a.name)))
        .try_map(|name: String| Act::named(&name).ok_or_else(|| format!("unknown activation {name}")))
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LangArg {
    En,
    Ko,
}

impl From<LangArg> for crate::options::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::En => crate::options::Lang::En,
            LangArg::Ko => crate::options::Lang::Ko,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Loss {
    Mse,
    SoftmaxCe,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Read rule, model and plan files from DIR instead of the built-in set (same file names as rules/)
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Check every rule at random points: instantiate it, apply it, compare both sides numerically
    #[arg(long)]
    pub check: bool,
    /// The rules of the model with a loss at every step (lines tagged [m2m] replace those tagged [m2o])
    #[arg(long)]
    pub many_to_many: bool,
    /// The rules of the model with this loss (lines tagged [mse] or [softmax-ce])
    #[arg(long, value_enum, default_value_t = Loss::Mse)]
    pub loss: Loss,
    /// The rules read with this model (models/NAME.model and the rule files it names; default rnn)
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The model and its numbers: shared by `derive` and `check`.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The network: the model file models/NAME.model and its plans (rnn, the blog's vanilla RNN, is the default;
    /// with --rules DIR also a model of your own: a model file, its rule file and plans in DIR)
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Number of time steps T
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub steps: Option<u64>,
    /// Add biases: h⁽ᵗ⁾ = W⁽ʳ⁾s⁽ᵗ⁻¹⁾ + W⁽ˣ⁾x⁽ᵗ⁾ + b, y = W⁽ʸ⁾s⁽ᵀ⁾ + c (then --wrt b and --wrt c exist)
    #[arg(long)]
    pub bias: bool,
    /// A loss at every step, L = Σ_t ℓ(y⁽ᵗ⁾, ȳ⁽ᵗ⁾) with y⁽ᵗ⁾ = W⁽ʸ⁾s⁽ᵗ⁾ (the blog's model has one loss, at the last step)
    #[arg(long)]
    pub many_to_many: bool,
    /// The loss at an output: mse = ½ Σ_m (y[m] − ȳ[m])² (the default; the blog writes L(y) and fixes none); softmax-ce = −Σ_m ȳ[m] log softmax(y)[m] (ȳ a distribution)
    #[arg(long, value_enum, default_value_t = Loss::Mse)]
    pub loss: Loss,
    /// Hidden size n (default 3)
    #[arg(long, value_name = "n", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub hidden: Option<u64>,
    /// Input size d (default 2)
    #[arg(long, value_name = "d", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub input: Option<u64>,
    /// Output size m (default 2)
    #[arg(long, value_name = "m", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub output: Option<u64>,
    /// Activation σ of the hidden state
    #[arg(long, default_value_t = Act::FIRST, value_parser = activation_parser())]
    pub activation: Act,
    /// Seed of the random parameters (ChaCha8; the same numbers on every machine)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Take the parameters from a JSON file: {"W_r": [[…]], "W_x": [[…]], "W_y": [[…]], "s0": […], "x": [[…]] (one row per step), "target": […]}
    #[arg(long, value_name = "FILE.json")]
    pub params: Option<PathBuf>,
    /// The size flags given, by the model's words for them (filled by [`parse`] from --hidden, --input, --output).
    #[arg(skip)]
    pub sizes: Vec<(String, usize)>,
}

#[derive(Args, Debug)]
pub struct DeriveArgs {
    /// The parameter to differentiate against: one the model declares (W_r, the default; W_x, W_y, s0; with
    /// --bias also b and c), or all: every one, then a summary table
    #[arg(long)]
    pub wrt: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With --format latex: only the math blocks, for pasting into a document of your own
    #[arg(long)]
    pub fragment: bool,
    /// With --format latex|markdown: add a notation map (this tool ↔ d2l ↔ the row-vector convention)
    #[arg(long)]
    pub notation_map: bool,
    /// Write the output to FILE instead of standard output
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Line width for expressions
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(20..=100_000))]
    pub width: u64,
    /// Plain ASCII instead of Unicode (W_r[i,p], s^(k-1)[p], dL/dh^(k)[i])
    #[arg(long)]
    pub ascii: bool,
    /// The language of titles and words: en, or ko (한국어, the blog's language); the formulas are the same
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    pub lang: LangArg,
    /// Show every single rule application with its value
    #[arg(long)]
    pub trace: bool,
    /// Print engine statistics (steps, largest e-graph, time) to stderr
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Read rule, model and plan files from DIR instead of the built-in set (same file names as rules/)
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// The limits of a run, the same on every command: hitting one is an error that names it, never a crash or a
/// partial result.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Stop with an error after this many rule applications in one beat
    #[arg(long, visible_alias = "max-iters", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_steps: u64,
    /// Stop with an error after this many seconds (the whole run: reading, rewriting, numbers)
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Stop with an error when an expression grows past this many nodes
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_nodes: u64,
    /// Stop with an error when the run needs more memory than this many megabytes
    #[arg(long, value_name = "MB", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(16..))]
    pub max_memory: u64,
    /// Refuse a formula, params or rule file longer than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = crate::limits::DEFAULT_MAX_INPUT as u64, value_parser = clap::value_parser!(u64).range(1..=(1 << 32)))]
    pub max_input: u64,
}

impl Default for LimitArgs {
    fn default() -> Self {
        LimitArgs { max_steps: 20_000, timeout: 120, max_nodes: 1_000_000, max_memory: 4096, max_input: crate::limits::DEFAULT_MAX_INPUT as u64 }
    }
}

impl LimitArgs {
    /// Set the run's memory, time and input limits (once, at the start of a command).
    pub fn apply(&self) {
        crate::limits::set(self.max_memory, self.timeout, self.max_input as usize);
    }
    /// The rewriting limits, with the deadline `--timeout` seconds after `started`.
    pub fn engine(&self, started: std::time::Instant) -> Limits {
        Limits { max_steps: self.max_steps as usize, max_nodes: self.max_nodes as usize, deadline: started.checked_add(std::time::Duration::from_secs(self.timeout)).map(|at| (at, self.timeout)), keep_every_step: true }
    }
}

/// A `--trace` output longer than this (bytes) gets a note on standard error.
const TRACE_WARN: usize = 10 << 20;

/// Exit codes.
pub const OK: u8 = 0;
pub const MISMATCH: u8 = 1;
pub const ERROR: u8 = 2;

fn read_params(p: &Option<PathBuf>) -> Result<Option<(String, std::sync::Arc<String>)>, Error> {
    let Some(p) = p else { return Ok(None) };
    let bytes = crate::limits::read_file(p)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::Io { path: p.display().to_string(), reason: "not UTF-8 text".into() })?;
    Ok(Some((p.display().to_string(), text.into())))
}

fn options(a: &DeriveArgs, wrt: Option<&str>) -> Result<Options, Error> {
    model_options(&a.model, wrt, &a.rules)
}

/// The options of a run from the model flags.
pub fn model_options(a: &ModelArgs, wrt: Option<&str>, rules: &Option<PathBuf>) -> Result<Options, Error> {
    Ok(Options {
        model: a.model.clone(),
        steps: a.steps.map(|v| v as usize),
        sizes: a.sizes.clone(),
        activation: a.activation,
        wrt: wrt.map(str::to_string),
        seed: a.seed,
        params: read_params(&a.params)?,
        rules_dir: rules.clone(),
        bias: a.bias,
        many_to_many: a.many_to_many,
        loss: a.loss.into(),
    })
}

impl From<Loss> for crate::options::Loss {
    fn from(l: Loss) -> Self {
        match l {
            Loss::Mse => crate::options::Loss::Mse,
            Loss::SoftmaxCe => crate::options::Loss::SoftmaxCe,
        }
    }
}

/// Parse the command line. The size flags (--hidden, --input, --output) are the built-in model files' words
/// for their sizes (`dim n_h hidden 3`); their values are collected by those words, so that no Rust code names
/// a size.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse`] from the given arguments.
pub fn parse_from<I: IntoIterator<Item = T>, T: Into<std::ffi::OsString> + Clone>(args: I) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let m = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&m)?;
    let Some((_, sub)) = m.subcommand() else { return Ok(cli) };
    let words = crate::model::size_words(crate::rules::MANIFEST.iter().filter(|(n, _)| n.ends_with(".model")).map(|(_, t)| *t));
    let sizes: Vec<(String, usize)> = words.iter().filter_map(|w| sub.try_get_one::<u64>(w).ok().flatten().map(|v| (w.clone(), *v as usize))).collect();
    match &mut cli.command {
        Command::Derive(a) => a.model.sizes = sizes,
        Command::Check(a) => a.model.sizes = sizes,
        Command::Grad(a) => a.model.sizes = sizes,
        Command::Plot(a) => a.sizes = sizes,
        Command::Rules(_) | Command::Site(_) | Command::Completions { .. } | Command::Man => {}
    }
    Ok(cli)
}

/// One derivation with its numbers.
type Done = crate::pipeline::Checked;

fn derive_one(a: &DeriveArgs, wrt: Option<&str>) -> Result<Done, Error> {
    let started = std::time::Instant::now();
    // the terms of every rule application are kept for --trace only (derive_checked finds a culprit without them)
    let limits = Limits { keep_every_step: a.trace, ..a.limits.engine(started) };
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    let mut shown = false;
    let goal = wrt.map(|w| format!("∂L/∂{w}")).unwrap_or_else(|| "the gradient".into());
    let done = crate::pipeline::derive_checked(options(a, wrt)?, limits, a.trace, &mut |title| {
        if !shown && started.elapsed().as_secs_f64() > 1.0 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            shown = true;
        }
        bar.set_message(format!("deriving {goal}: {title}"));
    })?;
    bar.finish_and_clear();
    if a.stats {
        let [loaded, derived, verified] = done.times;
        let d = &done.derivation.stats;
        output::note(&format!(
            "stats {}: {} rule applications ({} of them on a fresh e-graph, the rest on the pool), largest e-graph {} nodes; load {:.1} ms, derive {:.1} ms, numbers {:.1} ms, then waiting for the any-T check (beside them) {:.1} ms, total {:.1} ms",
            done.session.wrt,
            d.steps,
            d.fresh_steps,
            d.largest_egraph,
            loaded.as_secs_f64() * 1e3,
            (derived - loaded).as_secs_f64() * 1e3,
            (verified - derived).as_secs_f64() * 1e3,
            (started.elapsed() - verified).as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3
        ));
    }
    Ok(done)
}

fn run_derive(a: &DeriveArgs, color: bool, out: &mut dyn Write) -> Result<u8, Error> {
    let view = View { style: if a.ascii { Style::Ascii } else { Style::Unicode }, width: a.width as usize, trace: a.trace, color: color && a.format == Format::Text, lang: a.lang.into() };
    let targets: Vec<Option<String>> = match a.wrt.as_deref() {
        Some("all") => crate::session::targets_for(&options(a, None)?)?.into_iter().map(Some).collect(),
        w => vec![w.map(str::to_string)],
    };
    let mut done = vec![];
    for t in &targets {
        done.push(derive_one(a, t.as_deref())?);
    }
    let text = match a.format {
        Format::Text => {
            // σ is the model's activation in every formula, as the blog writes it (the header says which)
            let mut parts: Vec<String> = done.iter().map(|d| crate::print::with_shown(&d.session.shown(), || report(&d.session, &d.derivation, &d.numbers, d.closed.as_ref(), &view))).collect();
            if done.len() > 1 {
                parts.push(crate::print::with_shown(&done[0].session.shown(), || summary(&done, &view)));
            }
            parts.join(&format!("\n{}\n\n", "─".repeat(60)))
        }
        Format::Latex | Format::Markdown => {
            let kind = match (a.format, a.fragment) {
                (Format::Markdown, _) => crate::render::latex::Kind::Markdown,
                (_, true) => crate::render::latex::Kind::Fragment,
                _ => crate::render::latex::Kind::Document,
            };
            let mut parts: Vec<String> = done.iter().map(|d| crate::print::with_shown(&d.session.shown(), || crate::render::latex::notes(&d.session, &d.derivation, &d.numbers, d.closed.as_ref(), kind, a.notation_map, view.lang))).collect();
            if done.len() > 1 {
                // --wrt all: the summary table the text output has
                let rows: Vec<(String, String, bool)> = done.iter().map(|d| {
                    let (g, f) = crate::print::with_shown(&d.session.shown(), || crate::render::latex::final_form(&d.derivation));
                    (g, f, d.ok())
                }).collect();
                parts.push(crate::render::latex::summary(&rows, kind, view.lang));
            }
            if kind == crate::render::latex::Kind::Document { crate::render::latex::document(&parts, view.lang) } else { parts.join("\n") }
        }
        Format::Html => site::derive_page(&done, view.lang, a.trace),
        Format::Json => {
            let objs: Vec<serde_json::Value> = done.iter().map(|d| crate::render::json::report(&d.session, &d.derivation, &d.numbers, d.closed.as_ref(), view.lang)).collect();
            let v = if objs.len() == 1 { objs.into_iter().next().unwrap_or_default() } else { serde_json::Value::Array(objs) };
            format!("{v:#}\n")
        }
    };
    // a page keeps its math characters (MathML needs ∑, ∂, −): --ascii is for the text formats
    let text = if view.style == Style::Ascii && a.format != Format::Html { crate::print::asciify(&text) } else { text };
    if a.trace && text.len() > TRACE_WARN {
        output::note(&format!("note: the trace is {} MB (every rule application with its whole value); a smaller --steps, or no --trace, gives a readable one", text.len() >> 20));
    }
    output::emit(a.out.as_deref(), text.as_bytes(), out)?;
    Ok(if done.iter().all(Done::ok) { OK } else { MISMATCH })
}

/// The table of final forms printed by `--wrt all`.
fn summary(done: &[Done], view: &View) -> String {
    let mut s = String::from("summary: the final form of every gradient\n\n");
    for d in done {
        let goal = crate::print::render(&d.derivation.goal, view.style, 1000);
        let body = crate::print::render(d.derivation.final_form(), view.style, 1000);
        let mark = if d.ok() { "✓" } else { "✗" };
        s.push_str(&format!("  {goal} = {body}\n      {mark} steps (worst change {}), finite differences (max abs error {})\n", crate::render::values::err(d.numbers.worst_step), crate::render::values::err(d.numbers.fd_error)));
    }
    s
}

fn run_rules(a: &RulesArgs, out: &mut dyn Write) -> Result<u8, Error> {
    let session = Session::load(Options { model: a.model.clone(), rules_dir: a.rules.clone(), many_to_many: a.many_to_many, loss: a.loss.into(), ..Options::default() })?;
    let mut text = String::new();
    let mut file = "";
    for r in &session.rules.rules {
        if r.file != file {
            file = &r.file;
            text.push_str(&format!("\n{file}\n"));
        }
        text.push_str(&format!("  {:<18} {}\n  {:<18}   {}\n", r.name, r.comment, "", r.text.split_once(':').map(|x| x.1.trim()).unwrap_or("")));
    }
    if !a.check {
        // the rule language itself, from its registries: what a rule may say after `if` and after `=> @`
        text.push_str("\nconditions (after `if`, comma-separated)\n");
        for c in crate::rules::apply::CONDITIONS {
            text.push_str(&format!("  {}\n", c.doc));
        }
        text.push_str("  ?t > N: ?t is a number greater than N\n\nappliers (`=> @name ?v …`: a right-hand side computed in Rust)\n");
        for a in crate::rules::apply::APPLIERS {
            text.push_str(&format!("  {}\n", a.doc));
        }
        text.push_str(&format!("\nactivations ({{act}}; each with its chain rule d-NAME above): {}\n", crate::notation::activation_names()));
        output::to_stream(text.trim_start().as_bytes(), out)?;
        return Ok(OK);
    }
    let mut text = String::new();
    let mut bad = 0;
    for r in &session.rules.rules {
        let v = crate::soundness::check_rule(&session, r, 1, 200, 3);
        let line = match &v {
            crate::soundness::Verdict::Sound(n) => format!("ok        {:<18} {n} random instances agree\n", r.name),
            crate::soundness::Verdict::Untested => format!("untested  {:<18} no random instance made it fire\n", r.name),
            crate::soundness::Verdict::Unsound { before, after, lhs, rhs } => {
                bad += 1;
                format!("UNSOUND   {:<18} {}:{}\n          {before}  = {lhs}\n          {after}  = {rhs}\n", r.name, r.file, r.line)
            }
        };
        text.push_str(&line);
    }
    output::to_stream(text.as_bytes(), out)?;
    Ok(if bad > 0 { MISMATCH } else { OK })
}

/// Run a parsed command line, writing the result to `out` and errors to stderr; returns the exit code.
pub fn run(cli: Cli, out: &mut dyn Write) -> u8 {
    use std::io::IsTerminal;
    let color = use_color(cli.color, std::io::stdout().is_terminal());
    match &cli.command {
        Command::Derive(a) => a.limits.apply(),
        Command::Check(a) => a.limits.apply(),
        Command::Grad(a) => a.limits.apply(),
        Command::Rules(a) => a.limits.apply(),
        Command::Plot(a) => a.limits.apply(),
        Command::Site(a) => a.limits.apply(),
        Command::Completions { .. } | Command::Man => {}
    }
    let r = match &cli.command {
        Command::Derive(a) => run_derive(a, color, out),
        Command::Check(a) => check::run_check(a, color, out),
        Command::Grad(a) => grad::run_grad(a, out),
        Command::Rules(a) => run_rules(a, out),
        Command::Plot(a) => run_plot(a, out),
        Command::Site(a) => site::run_site(a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let sh = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            // generated into memory first: clap_complete panics when its writer fails
            let mut buf: Vec<u8> = vec![];
            clap_complete::generate(sh, &mut cmd, "bptt", &mut buf);
            output::to_stream(&buf, out).map(|_| OK)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf: Vec<u8> = vec![];
            clap_mangen::Man::new(cmd).render(&mut buf).map_err(|e| Error::Write { path: "standard output".into(), reason: e.to_string() }).and_then(|_| output::to_stream(&buf, out)).map(|_| OK)
        }
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            let msg = e.to_string();
            let msg = msg.strip_prefix("error: ").or_else(|| msg.strip_prefix("error")).map(str::to_string).unwrap_or(msg);
            let red = use_color(cli.color, std::io::stderr().is_terminal());
            let head = if red { "\x1b[1;31merror\x1b[0m" } else { "error" };
            if msg.starts_with([':', '[']) { output::note(&format!("{head}{msg}")) } else { output::note(&format!("{head}: {msg}")) }
            ERROR
        }
    }
}
