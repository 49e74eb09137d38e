//! Loading everything a command needs: the rule, model and plan files (embedded or `--rules DIR`) with every
//! error collected, the sizes, and the parameter values (seeded or from a params file).
use crate::error::{Error, Result};
use crate::model::Model;
use crate::params::{Params, Sizes};
use crate::plan::Plan;
use crate::rules::apply::Ctx;
use crate::rules::{RuleSet, Sources, Template, finish};
use egg::Symbol;
use std::sync::Arc;

pub use crate::options::{Loss, Options};

/// The model file these options select: `models/NAME.model`, or `models/NAME-bias.model` with `--bias`; the
/// default NAME is the first model of the rule set.
/// The default model: the first of the built-in set (the blog's vanilla RNN).
pub fn default_model() -> String {
    crate::rules::MANIFEST.iter().find_map(|(n, _)| n.strip_prefix("models/").and_then(|n| n.strip_suffix(".model"))).unwrap_or_default().to_string()
}

pub fn model_file(o: &Options) -> String {
    let name = o.model.clone().unwrap_or_else(default_model);
    if o.bias { format!("models/{name}-bias.model") } else { format!("models/{name}.model") }
}

/// The plan file for `wrt`: the default model's plans are in `plans/` (many-to-many in `plans/m2m/`), another
/// model's in `plans/NAME/` (and `plans/NAME/m2m/`).
pub fn plan_file(o: &Options, wrt: &str) -> String {
    let dir = match &o.model {
        Some(m) if *m != default_model() => format!("plans/{m}/"),
        _ => "plans/".to_string(),
    };
    if o.many_to_many { format!("{dir}m2m/{wrt}.plan") } else { format!("{dir}{wrt}.plan") }
}

/// The models a run can use (model files without a `-bias` twin's suffix), by name.
pub fn model_names(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = names.iter().filter_map(|n| n.strip_prefix("models/").and_then(|n| n.strip_suffix(".model"))).filter(|n| !n.ends_with("-bias")).map(str::to_string).collect();
    out.dedup();
    out
}

/// The template for these options at `steps` time steps, with the model's output quantity.
pub fn template(o: &Options, steps: usize, out: &str) -> Template {
    Template { act: o.activation.name().to_string(), steps, tags: o.tags(), out: out.to_string() }
}

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
    /// The parameter differentiated against (validated against the model).
    pub wrt: Symbol,
    /// What the rule appliers know (T, the independent names), for rule files read later (the mistakes).
    pub ctx: Arc<Ctx>,
}

/// The parameters of the chosen model that a plan exists for, in the model's order (what `--wrt all` derives).
pub fn targets_for(options: &Options) -> Result<Vec<String>> {
    let model = probe(options, options.steps.unwrap_or(DEFAULT_STEPS).max(1))?;
    Ok(targets_of(options, &model, &Sources::names(options.rules_dir.as_deref())?))
}

/// `names`: every file the run may read ([`Sources::names`]).
fn targets_of(options: &Options, model: &Model, names: &[String]) -> Vec<String> {
    let planned = |name: &str| names.iter().any(|n| *n == plan_file(options, name));
    model.params().map(|p| p.to_string()).filter(|p| planned(p)).collect()
}

/// The model file's declarations alone, read at `steps` steps (the sizes, the names and the output come from them
/// before the other files are read).
fn probe(options: &Options, steps: usize) -> Result<Model> {
    let file = model_file(options);
    let t = template(options, steps, "");
    let sources = Sources::load_only(options.rules_dir.as_deref(), &t, |n| n == file)?;
    let (name, text) = sources.get(&file).ok_or_else(|| {
        let models = model_names(&Sources::names(options.rules_dir.as_deref()).unwrap_or_default()).join(", ");
        match &options.model {
            Some(m) if !options.bias => Error::Usage(format!("no model `{m}` (no file {file}); the models are {models}")),
            _ => Error::Usage(format!("no model file {file}; the models are {models}")),
        }
    })?;
    // a variant the model file has no line for (--loss, --many-to-many) would be the default under another name
    let plain = Options { many_to_many: false, loss: Default::default(), ..options.clone() };
    if plain.tags() != options.tags() {
        let d = Sources::load_only(options.rules_dir.as_deref(), &template(&plain, steps, ""), |n| n == file)?;
        if d.get(&file).is_some_and(|(_, t)| t == text) {
            let variant = [options.many_to_many.then_some("--many-to-many"), (options.loss != plain.loss).then_some(format!("--loss {}", options.loss.tag())).as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" and ");
            return Err(Error::Usage(format!("{name} has no variant for {variant} (no line tagged for it); leave the flag out for this model")));
        }
    }
    // the declarations alone: the definitions are read (and their problems told) with the rules, at the final T —
    // unless the declarations have problems: then the whole file is read, so that every problem is told at once
    let mut diags = vec![];
    let m = Model::read_decls(name, text, &mut diags);
    if !diags.is_empty() {
        diags.clear();
        let _ = Model::read(name, text, &Arc::new(Ctx::default()), &mut diags);
    }
    finish(diags)?;
    Ok(m)
}

