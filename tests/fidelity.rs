//! The derivation and the notes beside the blog (issue 15): each test fails on the output before its fix.
mod common;
use common::{run, stdout};

#[test]
fn eq_15_says_the_direction_of_the_sum_over_w_r_changes() {
    let out = stdout(&run(&["derive", "--wrt", "W_x"]));
    let line = out.lines().find(|l| l.starts_with("(15)")).expect("a (15) beat");
    assert!(line.contains("the direction in which W⁽ʳ⁾'s index is summed changes"), "{line}");
    assert!(line.contains("summed over its first index") && line.contains("W⁽ʳ⁾ᵀ"), "{line}");
    assert!(!line.contains("as in the forward pass |"), "{line}");
}

#[test]
fn a_value_under_a_part_says_it_is_the_whole_gradients() {
    let out = stdout(&run(&["derive"]));
    let lines: Vec<&str> = out.lines().collect();
    let mut parts = 0;
    for (i, l) in lines.iter().enumerate() {
        // a part's formula: ∂h⁽³⁾[a]/∂W⁽ʳ⁾[i,p] = …, its value on the next line that starts with "value"
        if l.trim_start().starts_with("∂h⁽") {
            let value = lines[i + 1..].iter().find(|v| v.trim_start().starts_with("value")).unwrap();
            assert!(value.trim_start().starts_with("value of ∂L/∂W⁽ʳ⁾ with this part put back [["), "{value}");
            parts += 1;
        }
    }
    assert!(parts >= 3, "(9), (10), (11) are parts: {out}");
}

#[test]
fn the_notes_typeset_the_numbers_as_a_matrix_and_the_titles_math_as_math() {
    let tex = stdout(&run(&["derive", "--wrt", "W_x", "--format", "latex"]));
    assert!(tex.contains("the gradient & $\\begin{pmatrix} 0.40485 & 0.39193 \\\\ -0.13265"), "{tex}");
    assert!(!tex.contains("[["), "raw [[…]] numbers in the notes");
    for title in tex.lines().filter(|l| l.starts_with("\\noindent\\textbf")) {
        assert!(!title.contains("$^{("), "a superscript outside math: {title}");
        assert!(!title.chars().any(|c| "⁽⁾∂Σδᵀ".contains(c)), "Unicode math left in a title: {title}");
    }
    assert!(tex.contains("one entry $W^{(x)}[i,q]$"), "{tex}");
    assert!(tex.contains("$W^{(r)\\top}$"), "{tex}");
    let ko = stdout(&run(&["derive", "--wrt", "W_x", "--format", "latex", "--lang", "ko"]));
    assert!(ko.contains("$h^{(3)}$까지"), "a Korean particle stays outside the math: {ko}");
}

#[test]
fn nested_terms_are_indented_deeper_and_a_step_keeps_to_one_page() {
    let tex = stdout(&run(&["derive", "--format", "latex"]));
    // (10): δ(b,i) s⁽¹⁾[p] + Σ_c … sits inside the bracket opened by the outer + Σ_b …: one level deeper
    let ten: Vec<&str> = tex.lines().skip_while(|l| !l.contains("\\textbf{(10) }")).take_while(|l| !l.contains("\\tag{10}")).collect();
    let inner = tex.lines().find(|l| l.contains("\\tag{10}")).unwrap();
    assert!(inner.trim_start().starts_with("&\\quad \\qquad + \\sum_{c}"), "{inner}\n{ten:?}");
    assert!(tex.lines().any(|l| l.trim_start().starts_with("&\\quad + \\sum_{b}")), "the outer term stays at the first level");
    // every step is kept with its formula: a \keeptogether before each title
    let titles = tex.matches("\\noindent\\textbf").count();
    assert_eq!(tex.matches("\\keeptogether{").count(), titles, "{tex}");
    assert!(tex.contains("\\newcommand{\\keeptogether}"));
}

