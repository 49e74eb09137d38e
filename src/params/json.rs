//! Reading a params JSON file: a well-formed file in one pass straight into numbers ([`fast_arrays`]), anything
//! else as JSON values with every check and its message ([`checked_arrays`]); then the sizes, from the arrays.
use super::{Array, Params, Sizes};
use crate::error::{Error, Result};
use crate::model::Model;
use egg::Symbol;
use serde_json::Value;
use std::collections::BTreeMap;

impl Params {
    /// Read a params JSON text. Sizes come from the arrays; every inconsistency is an error naming the key.
    pub fn from_json(model: &Model, text: &str, file: &str) -> Result<(Params, Sizes)> {
        // a byte-order mark, as some editors write, is not part of the JSON
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // a well-formed file is read straight into numbers; anything else is read again as JSON values, which
        // says exactly what is wrong and where
        let arrays = match fast_arrays(model, text) {
            Some(a) => a,
            None => checked_arrays(model, text, file)?,
        };
        let bad = |msg: String| Error::Usage(format!("{file}: {msg}"));
        // sizes: from the first array that shows each dimension
        let mut dims: BTreeMap<Symbol, usize> = BTreeMap::new();
        let mut steps: Option<usize> = None;
        for name in &model.order {
            let (Some(d), Some(a)) = (model.decls.get(name), arrays.get(name)) else { continue };
            let mut shape = a.shape.iter();
            if d.timed {
                let t = *shape.next().unwrap_or(&0);
                if t == 0 {
                    return Err(bad(format!("`{}` has no time steps; give one row per step (T rows)", d.json)));
                }
                match steps {
                    None => steps = Some(t),
                    Some(s) if s != t => return Err(bad(format!("`{}` has {t} time steps but another array has {s}", d.json))),
                    _ => {}
                }
            }
            for (dim, n) in d.dims.iter().zip(shape) {
                if *n == 0 {
                    let opt = model.dims.iter().find(|(s, _)| s == dim).map(|d| d.1.as_str()).unwrap_or("?");
                    return Err(bad(format!("`{}` is empty: the {opt} size must be at least 1", d.json)));
                }
                match dims.get(dim) {
                    None => {
                        dims.insert(*dim, *n);
                    }
                    Some(m) if m != n => {
                        let opt = model.dims.iter().find(|(s, _)| s == dim).map(|d| d.1.as_str()).unwrap_or("?");
                        return Err(bad(format!("`{}` says the {opt} size is {n}, but an earlier array says {m}", d.json)));
                    }
                    _ => {}
                }
            }
        }
        let steps = steps.unwrap_or(0);
        if steps == 0 {
            return Err(bad("the input `x` must have at least one time step (one row per step)".into()));
        }
        for (n, _) in &model.dims {
            if dims.get(n).copied().unwrap_or(0) == 0 {
                return Err(bad(format!("size `{n}` is 0; every size must be at least 1")));
            }
        }
        Ok((Params { values: arrays }, Sizes { steps, dims }))
    }
}

/// The arrays of a params text, read as JSON values with every check and its message (the general reader).
fn checked_arrays(model: &Model, text: &str, file: &str) -> Result<BTreeMap<Symbol, Array>> {
    // one pass; a key given twice would silently lose one of its values: refused, with its position
    let Strict(v) = serde_json::from_str::<Strict>(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Error::Usage(format!("{file}:{}:{}: {e}\nhint: give each key once", e.line(), e.column())),
        _ => Error::Usage(format!("{file}:{}:{}: not valid JSON: {e}\nhint: the file holds one object, e.g. {{\"W_r\": [[0.5, -0.3], [0.2, 0.4]], …}}", e.line(), e.column())),
    })?;
    let Value::Object(obj) = v else {
        return Err(Error::Usage(format!("{file}: the params file must hold one JSON object with keys {}", keys(model))));
    };
    let bad = |msg: String| Error::Usage(format!("{file}: {msg}"));
    for k in obj.keys() {
        if !model.order.iter().any(|n| model.decls.get(n).is_some_and(|d| &d.json == k)) {
            return Err(bad(format!("unknown key `{k}`; the keys are {}", keys(model))));
        }
    }
    let mut arrays = BTreeMap::new();
    for name in &model.order {
        let Some(d) = model.decls.get(name) else { continue };
        let val = obj.get(&d.json).ok_or_else(|| bad(format!("missing key `{}`; the keys are {}", d.json, keys(model))))?;
        let rank = d.dims.len() + usize::from(d.timed);
        let arr = read_array(val, rank).map_err(|m| {
            let shape = match (d.timed, d.json == "target") {
                (true, true) => " (with --many-to-many the target has one row per time step: [[…], […], …])",
                (true, false) => " (one row per time step: [[…], […], …])",
                _ => "",
            };
            bad(format!("`{}`: {m}{shape}", d.json))
        })?;
        if d.distribution {
            check_distribution(d, &arr).map_err(bad)?;
        }
        arrays.insert(*name, arr);
    }
    Ok(arrays)
}

