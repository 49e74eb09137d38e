//! Shared test helpers: running the binary, loading sessions, and an independent numeric BPTT (forward pass and
//! backward recurrence written directly, sharing no code with the engine) as the oracle.
#![allow(dead_code)]
use bptt::derive::{Derivation, derive};
use bptt::session::{Options, Session};
use bptt::verify::{Verified, verify};
use std::path::PathBuf;
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bptt"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the bptt binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn fixture_options() -> Options {
    let text = std::fs::read_to_string(data("fixture.json")).expect("fixture exists");
    Options { params: Some(("fixture.json".into(), text.into())), ..Options::default() }
}

pub fn derive_and_verify(o: Options) -> (Session, Derivation, Verified) {
    let s = Session::load(o).expect("session loads");
    let d = derive(&s.plan, &s.rules, Default::default()).expect("derivation runs");
    let v = verify(&s, &d, false).expect("numbers evaluate");
    (s, d, v)
}

/// Parameters of the blog's RNN as plain matrices.
pub struct Net {
    pub wr: Vec<Vec<f64>>,
    pub wx: Vec<Vec<f64>>,
    pub wy: Vec<Vec<f64>>,
    pub s0: Vec<f64>,
    pub x: Vec<Vec<f64>>,
    /// The target at the last step (many-to-one), or at every step (many-to-many): one row per output.
    pub targets: Vec<Vec<f64>>,
    pub many_to_many: bool,
    /// Softmax cross-entropy instead of ½‖y − ȳ‖².
    pub softmax: bool,
    pub act: String,
    /// Biases (zero without --bias).
    pub b: Vec<f64>,
    pub c: Vec<f64>,
}

fn matrix(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect()
}

