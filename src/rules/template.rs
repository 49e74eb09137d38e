//! Templates: a rule, model or plan file's text for one run — the lines whose variant tags (`[m2m]`, `[bias]`…)
//! hold are kept and the others blanked, then the placeholders (`{act}`, `{out}`, `{T}`, `{T-1}`, `{Tsup}`,
//! `{T-1sup}`) are replaced. The text is scanned as bytes; `tests/scan.rs` keeps the plain definition as the oracle.

/// Values for the placeholders in rule, model and plan files, and the model variant that picks tagged lines.
pub struct Template {
    pub act: String,
    pub steps: usize,
    /// The variant tags that hold (`m2o` or `m2m`, `mse` or `softmax-ce`, and `bias`): a line starting with
    /// `[TAG …]` is kept only when every tag in the brackets holds.
    pub tags: Vec<String>,
    /// The output quantity the loss reads (the model's `output` line), for `{out}`.
    pub out: String,
}

/// The variant tags a file may use in `[TAG …]` line prefixes.
pub const TAGS: &[&str] = &["m2o", "m2m", "mse", "softmax-ce", "bias"];

impl Template {
    /// Keep the lines whose `[TAG …]` prefix holds (the prefix becomes spaces, so columns in error messages stay
    /// right) and blank the others; then replace the placeholders.
    pub fn expand(&self, text: &str) -> String {
        let values = self.values();
        let mut out = String::with_capacity(text.len() + 64);
        let mut kept = String::new();
        let mut start = 0;
        while start < text.len() {
            let end = memchr::memchr(b'\n', &text.as_bytes()[start..]).map_or(text.len(), |i| start + i + 1);
            let line = &text[start..end];
            start = end;
            let b = line.as_bytes();
            let lead = b.iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
            // most lines have no tag: a printable ASCII character other than `[` after the indent (anything else
            // — `[`, other white space, a non-ASCII character — takes the careful way)
            match b.get(lead) {
                Some(c) if c.is_ascii_graphic() && *c != b'[' => placeholders(line, &values, &mut out),
                _ => {
                    kept.clear();
                    self.keep_line(line, &mut kept);
                    placeholders(&kept, &values, &mut out);
                }
            }
        }
        out
    }

    /// One line of [`Template::expand`]'s first part: kept (its tag prefix made spaces), or blanked.
    fn keep_line(&self, line: &str, kept: &mut String) {
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let tags = body[lead..].strip_prefix('[').and_then(|r| r.split_once(']')).filter(|(t, _)| {
            let t: Vec<&str> = t.split_whitespace().collect();
            !t.is_empty() && t.iter().all(|w| TAGS.contains(w))
        });
        match tags {
            Some((t, _)) if t.split_whitespace().all(|w| self.tags.iter().any(|h| h == w)) => {
                kept.push_str(&body[..lead]);
                kept.push_str(&" ".repeat(t.len() + 2));
                kept.push_str(&line[lead + t.len() + 2..]);
            }
            Some(_) => {
                kept.push_str(&" ".repeat(body.len()));
                kept.push_str(&line[body.len()..]);
            }
            None => kept.push_str(line),
        }
    }

    /// The placeholders and what each becomes: `{act}`, `{out}`, `{T}`, `{T-1}`, `{Tsup}`, `{T-1sup}`.
    fn values(&self) -> [(&'static str, String); 6] {
        let before = self.steps.saturating_sub(1).to_string();
        [
            ("{act}", self.act.clone()),
            ("{out}", self.out.clone()),
            ("{T}", self.steps.to_string()),
            ("{T-1}", before.clone()),
            ("{Tsup}", crate::notation::superscript(&self.steps.to_string())),
            ("{T-1sup}", crate::notation::superscript(&before)),
        ]
    }
}

/// Copy `text` to `out` with each placeholder of `values` replaced; any other `{…}` is left as it is.
fn placeholders(text: &str, values: &[(&'static str, String)], out: &mut String) {
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'{', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match values.iter().find(|(p, _)| tail.starts_with(p)) {
            Some((p, v)) => {
                out.push_str(v);
                rest = &tail[p.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
}