/// Read the rule files and the model. `sources` holds only what this run uses ([`Session::load`] keeps a rule
/// file in `models/` only when the model names it, `rules FILE`), so every rule file in it is read.
fn read_rule_files(sources: &Sources, ctx: &Arc<Ctx>, model_file: &str) -> Result<(Model, RuleSet)> {
    let mut diags = vec![];
    let mut all = vec![];
    let mut model = None;
    for (name, text) in &sources.files {
        if name.ends_with(".rules") {
            all.extend(crate::rules::read_rule_file(name, text, ctx, &mut diags));
        } else if name.ends_with(model_file) {
            let (m, rules) = Model::read(name, text, ctx, &mut diags);
            all.extend(rules.into_iter().map(Arc::new));
            model = Some(m);
        }
    }
    let rules = RuleSet::new(all, &mut diags, sources);
    finish(diags)?;
    Ok((model.unwrap_or_default(), rules))
}

impl Session {
    /// Load the files, then the sizes and the numbers.
    pub fn load(mut options: Options) -> Result<Session> {
        if let Some(m) = &options.model
            && (m.is_empty() || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(Error::Usage(format!("`{m}` is not a model name: a model is named by letters, digits, - and _ (its file is models/NAME.model)")));
        }
        // The params file fixes T; the rules need T, so read the sizes first with the model file alone.
        let probe_model = probe(&options, options.steps.unwrap_or(DEFAULT_STEPS).max(1))?;
        // a model that names its activation (`activation sigmoid`) fixes σ: --activation may not say otherwise
        if let Some(a) = probe_model.activation {
            if options.activation != crate::notation::Act::FIRST && options.activation != a {
                return Err(Error::Usage(format!("this model fixes its activation: σ is {} (its `activation` line); leave --activation out", a.name())));
            }
            options.activation = a;
        }
        let wrt = match &options.wrt {
            Some(w) => Symbol::from(w.as_str()),
            None => probe_model.params().next().ok_or_else(|| Error::Usage("the model declares no parameter".into()))?,
        };
        // the files this run may read (a rules folder is listed once)
        let names = Sources::names(options.rules_dir.as_deref())?;
        // a model names its own rule files: each must be there
        if let Some(f) = probe_model.rule_files.iter().find(|f| !names.iter().any(|n| *n == format!("models/{f}"))) {
            return Err(Error::Usage(format!("{} names the rule file {f} (`rules {f}`), but there is no models/{f}; write it beside the model file, or remove the line", model_file(&options))));
        }
        let targets = targets_of(&options, &probe_model, &names);
        if !targets.iter().any(|t| t.as_str() == wrt.as_str()) {
            let what = if probe_model.is_param(wrt) { "no derivation (plan file) with respect to" } else { "no parameter" };
            // the hint about biases only where the model has a variant with them
            let has_bias = names.iter().any(|n| *n == model_file(&Options { bias: true, ..options.clone() }));
            if targets.is_empty() {
                return Err(Error::Usage(format!("this model has no plan for these options (no {})", plan_file(&options, wrt.as_str()))));
            }
            return Err(Error::Usage(format!("{what} `{wrt}` in this model; choose one of {}{}", targets.join(", "), if options.bias || !has_bias { "" } else { " (--bias adds the biases)" })));
        }
        for (word, _) in &options.sizes {
            if !probe_model.dims.iter().any(|d| d.1 == *word) {
                return Err(Error::Usage(format!("the model has no size called {word}; its sizes are {}", probe_model.dims.iter().map(|d| d.1.as_str()).collect::<Vec<_>>().join(", "))));
            }
        }
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
            return Err(Error::Usage(format!("the size {d} is {n}; at most {MAX_SIZE} is allowed (as for the size flags)")));
        }
        crate::limits::reserve(Params::bytes(&probe_model, &sizes), "the parameters and data at these sizes")?;
        let out = probe_model.output.map(|o| o.to_string()).unwrap_or_default();
        // only the files this run reads: the shared rule files, this model and its own rule files, the plan, the
        // catalogue (templating every plan of every model for each of the any-T check's sessions cost a third)
        let plan_name = plan_file(&options, wrt.as_str());
        let this_model = model_file(&options);
        let keep = |n: &str| {
            (!n.contains('/') && n.ends_with(".rules"))
                || n == this_model
                || n == plan_name
                || n == crate::rules::CATALOGUE
                || probe_model.rule_files.iter().any(|f| n.strip_prefix("models/") == Some(f.as_str()))
        };
        let sources = Sources::load_only(options.rules_dir.as_deref(), &template(&options, sizes.steps, &out), keep)?;
        let mut ctx = Ctx { steps: sizes.steps, ..Default::default() };
        ctx.independent = probe_model.decls.keys().copied().filter(|s| probe_model.is_independent(*s)).collect();
        let ctx = Arc::new(ctx);
        let (model, mut rules) = read_rule_files(&sources, &ctx, &this_model)?;
        rules.reserved = model.decls.keys().copied().collect();
        let mut diags = vec![];
        let (file, text) = sources.get(&plan_name).ok_or_else(|| Error::Usage(format!("no plan file {plan_name}")))?;
        let plan = Plan::read(file, text, &rules, &mut diags);
        finish(diags)?;
        let plan = plan.ok_or_else(|| Error::Usage("the plan is empty".into()))?;
        let params = params.unwrap_or_else(|| Params::random(&model, &sizes, options.seed));
        let options = Options { wrt: Some(wrt.to_string()), ..options };
        Ok(Session { sources, model, rules, plan, sizes, params, options, ctx, wrt })
    }

    /// The size the model calls `word` (its `dim` line: `dim n_h hidden 3` → `hidden`), or 0.
    pub fn size(&self, word: &str) -> usize {
        self.model.dims.iter().find(|(_, w)| w == word).and_then(|(s, _)| self.sizes.dims.get(s).copied()).unwrap_or(0)
    }

    /// How this session's expressions are shown: its activation as σ, and each parameter the model gives as a
    /// quantity at a step (`s⁽⁰⁾[i] := s0[i]`, the name `s0` spelling that quantity and step) shown as that quantity.
    pub fn shown(&self) -> crate::print::Shown {
        let given = self
            .model
            .defs
            .iter()
            .filter_map(|d| {
                let p = Model::given_param(d)?;
                let (letter, step) = crate::print::at_step(p.as_str())?;
                let same_step = matches!(d.time, Some(crate::model::TimeSlot::Fixed(t)) if step.parse::<f64>().ok() == Some(t));
                (same_step && d.name.as_str() == letter && self.model.is_param(p)).then(|| p.to_string())
            })
            .collect();
        crate::print::Shown { sigma: Some(self.options.activation), given }
    }

    /// The small typed header the renderers show: the model in words, the sizes by their words, the seed.
    pub fn header(&self) -> Header {
        Header {
            describe: self.options.describe(self.model.cell()),
            title_words: self.options.title_words(self.model.cell()),
            activation: self.options.activation,
            loss: self.options.loss,
            bias: self.options.bias,
            many_to_many: self.options.many_to_many,
            steps: self.sizes.steps,
            sizes: self.model.dims.iter().map(|(d, w)| (w.clone(), self.sizes.dims.get(d).copied().unwrap_or(0))).collect(),
            wrt: self.wrt,
            seed: self.options.seed,
            params_file: self.options.params.as_ref().map(|p| p.0.clone()),
        }
    }

}

