//! Loading everything a command needs: the rule, model and plan files (embedded or `--rules DIR`) with every
//! error collected, the sizes, and the parameter values (seeded or from a params file).
use crate::error::{Error, Result};
use crate::model::Model;
use crate::params::{Params, Sizes};
use crate::plan::Plan;
use crate::rules::apply::Ctx;
use crate::rules::{Kind, RuleSet, Sources, Template, finish, read_rules};
use egg::Symbol;
use std::path::PathBuf;
use std::sync::Arc;

/// What the user chose (the command-line flags, validated by the CLI layer).
#[derive(Debug, Clone)]
pub struct Options {
    pub steps: Option<usize>,
    pub hidden: Option<usize>,
    pub input: Option<usize>,
    pub output: Option<usize>,
    pub activation: String,
    pub wrt: String,
    pub seed: u64,
    /// A params file: its name and text.
    pub params: Option<(String, String)>,
    pub rules_dir: Option<PathBuf>,
    /// The model with biases b (hidden) and c (output).
    pub bias: bool,
    /// A loss at every step, summed over t (else only at the last step).
    pub many_to_many: bool,
    /// The loss: `mse` (½‖y − ȳ‖²) or `softmax-ce` (cross-entropy of softmax(y) against ȳ).
    pub loss: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { steps: None, hidden: None, input: None, output: None, activation: "tanh".into(), wrt: "W_r".into(), seed: 1, params: None, rules_dir: None, bias: false, many_to_many: false, loss: "mse".into() }
    }
}

impl Options {
    /// The model file these options select.
    pub fn model_file(&self) -> &'static str {
        if self.bias { "models/rnn-bias.model" } else { "models/rnn.model" }
    }

    /// The plan file for `wrt` (many-to-many plans live in `plans/m2m/`).
    pub fn plan_file(&self, wrt: &str) -> String {
        if self.many_to_many { format!("plans/m2m/{wrt}.plan") } else { format!("plans/{wrt}.plan") }
    }

    /// The template for these options at `steps` time steps.
    pub fn template(&self, steps: usize) -> Template {
        let shape = if self.many_to_many { "m2m" } else { "m2o" };
        let mut tags = vec![shape.to_string(), self.loss.clone()];
        if self.bias {
            tags.push("bias".into());
        }
        Template { act: self.activation.clone(), steps, tags }
    }

    /// The model in words, for headers: "many-to-one RNN with biases, softmax-ce loss".
    pub fn describe(&self) -> String {
        self.words(self.bias, &self.loss)
    }

    /// The model in words for a title: biases left to the facts line, the loss spelled out.
    pub fn title_words(&self) -> String {
        self.words(false, if self.loss == "softmax-ce" { "softmax cross-entropy" } else { &self.loss })
    }

    fn words(&self, bias: bool, loss: &str) -> String {
        format!(
            "{} RNN{}{}",
            if self.many_to_many { "many-to-many" } else { "many-to-one" },
            if bias { " with biases" } else { "" },
            if self.loss == "mse" { String::new() } else { format!(", {loss} loss") }
        )
    }
}

/// The losses a model file has lines for (`[mse]`, `[softmax-ce]`).
pub const LOSSES: &[&str] = &["mse", "softmax-ce"];

pub use crate::limits::MAX_STEPS;
/// The largest size of a dimension (the range of --hidden, --input, --output).
pub const MAX_SIZE: usize = 4096;

/// Default sizes: T = 3, hidden 3, input 2, output 2.
pub const DEFAULT_STEPS: usize = 3;

/// Everything loaded for one run.
pub struct Session {
    pub sources: Sources,
    pub model: Model,
    pub rules: RuleSet,
    pub plan: Plan,
    pub sizes: Sizes,
    pub params: Params,
    pub options: Options,
    /// What the rule appliers know (T, the independent names), for rule files read later (the mistakes).
    pub ctx: Arc<Ctx>,
}

/// The parameters of the chosen model that a plan exists for, in plan order (what `--wrt all` derives).
pub fn targets_for(options: &Options) -> Vec<&'static str> {
    let with_bias = ["b", "c"];
    targets().into_iter().filter(|t| options.bias || !with_bias.contains(t)).collect()
}

/// The gradients a plan exists for (`rules/plans/NAME.plan`).
pub fn targets() -> Vec<&'static str> {
    crate::rules::MANIFEST.iter().filter_map(|(n, _)| n.strip_prefix("plans/").and_then(|n| n.strip_suffix(".plan"))).filter(|n| !n.contains('/')).collect()
}

fn read_rule_files(sources: &Sources, ctx: &Arc<Ctx>, model_file: &str) -> Result<(Model, RuleSet)> {
    let mut diags = vec![];
    let mut all = vec![];
    let mut model = None;
    for (name, text) in &sources.files {
        if name.ends_with(".rules") {
            all.extend(read_rules(name, text, ctx, Kind::Rule, &|_| false, &mut diags));
        } else if name.ends_with(model_file) {
            let (m, rules) = Model::read(name, text, ctx, &mut diags);
            all.extend(rules);
            model = Some(m);
        }
    }
    let rules = RuleSet::new(all, &mut diags, sources);
    finish(diags)?;
    Ok((model.unwrap_or_default(), rules))
}