/// The arrays of a well-formed params text, read in one pass straight into numbers by [`Scan`] (no JSON
/// values, no visitor per number: at (64, 64, 1000) reading was most of `grad --params`). `None` when anything
/// is not as it should be — a key twice, unknown or missing, an escaped key, a string, an empty, ragged or
/// wrongly nested array, a number JSON does not allow or that is not finite, a target that is not a
/// distribution, text after the object — and [`checked_arrays`] then reports it.
fn fast_arrays(model: &Model, text: &str) -> Option<BTreeMap<Symbol, Array>> {
    let mut read = Scan { b: text.as_bytes(), at: 0 }.object()?;
    let mut arrays = BTreeMap::new();
    for name in &model.order {
        let d = model.decls.get(name)?;
        let at = read.iter().position(|(k, _)| *k == d.json)?;
        let (_, a) = read.swap_remove(at);
        if a.shape.len() != d.dims.len() + usize::from(d.timed) || (d.distribution && check_distribution(d, &a).is_err()) {
            return None;
        }
        arrays.insert(*name, a);
    }
    // a key the model does not know is left over
    read.is_empty().then_some(arrays)
}

/// A byte scanner for the one shape a params file has: an object of numbers and rectangular arrays of numbers.
struct Scan<'t> {
    b: &'t [u8],
    at: usize,
}

impl<'t> Scan<'t> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.at) {
            self.at += 1;
        }
    }
    /// The next byte after white space, consumed.
    fn next(&mut self) -> Option<u8> {
        self.ws();
        let c = *self.b.get(self.at)?;
        self.at += 1;
        Some(c)
    }
    fn object(&mut self) -> Option<Vec<(&'t str, Array)>> {
        let mut out: Vec<(&str, Array)> = vec![];
        (self.next()? == b'{').then_some(())?;
        loop {
            (self.next()? == b'"').then_some(())?;
            let start = self.at;
            // a key without escapes (every key a model declares is one)
            let len = self.b.get(start..)?.iter().position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)?;
            (self.b[start + len] == b'"').then_some(())?;
            let key = std::str::from_utf8(&self.b[start..start + len]).ok()?;
            self.at = start + len + 1;
            (self.next()? == b':').then_some(())?;
            if out.iter().any(|(k, _)| *k == key) {
                return None;
            }
            let mut data = vec![];
            let shape = self.value(&mut data, 0)?;
            out.push((key, Array { shape, data }));
            match self.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        self.ws();
        (self.at == self.b.len()).then_some(out)
    }
    /// A number or a non-empty rectangular array of them, appended to `data`; its shape.
    fn value(&mut self, data: &mut Vec<f64>, depth: usize) -> Option<Vec<usize>> {
        self.ws();
        if self.b.get(self.at) != Some(&b'[') {
            data.push(self.number()?);
            return Some(vec![]);
        }
        if depth >= 4 {
            return None;
        }
        self.at += 1;
        self.ws();
        // a row of numbers (most of a file): read straight through
        if self.b.get(self.at) != Some(&b'[') {
            let mut n = 0;
            loop {
                self.ws();
                data.push(self.number()?);
                n += 1;
                match self.next()? {
                    b',' => continue,
                    b']' => return Some(vec![n]),
                    _ => return None,
                }
            }
        }
        let (mut rows, mut shape) = (0, None::<Vec<usize>>);
        loop {
            let sh = self.value(data, depth + 1)?;
            match &shape {
                None => shape = Some(sh),
                Some(s) if *s != sh => return None,
                _ => {}
            }
            rows += 1;
            match self.next()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
        let mut full = shape?;
        full.insert(0, rows);
        Some(full)
    }
    /// A number as JSON writes it — -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? — finite, correctly rounded.
    fn number(&mut self) -> Option<f64> {
        let start = self.at;
        let digits = |s: &mut Scan| {
            let from = s.at;
            while s.b.get(s.at).is_some_and(u8::is_ascii_digit) {
                s.at += 1;
            }
            s.at > from
        };
        if self.b.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let lead = self.at;
        digits(self).then_some(())?;
        if self.b[lead] == b'0' && self.at > lead + 1 {
            return None;
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self).then_some(())?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.b.get(self.at) {
                self.at += 1;
            }
            digits(self).then_some(())?;
        }
        // SAFETY: the bytes from `start` to here are ASCII (digits, '-', '+', '.', 'e', 'E', checked above): UTF-8
        let text = unsafe { std::str::from_utf8_unchecked(&self.b[start..self.at]) };
        let v: f64 = text.parse().ok()?;
        v.is_finite().then_some(v)
    }
}