/// What a renderer may know about a run besides the derivation and its numbers.
#[derive(Debug, Clone)]
pub struct Header {
    pub describe: String,
    pub title_words: String,
    pub activation: crate::notation::Act,
    pub loss: Loss,
    pub bias: bool,
    pub many_to_many: bool,
    pub steps: usize,
    /// Each size by its word, in the model's order: (`hidden`, 3), (`input`, 2), (`output`, 2).
    pub sizes: Vec<(String, usize)>,
    pub wrt: Symbol,
    pub seed: u64,
    pub params_file: Option<String>,
}

impl Header {
    /// `hidden 3  input 2  output 2`, with `sep` between the sizes.
    pub fn sizes_words(&self, sep: &str) -> String {
        self.sizes.iter().map(|(w, n)| format!("{w} {n}")).collect::<Vec<_>>().join(sep)
    }
}

fn default_sizes(o: &Options, model: &Model) -> Result<Sizes> {
    let steps = o.steps.unwrap_or(DEFAULT_STEPS);
    if steps == 0 {
        return Err(Error::Usage("--steps must be at least 1 (the number of time steps T)".into()));
    }
    let mut dims = std::collections::BTreeMap::new();
    for (s, option) in &model.dims {
        let n = o.size_of(option).unwrap_or_else(|| model.default_size(*s));
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
        if let (Some(want), Some(have)) = (o.size_of(option), s.dims.get(sym))
            && want != *have {
                return Err(Error::Usage(format!("--{option} {want} disagrees with the params file, which has {option} size {have}")));
            }
    }
    Ok(())
}