#[test]
fn the_notes_have_the_matrix_form_the_per_step_terms_and_for_all_gradients_a_summary() {
    let tex = stdout(&run(&["derive", "--format", "latex"]));
    assert!(tex.contains("\\subsection*{Matrix form}"), "{tex}");
    assert!(tex.contains("W^{(r)\\top} \\partial L/\\partial h^{(k+1)} \\qquad k = 2 \\text{ down to } 1 \\qquad \\checkmark"), "{tex}");
    assert!(tex.contains("\\subsection*{Each time step's term}") && tex.contains("$k = 3$ & $\\begin{pmatrix}"), "{tex}");
    let all = stdout(&run(&["derive", "--wrt", "all", "--steps", "2", "--format", "latex"]));
    let summary = all.split("\\section*{Summary: the final form of every gradient}").nth(1).expect("a summary section");
    assert_eq!(summary.matches("\\checkmark").count(), 4, "one row per gradient: {summary}");
    assert!(summary.contains("\\sum_{k=1}^{2} \\frac{\\partial L}{\\partial h^{(k)}_{i}} \\, x^{(k)}_{q}"), "{summary}");
}

#[test]
fn formulas_write_sigma_for_the_models_activation_as_the_blog_does() {
    for act in ["tanh", "relu", "sigmoid"] {
        let out = stdout(&run(&["derive", "--activation", act]));
        assert!(out.lines().next().unwrap().contains(&format!("σ = {act}")), "{out}");
        assert!(out.contains("(1–2)  s⁽ᵗ⁾[i] = σ(h⁽ᵗ⁾[i])"), "{out}");
        assert!(out.contains("(8)  s⁽³⁾ = σ(h⁽³⁾): the σ′ factor"), "{out}");
        assert!(out.contains("= Σ_a ∂L/∂s⁽³⁾[a] σ′(h⁽³⁾[a]) ∂h⁽³⁾[a]/∂W⁽ʳ⁾[i,p]"), "{out}");
        let unicode = bptt::Act::named(act).unwrap().row().unicode;
        assert!(out.contains(&format!("diag({unicode}′(h⁽³⁾))")), "the matrix form names the function: {out}");
    }
    let tex = stdout(&run(&["derive", "--format", "latex"]));
    assert!(tex.contains("activation $\\sigma$ = tanh") && tex.contains("\\sigma'\\left(h^{(3)}_{a}\\right)"), "{tex}");
    // what is printed reads back: σ in a formula is the model's activation for check
    let o = run(&["check", "--activation", "relu", "sum_{k=1}^{T} dL/ds^(k)[i] * sigma'(h^(k)[i]) * s^(k-1)[p]"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn eq_5_is_a_step_of_its_own_for_every_loss_and_eq_6_fills_the_loss_in() {
    for loss in ["mse", "softmax-ce"] {
        let out = stdout(&run(&["derive", "--loss", loss]));
        let five = out.split("\n(5)  ").nth(1).unwrap_or_else(|| panic!("{loss}: no (5):\n{out}"));
        assert!(five.starts_with("L is a function of the output y only"), "{five}");
        assert!(five.contains("rules: chain-output\n       = Σ_m ∂L/∂y[m] ∂y[m]/∂W⁽ʳ⁾[i,p]"), "{loss}: {five}");
        let error = if loss == "mse" { "y[m] − ȳ[m]" } else { "ŷ[m] − ȳ[m]" };
        let six = out.split("\n(6)  ").nth(1).unwrap();
        assert!(six.contains(&format!("= Σ_m ({error}) ∂y[m]/∂W⁽ʳ⁾[i,p]")), "{loss}: {six}");
        // the blog's numbers 4–12, each once, in order
        let tags: Vec<u32> = out.lines().filter_map(|l| l.strip_prefix('(')?.split(')').next()?.parse().ok()).filter(|n| (4..=12).contains(n)).collect();
        let firsts: Vec<u32> = tags.iter().copied().fold(vec![], |mut v, t| {
            if v.last() != Some(&t) {
                v.push(t);
            }
            v
        });
        assert_eq!(firsts[..9], [4, 5, 6, 7, 8, 9, 10, 11, 12], "{loss}: {tags:?}");
    }
}

#[test]
fn eq_14_shows_the_chain_of_simple_derivatives_before_it_is_folded() {
    for (loss, chain) in [("mse", "(Σ_m (y[m] − ȳ[m]) W⁽ʸ⁾[m,a])"), ("softmax-ce", "(Σ_j (ŷ[j] − ȳ[j]) W⁽ʸ⁾[j,a])")] {
        let out = stdout(&run(&["derive", "--wrt", "W_x", "--loss", loss]));
        let fourteen = out.split("\n(14) ").nth(1).unwrap();
        let form = fourteen.lines().find(|l| l.trim_start().starts_with("= ")).unwrap();
        assert!(form.contains(&format!("{chain} σ′(h⁽³⁾[a]) ∂h⁽³⁾[a]/∂W⁽ˣ⁾[i,q]")), "{loss}: {form}");
        assert!(!form.contains("∂L/∂h⁽³⁾"), "(14) is not folded yet: {form}");
        let fold = out.split("\n  ·  the chain folded").nth(1).unwrap();
        assert!(fold.contains("= Σ_a ∂L/∂h⁽³⁾[a] ∂h⁽³⁾[a]/∂W⁽ˣ⁾[i,q]"), "{fold}");
    }
}

#[test]
fn eq_19_to_21_keep_the_chains_and_eq_22_folds_them_with_the_chain_rule() {
    let out = stdout(&run(&["derive", "--wrt", "W_x"]));
    let form = |eq: &str| {
        let b = out.split(&format!("\n({eq}) ")).nth(1).unwrap();
        b.lines().skip_while(|l| !l.trim_start().starts_with("= ")).take_while(|l| !l.trim_start().starts_with("value")).collect::<Vec<_>>().join("\n")
    };
    // (20) and (21): chains of simple derivatives (σ′ and W⁽ʳ⁾ factors), not yet folded into ∂L/∂h⁽ᵏ⁾
    for eq in ["20", "21"] {
        let f = form(eq);
        assert!(f.contains("σ′(h⁽²⁾[p]) (Σ_b W⁽ʳ⁾[p,b]"), "({eq}) keeps the chain: {f}");
        assert!(!f.contains("∂L/∂h⁽²⁾") && !f.contains("∂L/∂h⁽¹⁾"), "({eq}) is not folded yet: {f}");
    }
    assert!(form("21").contains("∂s⁽⁰⁾[c]/∂W⁽ˣ⁾[i,q]"), "{}", form("21"));
    // (22): the chain rule folds them
    let b22 = out.split("\n(22) ").nth(1).unwrap();
    assert!(b22.contains("fold-h") && b22.contains("fold-s"), "{b22}");
    assert!(form("22").contains("= ∂L/∂h⁽¹⁾[i] x⁽¹⁾[q] + ∂L/∂h⁽²⁾[i] x⁽²⁾[q] + ∂L/∂h⁽³⁾[i] x⁽³⁾[q]"), "{}", form("22"));
}

/// Item 6: a letter names one sum throughout a derivation — the sum over s⁽²⁾'s index keeps its letter from (15)
/// to (21), each new level takes a letter no earlier step showed, and the levels are a, b, c, d (none skipped).
#[test]
fn dummy_index_letters_are_stable_and_never_reused() {
    let out = stdout(&run(&["derive", "--wrt", "W_x"]));
    let beat = |eq: &str| out.split(&format!("\n({eq}) ")).nth(1).unwrap().split("\n\n").next().unwrap().to_string();
    // the letter of a quantity's index: ∂s⁽²⁾[x] → x
    let letter = |text: &str, q: &str| -> String {
        let at = text.find(&format!("{q}[")).unwrap_or_else(|| panic!("no {q} in {text}")) + format!("{q}[").len();
        text[at..].chars().next().unwrap().to_string()
    };
    let s2: Vec<String> = ["15", "17", "18", "19", "20", "21"].iter().map(|e| letter(&beat(e), "∂s⁽²⁾")).collect();
    assert!(s2.iter().all(|l| *l == s2[0]), "∂s⁽²⁾'s index changes letter: {s2:?}");
    // (20) has ∂s⁽¹⁾[b]; (21) unfolds it to σ′(h⁽¹⁾[b]) … with the same letter
    let s1: Vec<String> = [("20", "∂s⁽¹⁾"), ("21", "σ′(h⁽¹⁾")].iter().map(|(e, q)| letter(&beat(e), q)).collect();
    assert_eq!(s1[0], s1[1], "∂s⁽¹⁾'s index changes letter");
    let s0 = letter(&beat("21"), "∂s⁽⁰⁾");
    let h3 = letter(&beat("15"), "∂h⁽³⁾");
    let mut all = vec![h3.clone(), s2[0].clone(), s1[0].clone(), s0.clone()];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "one letter per level: h⁽³⁾ {h3}, s⁽²⁾ {}, s⁽¹⁾ {}, s⁽⁰⁾ {s0}", s2[0], s1[0]);
    // W⁽ʳ⁾ at T = 5: the levels below h⁽⁵⁾[a] are b, c, d — the blog's letters, d not skipped
    let out = stdout(&run(&["derive", "--steps", "5"]));
    let b11 = out.split("\n(11) ").nth(1).unwrap().split("\n\n").next().unwrap();
    for l in ["Σ_b W⁽ʳ⁾[a,b]", "Σ_c W⁽ʳ⁾[b,c]", "Σ_d W⁽ʳ⁾[c,d]"] {
        assert!(b11.contains(l), "{l} in {b11}");
    }
}

/// Item 6: the initial state is one symbol, s⁽⁰⁾, in the text and the notes — the model block says it is the
/// given parameter — and `check` proves a formula whichever spelling (s0 or s⁽⁰⁾) it uses.
#[test]
fn the_initial_state_is_one_symbol() {
    for wrt in ["W_r", "s0"] {
        let tex = stdout(&run(&["derive", "--wrt", wrt, "--format", "latex"]));
        assert!(!tex.contains("s_{0}") && !tex.contains("mathrm{s0}"), "{wrt}: s0 spelled apart from s^{{(0)}}");
        assert!(tex.contains("s^{(0)}_{i} &\\quad \\text{given (the parameter \\texttt{s0})}"), "{wrt}: {tex}");
        let text = stdout(&run(&["derive", "--wrt", wrt]));
        assert!(text.contains("s⁽⁰⁾[i]   given (the parameter s0)"), "{text}");
        assert!(!text.lines().filter(|l| !l.contains("the parameter s0")).any(|l| l.contains("s0[")), "{wrt}: {text}");
    }
    let ko = stdout(&run(&["derive", "--lang", "ko"]));
    assert!(ko.contains("s⁽⁰⁾[i]   주어진 값 (파라미터 s0)"), "{ko}");
    for f in ["dL/dh^(1)[i] * s0[p]", "dL/dh^(1)[i] * s^(0)[p]", "∂L/∂h⁽¹⁾[i] s⁽⁰⁾[p]"] {
        let o = run(&["check", "--steps", "1", f]);
        assert!(stdout(&o).contains("✓ PROVED"), "{f}: {}", stdout(&o));
    }
    for f in ["dL/ds^(0)[j]", "dL/ds0[j]", "sum_a dL/dh^(1)[a] * W_r[a,j]"] {
        let o = run(&["check", "--wrt", "s0", "--steps", "2", f]);
        assert!(stdout(&o).contains("✓ PROVED"), "{f}: {}", stdout(&o));
    }
}

/// The notes' model block gives each definition's range as the text report does (h⁽ᵗ⁾ and s⁽ᵗ⁾ for t ≥ 1).
#[test]
fn the_notes_model_block_gives_the_range_of_each_definition() {
    let tex = stdout(&run(&["derive", "--format", "latex"]));
    let model = tex.split("\\begin{align}").nth(1).unwrap().split("\\end{align}").next().unwrap();
    assert_eq!(model.matches("\\text{for $t \\geq 1$}").count(), 2, "{model}");
    let ko = stdout(&run(&["derive", "--format", "latex", "--lang", "ko"]));
    assert!(ko.contains("\\qquad \\text{$t \\geq 1$}"), "{ko}");
}