/// Each row (last index) of a target declared `distribution` is ≥ 0 and sums to 1: what the softmax loss needs.
fn check_distribution(d: &crate::model::Decl, a: &Array) -> std::result::Result<(), String> {
    let m = a.shape.last().copied().unwrap_or(1).max(1);
    for (r, row) in a.data.chunks(m).enumerate() {
        let total: f64 = row.iter().sum();
        let at = if d.timed { format!("step {}", r + 1) } else { "the target".to_string() };
        let what = match row.iter().position(|v| *v < 0.0) {
            Some(i) => format!("{at} has the negative entry {} at position {}", row[i], i + 1),
            None if (total - 1.0).abs() > 1e-9 => format!("{at} sums to {total}"),
            None => continue,
        };
        return Err(format!("`{}` must be a probability distribution for --loss softmax-ce: entries ≥ 0 that sum to 1, but {what}", d.json));
    }
    Ok(())
}

fn keys(model: &Model) -> String {
    model.order.iter().filter_map(|n| model.decls.get(n)).map(|d| d.json.as_str()).collect::<Vec<_>>().join(", ")
}

fn read_array(v: &Value, rank: usize) -> std::result::Result<Array, String> {
    let mut data = vec![];
    let shape = read_into(v, rank, &mut data)?;
    Ok(Array { shape, data })
}

