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

/// The arrays of a well-formed params text, read in one pass straight into numbers (no JSON values: at
/// (64, 64, 1000) the values were most of `grad --params`). `None` when anything is not as it should be — a key
/// twice, unknown or missing, a string, an empty, ragged or wrongly nested array, a non-finite number, a target
/// that is not a distribution — and [`checked_arrays`] then reports it.
fn fast_arrays(model: &Model, text: &str) -> Option<BTreeMap<Symbol, Array>> {
    let Fast(mut read) = serde_json::from_str::<Fast>(text).ok()?;
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

/// A params object whose every value is a number or a rectangular array of finite numbers, each key once.
struct Fast(Vec<(String, Array)>);

impl<'de> serde::Deserialize<'de> for Fast {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Fast;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of numeric arrays")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> std::result::Result<Fast, A::Error> {
                let mut out: Vec<(String, Array)> = vec![];
                while let Some(k) = a.next_key::<String>()? {
                    if out.iter().any(|(o, _)| *o == k) {
                        return Err(serde::de::Error::custom("a key twice"));
                    }
                    let mut data = vec![];
                    let shape = a.next_value_seed(Numbers(&mut data))?;
                    out.push((k, Array { shape, data }));
                }
                Ok(Fast(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Appends the numbers of one value to a row-major buffer and gives its shape.
struct Numbers<'a>(&'a mut Vec<f64>);

impl<'de> serde::de::DeserializeSeed<'de> for Numbers<'_> {
    type Value = Vec<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<usize>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Numbers<'_> {
    type Value = Vec<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a finite number or a rectangular array of them")
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Vec<usize>, E> {
        if !v.is_finite() {
            return Err(E::custom("not finite"));
        }
        self.0.push(v);
        Ok(vec![])
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Vec<usize>, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Vec<usize>, E> {
        self.visit_f64(v as f64)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Vec<usize>, A::Error> {
        let mut rows = 0;
        let mut shape: Option<Vec<usize>> = None;
        while let Some(sh) = a.next_element_seed(Numbers(self.0))? {
            match &shape {
                None => shape = Some(sh),
                // (a row of numbers compares empty shapes: no call into memcmp for them)
                Some(s) if s.len() != sh.len() || (!s.is_empty() && *s != sh) => return Err(serde::de::Error::custom("ragged")),
                _ => {}
            }
            rows += 1;
        }
        let Some(mut inner) = shape else { return Err(serde::de::Error::custom("empty")) };
        inner.insert(0, rows);
        Ok(inner)
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
            "[]".to_string(),                                        // not an object
            format!("{good} x"),                                     // trailing text
        ];
        for b in &bad {
            assert!(fast_arrays(&s.model, b).is_none(), "steps aside for {}", &b[..b.len().min(80)]);
            assert!(checked_arrays(&s.model, b, "p.json").is_err() || Params::from_json(&s.model, b, "p.json").is_err(), "an error for {}", &b[..b.len().min(80)]);
        }
    }
}