fn vector(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

impl Net {
    pub fn from_json(p: &serde_json::Value, act: &str) -> Net {
        Net::variant(p, act, "mse")
    }

    /// A model variant: the target is one row per step for many-to-many; `loss` is mse or softmax-ce.
    pub fn variant(p: &serde_json::Value, act: &str, loss: &str) -> Net {
        let n = vector(&p["s0"]).len();
        let many_to_many = p["target"][0].is_array();
        let targets = if many_to_many { matrix(&p["target"]) } else { vec![vector(&p["target"])] };
        let m = targets[0].len();
        let b = if p.get("b").is_some() { vector(&p["b"]) } else { vec![0.0; n] };
        let c = if p.get("c").is_some() { vector(&p["c"]) } else { vec![0.0; m] };
        Net { wr: matrix(&p["W_r"]), wx: matrix(&p["W_x"]), wy: matrix(&p["W_y"]), s0: vector(&p["s0"]), x: matrix(&p["x"]), targets, many_to_many, softmax: loss == "softmax-ce", act: act.to_string(), b, c }
    }

    /// The loss at one output and its gradient ∂ℓ/∂y, written out directly.
    fn output_loss(&self, y: &[f64], target: &[f64]) -> (f64, Vec<f64>) {
        if self.softmax {
            let top = y.iter().fold(f64::NEG_INFINITY, |a, b| a.max(*b));
            let z: f64 = y.iter().map(|v| (v - top).exp()).sum();
            let lse = top + z.ln();
            let total: f64 = target.iter().sum();
            let loss = target.iter().zip(y).map(|(t, v)| t * (lse - v)).sum();
            (loss, y.iter().zip(target).map(|(v, t)| (v - lse).exp() * total - t).collect())
        } else {
            (y.iter().zip(target).map(|(a, b)| 0.5 * (a - b) * (a - b)).sum(), y.iter().zip(target).map(|(a, b)| a - b).collect())
        }
    }

    fn act(&self, h: f64) -> (f64, f64) {
        match self.act.as_str() {
            "sigmoid" => {
                let s = 1.0 / (1.0 + (-h).exp());
                (s, s * (1.0 - s))
            }
            "tanh" => (h.tanh(), 1.0 - h.tanh() * h.tanh()),
            "relu" => (h.max(0.0), if h > 0.0 { 1.0 } else { 0.0 }),
            "identity" => (h, 1.0),
            other => panic!("no oracle for {other}"),
        }
    }

    /// Loss, δ⁽ᵏ⁾ = ∂L/∂h⁽ᵏ⁾ for k = 1..T, and ∂L/∂W⁽ʳ⁾ (by the backward recurrence).
    pub fn bptt(&self) -> (f64, Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let g = self.grads();
        (g.loss, g.delta, g.wr)
    }

    /// Every gradient, row-major, by parameter name.
    pub fn grad_of(&self, wrt: &str) -> Vec<f64> {
        let g = self.grads();
        match wrt {
            "W_r" => g.wr.concat(),
            "W_x" => g.wx.concat(),
            "W_y" => g.wy.concat(),
            "s0" => g.s0,
            "b" => g.b,
            "c" => g.c,
            _ => panic!("no oracle for {wrt}"),
        }
    }

    pub fn grads(&self) -> Grads {
        let n = self.s0.len();
        let t_max = self.x.len();
        let mut s = vec![self.s0.clone()];
        let mut h = vec![vec![]];
        for t in 1..=t_max {
            let ht: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|p| self.wr[i][p] * s[t - 1][p]).sum::<f64>() + (0..self.x[t - 1].len()).map(|q| self.wx[i][q] * self.x[t - 1][q]).sum::<f64>() + self.b[i])
                .collect();
            s.push(ht.iter().map(|v| self.act(*v).0).collect());
            h.push(ht);
        }
        let out = |t: usize| -> Vec<f64> { self.wy.iter().zip(&self.c).map(|(row, c)| row.iter().zip(&s[t]).map(|(w, v)| w * v).sum::<f64>() + c).collect() };
        // the steps with an output and its residual ∂ℓ/∂y⁽ᵗ⁾
        let steps: Vec<usize> = if self.many_to_many { (1..=t_max).collect() } else { vec![t_max] };
        let mut loss = 0.0;
        let mut resid = vec![vec![]; t_max + 1];
        for (row, t) in steps.iter().enumerate() {
            let (l, r) = self.output_loss(&out(*t), &self.targets[row]);
            loss += l;
            resid[*t] = r;
        }
        let m = self.wy.len();
        let e = |t: usize| -> Vec<f64> { (0..n).map(|a| if resid[t].is_empty() { 0.0 } else { (0..m).map(|o| resid[t][o] * self.wy[o][a]).sum() }).collect() };
        let mut delta = vec![vec![0.0; n]; t_max + 1];
        let e_last = e(t_max);
        delta[t_max] = (0..n).map(|i| self.act(h[t_max][i]).1 * e_last[i]).collect();
        for k in (1..t_max).rev() {
            let ek = e(k);
            delta[k] = (0..n).map(|i| self.act(h[k][i]).1 * ((0..n).map(|j| self.wr[j][i] * delta[k + 1][j]).sum::<f64>() + ek[i])).collect();
        }
        let d = self.x[0].len();
        let mut wr = vec![vec![0.0; n]; n];
        let mut wx = vec![vec![0.0; d]; n];
        for k in 1..=t_max {
            for i in 0..n {
                for p in 0..n {
                    wr[i][p] += delta[k][i] * s[k - 1][p];
                }
                for q in 0..d {
                    wx[i][q] += delta[k][i] * self.x[k - 1][q];
                }
            }
        }
        let wy = (0..m).map(|o| (0..n).map(|j| steps.iter().map(|t| resid[*t][o] * s[*t][j]).sum()).collect()).collect();
        let s0 = (0..n).map(|j| (0..n).map(|a| delta[1][a] * self.wr[a][j]).sum()).collect();
        let b = (0..n).map(|i| (1..=t_max).map(|k| delta[k][i]).sum()).collect();
        let c = (0..m).map(|o| steps.iter().map(|t| resid[*t][o]).sum()).collect();
        Grads { loss, delta, wr, wx, wy, s0, states: s, b, c }
    }
}

/// The oracle's results.
pub struct Grads {
    pub loss: f64,
    pub delta: Vec<Vec<f64>>,
    pub wr: Vec<Vec<f64>>,
    pub wx: Vec<Vec<f64>>,
    pub wy: Vec<Vec<f64>>,
    pub s0: Vec<f64>,
    /// s⁽⁰⁾ … s⁽ᵀ⁾
    pub states: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
}

/// A copy of the built-in rules/ folder in target/tmp/NAME, with (file, from, to) text replacements applied.
pub fn copy_rules(name: &str, edits: &[(&str, &str, &str)]) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/tmp").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (file, text) in bptt::rules::MANIFEST {
        let mut text = text.to_string();
        for (f, from, to) in edits {
            if f == file {
                assert!(text.contains(from), "{file} contains {from}");
                text = text.replace(from, to);
            }
        }
        let p = dir.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}