/// The numbers of `v` appended to `data` (row-major), and its shape: every row of the same length.
fn read_into(v: &Value, rank: usize, data: &mut Vec<f64>) -> std::result::Result<Vec<usize>, String> {
    match (rank, v) {
        (0, Value::Number(n)) => {
            data.push(n.as_f64().filter(|x| x.is_finite()).ok_or("a number is not finite")?);
            Ok(vec![])
        }
        (0, other) => Err(format!("expected a number, found {}", kind(other))),
        // a row of numbers (most of a large file): the same checks and messages as below, without a shape per entry
        (1, Value::Array(items)) => {
            data.reserve(items.len());
            for (i, it) in items.iter().enumerate() {
                read_into(it, 0, data).map_err(|m| format!("entry {i}: {m}"))?;
            }
            Ok(vec![items.len()])
        }
        (r, Value::Array(items)) => {
            let mut shape: Option<Vec<usize>> = None;
            for (i, it) in items.iter().enumerate() {
                let sh = read_into(it, r - 1, data).map_err(|m| format!("entry {i}: {m}"))?;
                match &shape {
                    None => shape = Some(sh),
                    Some(s) if *s != sh => return Err(format!("entry {i} has shape {sh:?}, but entry 0 has {s:?} (rows must have equal length)")),
                    _ => {}
                }
            }
            let mut full = vec![items.len()];
            full.extend(shape.unwrap_or_else(|| vec![0; r - 1]));
            Ok(full)
        }
        (r, other) => Err(format!("expected an array of rank {r}, found {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value read in one pass that refuses an object naming a key twice (serde_json's `Value` would keep
/// only the last one).
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Strict;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Self::Value, E> {
                Ok(Strict(Value::Bool(b)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(Strict(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E> {
                Ok(Strict(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Self::Value, E> {
                Ok(Strict(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(Strict(Value::String(v.to_string())))
            }
            fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(Strict(v)) = a.next_element::<Strict>()? {
                    out.push(v);
                }
                Ok(Strict(Value::Array(out)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> std::result::Result<Self::Value, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(k) = a.next_key::<String>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("the key `{k}` is given twice")));
                    }
                    let Strict(v) = a.next_value::<Strict>()?;
                    out.insert(k, v);
                }
                Ok(Strict(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(bias: bool, many_to_many: bool) -> crate::session::Session {
        let o = crate::session::Options { bias, many_to_many, sizes: vec![("hidden".into(), 4), ("input".into(), 3)], steps: Some(5), ..Default::default() };
        crate::session::Session::load(o).unwrap()
    }

    #[test]
    fn the_fast_reader_gives_the_general_readers_numbers_or_steps_aside() {
        for (bias, m2m) in [(false, false), (true, false), (true, true)] {
            let s = session(bias, m2m);
            let text = serde_json::to_string(&s.params.to_json(&s.model)).unwrap();
            let fast = fast_arrays(&s.model, &text).expect("a well-formed file is read by the fast reader");
            let slow = checked_arrays(&s.model, &text, "p.json").unwrap();
            assert_eq!(fast.len(), slow.len());
            for (k, a) in &slow {
                let f = &fast[k];
                assert_eq!(f.shape, a.shape, "{k}");
                assert_eq!(f.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), a.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "{k}");
            }
            // integers, exponents and a BOM-free pretty layout read the same too
            let pretty = serde_json::to_string_pretty(&s.params.to_json(&s.model)).unwrap().replace("0.0,", "0,").replace("e-", "E-");
            assert_eq!(fast_arrays(&s.model, &pretty).map(|m| m.len()), Some(slow.len()));
        }
        // whatever is not exactly right goes to the general reader, which says what is wrong
        let s = session(false, false);
        let good = serde_json::to_string(&s.params.to_json(&s.model)).unwrap();
        let bad = [
            good.replacen("{", "{\"W_r\": 1, ", 1),                 // a key twice
            good.replacen("{", "{\"extra\": [1], ", 1),             // an unknown key
            good.replacen("\"W_r\"", "\"W_q\"", 1),                  // a missing key (and an unknown one)
            good.replacen("[[", "[[\"a\", ", 1),                     // a string among the numbers
            good.replacen("[[", "[[], [", 1),                        // an empty row, rows of unequal length
            good.replacen("]]", "], [1]]", 1),                       // a short row
            good.replacen("[[", "[[[1]], [", 1),                     // nested too deep
            good.replacen("[[", "[[1e999, ", 1),                     // out of range
            good.replacen("[[", "[[+1, ", 1),                        // numbers JSON does not allow …
            good.replacen("[[", "[[.5, ", 1),
            good.replacen("[[", "[[1., ", 1),
            good.replacen("[[", "[[01, ", 1),
            good.replacen("[[", "[[1e, ", 1),
            good.replacen("[[", "[[-, ", 1),
            good.replacen("[[", "[[NaN, ", 1),
            good.replacen("[[", "[[1,, ", 1),                        // … and lists it does not allow
            good.replacen("]]", "],]]", 1),
            "[]".to_string(),                                        // not an object
            format!("{good} x"),                                     // trailing text
        ];
        for b in &bad {
            assert!(fast_arrays(&s.model, b).is_none(), "steps aside for {}", &b[..b.len().min(80)]);
            assert!(checked_arrays(&s.model, b, "p.json").is_err() || Params::from_json(&s.model, b, "p.json").is_err(), "an error for {}", &b[..b.len().min(80)]);
        }
        // an escaped key is fine JSON: the general reader decodes it
        let escaped = good.replacen("\"W_r\"", "\"W\\u005fr\"", 1);
        assert!(fast_arrays(&s.model, &escaped).is_none());
        assert_eq!(checked_arrays(&s.model, &escaped, "p.json").unwrap()[&Symbol::from("W_r")].data, s.params.values[&Symbol::from("W_r")].data);
    }

    /// Both readers round every number correctly: the same bits for numbers of every size and spelling.
    #[test]
    fn both_readers_give_the_same_bits_for_any_number() {
        use rand_core::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let s = session(false, false);
        let mut j = s.params.to_json(&s.model);
        let mut spelled = vec![];
        for _ in 0..20_000 {
            let v = f64::from_bits(rng.next_u64());
            if !v.is_finite() {
                continue;
            }
            let w = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((rng.next_u32() % 40) as i32 - 20);
            // shortest round trip, scientific, and 25 significant digits (more than f64 holds: rounding matters)
            spelled.extend([format!("{v:?}"), format!("{w:e}"), format!("{w:.24e}"), format!("{}", w.round())]);
        }
        let x = format!("[{}]", spelled.iter().map(|t| format!("[{t}, 0, 0]")).collect::<Vec<_>>().join(", "));
        j["x"] = serde_json::from_str::<serde_json::Value>("[]").unwrap();
        let text = serde_json::to_string(&j).unwrap().replace("\"x\":[]", &format!("\"x\":{x}"));
        let fast = fast_arrays(&s.model, &text).expect("the fast reader reads it");
        let slow = checked_arrays(&s.model, &text, "p.json").unwrap();
        let key = Symbol::from("x");
        assert_eq!(fast[&key].data.len(), spelled.len() * 3);
        let bits = |a: &Array| a.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast[&key]), bits(&slow[&key]));
        // and each is the correctly rounded value of what is written
        for (t, v) in spelled.iter().zip(fast[&key].data.iter().step_by(3)) {
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{t}");
        }
    }
}