impl Session {
    /// Load the files, then the sizes and the numbers.
    pub fn load(options: Options) -> Result<Session> {
        if crate::notation::Act::named(&options.activation).is_none() {
            return Err(Error::Usage(format!("unknown activation `{}`; choose one of {}", options.activation, crate::notation::activation_names())));
        }
        if !LOSSES.contains(&options.loss.as_str()) {
            return Err(Error::Usage(format!("unknown loss `{}`; choose one of {}", options.loss, LOSSES.join(", "))));
        }
        if !targets().contains(&options.wrt.as_str()) {
            return Err(Error::Usage(format!("no derivation with respect to `{}` yet; choose one of {}", options.wrt, targets().join(", "))));
        }
        // The params file fixes T; the rules need T, so read sizes first with a throw-away model load.
        let probe = options.template(options.steps.unwrap_or(DEFAULT_STEPS).max(1));
        let probe_sources = Sources::load_only(options.rules_dir.as_deref(), &probe, |n| n == options.model_file())?;
        let ctx = Arc::new(Ctx::default());
        let probe_model = {
            let mut diags = vec![];
            let (name, text) = probe_sources.get(options.model_file()).ok_or_else(|| Error::Usage("no model file".into()))?;
            let (m, _) = Model::read(name, text, &ctx, &mut diags);
            finish(diags)?;
            m
        };
        let (params, sizes) = match &options.params {
            Some((file, text)) => {
                let (p, s) = Params::from_json(&probe_model, text, file)?;
                check_sizes_agree(&options, &s, &probe_model)?;
                (Some(p), s)
            }
            None => (None, default_sizes(&options, &probe_model)?),
        };
        // the same caps as the flags: a params file does not get around --steps or the sizes
        if sizes.steps > MAX_STEPS {
            return Err(Error::Usage(format!("the params file has {} time steps; at most {MAX_STEPS} are allowed (as for --steps)", sizes.steps)));
        }
        if let Some((d, n)) = sizes.dims.iter().find(|(_, n)| **n > MAX_SIZE) {
            return Err(Error::Usage(format!("the size {d} is {n}; at most {MAX_SIZE} is allowed (as for --hidden, --input, --output)")));
        }
        crate::limits::reserve(Params::bytes(&probe_model, &sizes), "the parameters and data at these sizes")?;
        let template = options.template(sizes.steps);
        let sources = Sources::load(options.rules_dir.as_deref(), &template)?;
        let mut ctx = Ctx { steps: sizes.steps, ..Default::default() };
        ctx.independent = probe_model.decls.keys().copied().filter(|s| probe_model.is_independent(*s)).collect();
        let ctx = Arc::new(ctx);
        let (model, rules) = read_rule_files(&sources, &ctx, options.model_file())?;
        let mut diags = vec![];
        let plan_name = options.plan_file(&options.wrt);
        let (file, text) = sources.get(&plan_name).ok_or_else(|| Error::Usage(format!("no plan file {plan_name}")))?;
        let plan = Plan::read(file, text, &rules, &mut diags);
        finish(diags)?;
        let plan = plan.ok_or_else(|| Error::Usage("the plan is empty".into()))?;
        if !model.decls.get(&Symbol::from(options.wrt.as_str())).is_some_and(|d| d.kind == crate::model::DeclKind::Param) {
            let hint = if options.bias { "" } else { " (the biases b and c exist with --bias)" };
            return Err(Error::Usage(format!("`{}` is not a parameter of the model{hint}", options.wrt)));
        }
        let params = params.unwrap_or_else(|| Params::random(&model, &sizes, options.seed));
        Ok(Session { sources, model, rules, plan, sizes, params, options, ctx })
    }

    /// The size chosen for the option `hidden`, `input` or `output`.
    pub fn size(&self, option: &str) -> usize {
        self.model.dims.iter().find(|(_, o)| o == option).and_then(|(s, _)| self.sizes.dims.get(s).copied()).unwrap_or(0)
    }
}

fn option_size(o: &Options, option: &str) -> Option<usize> {
    match option {
        "hidden" => o.hidden,
        "input" => o.input,
        "output" => o.output,
        _ => None,
    }
}

fn default_sizes(o: &Options, model: &Model) -> Result<Sizes> {
    let steps = o.steps.unwrap_or(DEFAULT_STEPS);
    if steps == 0 {
        return Err(Error::Usage("--steps must be at least 1 (the number of time steps T)".into()));
    }
    let mut dims = std::collections::BTreeMap::new();
    for (s, option) in &model.dims {
        let n = option_size(o, option).unwrap_or(match option.as_str() {
            "hidden" => 3,
            _ => 2,
        });
        if n == 0 {
            return Err(Error::Usage(format!("--{option} must be at least 1")));
        }
        dims.insert(*s, n);
    }
    Ok(Sizes { steps, dims })
}

fn check_sizes_agree(o: &Options, s: &Sizes, model: &Model) -> Result<()> {
    if let Some(t) = o.steps
        && t != s.steps {
            return Err(Error::Usage(format!("--steps {t} disagrees with the params file, whose input x has {} steps; drop --steps or fix the file", s.steps)));
        }
    for (sym, option) in &model.dims {
        if let (Some(want), Some(have)) = (option_size(o, option), s.dims.get(sym))
            && want != *have {
                return Err(Error::Usage(format!("--{option} {want} disagrees with the params file, which has {option} size {have}")));
            }
    }
    Ok(())
}
