//! The words of the reports in each language (the titles and diagnoses are data, in the plans and the mistake
//! catalogue). The Korean words are the blog's own: 체인룰, 곱의 미분, 도함수, 시점, hidden state, 크로네커 델타.
use crate::options::Lang;

/// Every fixed phrase a report shows.
pub struct Words {
    pub for_a: &'static str,
    pub model: &'static str,
    pub for_t_ge_1: &'static str,
    /// A definition that only names a parameter (s⁽⁰⁾ = the parameter s0): `{p}` is the parameter's name.
    pub given: &'static str,
    pub any_t: &'static str,
    pub any_t_ok: &'static str,
    pub any_t_bad: &'static str,
    pub value: &'static str,
    /// The value under a part's formula is the whole gradient's, with the part put back: `{g}` is its name.
    pub value_of_whole: &'static str,
    pub change: &'static str,
    pub rules: &'static str,
    pub aside: &'static str,
    pub where_: &'static str,
    pub per_step: &'static str,
    pub matrix_form: &'static str,
    pub difference: &'static str,
    pub not_evaluated: &'static str,
    pub loss: &'static str,
    pub check: &'static str,
    pub steps_equal: &'static str,
    pub fd_agree: &'static str,
    pub fd_disagree: &'static str,
    pub seed: &'static str,
    pub seed_scaled: &'static str,
    pub params: &'static str,
    /// A recursion's range, as it runs: `{k} = {hi} down to {lo}`; one step: `{k} = {lo}`.
    pub down_to: &'static str,
    pub fd: &'static str,
}

pub const EN: Words = Words {
    for_a: "for a",
    model: "model",
    for_t_ge_1: "for t ≥ 1",
    given: "given (the parameter {p})",
    any_t: "for any number of steps T",
    any_t_ok: "the rules derive exactly this form for T = {first}, …, {last}, and its value equals the gradient (worst relative difference {err})",
    any_t_bad: "this form does not match the derivation for T = {bad}",
    value: "value",
    value_of_whole: "value of {g} with this part put back",
    change: "change",
    rules: "rules:",
    aside: "worked out on the side; both sides evaluated equal {mark} (difference {err}); the gradient is unchanged",
    where_: "where",
    per_step: "per time step",
    matrix_form: "matrix form   (column vectors; a gradient has the shape of its parameter — the denominator layout;\n               in the row-vector convention of d2l/Keras, W_hh = W⁽ʳ⁾ᵀ and every gradient is transposed)",
    difference: "difference",
    not_evaluated: "could not be evaluated",
    loss: "loss",
    check: "check",
    steps_equal: "every step equal to the one before (worst relative change {err})",
    fd_agree: "agree",
    fd_disagree: "disagree",
    seed: "seed",
    seed_scaled: "matrices with more than 3 columns drawn scaled by √(3/columns): spectral radius below 1",
    params: "params",
    down_to: "for {k} = {hi} down to {lo}",
    fd: "finite differences {verdict} (max abs error {err}, central, h = {h})",
};

pub const KO: Words = Words {
    for_a: "—",
    model: "모델",
    for_t_ge_1: "t ≥ 1",
    given: "주어진 값 (파라미터 {p})",
    any_t: "임의의 시점 수 T에 대해",
    any_t_ok: "T = {first}, …, {last}에 대해 규칙이 정확히 이 식을 유도하고, 그 값이 기울기와 같다 (최대 상대 차이 {err})",
    any_t_bad: "T = {bad}에서 이 식이 유도 결과와 다르다",
    value: "값",
    value_of_whole: "이 부분을 넣은 {g}의 값",
    change: "변화",
    rules: "규칙:",
    aside: "옆에서 따로 계산; 양변의 값이 같다 {mark} (차이 {err}); 기울기는 그대로",
    where_: "여기서",
    per_step: "시점별",
    matrix_form: "행렬 형태   (열벡터; 기울기는 파라미터와 같은 모양 — 분모 레이아웃;\n               d2l/Keras의 행벡터 관례에서는 W_hh = W⁽ʳ⁾ᵀ이고 모든 기울기가 전치된다)",
    difference: "차이",
    not_evaluated: "계산할 수 없음",
    loss: "loss",
    check: "검증",
    steps_equal: "모든 단계가 이전 단계와 같은 값 (최대 상대 변화 {err})",
    fd_agree: "일치",
    fd_disagree: "불일치",
    seed: "시드",
    seed_scaled: "열이 3개보다 많은 행렬은 √(3/열 수)로 축소: 스펙트럼 반지름 1 미만",
    params: "파라미터 파일",
    down_to: "{k} = {hi}부터 {lo}까지 (거슬러 올라가며)",
    fd: "유한 차분 {verdict} (최대 절대 오차 {err}, 중앙 차분, h = {h})",
};

/// The words of `lang`.
pub fn of(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    }
}

/// `   for k = 2 down to 1` (with its three leading spaces), or nothing without a range.
pub fn range(lang: Lang, r: Option<(egg::Symbol, i64, i64)>) -> String {
    match r {
        None => String::new(),
        Some((k, lo, hi)) if lo == hi && lang == Lang::En => format!("   for {}", crate::notation::k_range(k.as_str(), lo, hi)),
        Some((k, lo, hi)) if lo == hi => format!("   {k} = {lo}"),
        Some((k, lo, hi)) => format!("   {}", fill_range(of(lang).down_to, k, lo, hi)),
    }
}

/// A range template (`{k} = {hi} down to {lo}`) filled in.
pub fn fill_range(template: &str, k: egg::Symbol, lo: i64, hi: i64) -> String {
    template.replace("{k}", k.as_str()).replace("{hi}", &hi.to_string()).replace("{lo}", &lo.to_string())
}

/// The terminal columns `text` takes (a Hangul syllable takes two).
pub fn cols(text: &str) -> usize {
    text.chars().map(|c| if ('\u{1100}'..='\u{11ff}').contains(&c) || ('\u{3130}'..='\u{318f}').contains(&c) || ('\u{ac00}'..='\u{d7a3}').contains(&c) { 2 } else { 1 }).sum()
}

/// `word` padded to `width` terminal columns.
pub fn pad(word: &str, width: usize) -> String {
    format!("{word}{}", " ".repeat(width.saturating_sub(cols(word))))
}

/// The phrases of a check report (templates: `{x}` is filled in).
pub struct CheckWords {
    pub check: &'static str,
    pub yours: &'static str,
    pub test: &'static str,
    pub proof: &'static str,
    pub verdict: &'static str,
    pub diagnosis: &'static str,
    pub differs: &'static str,
    pub counterexample: &'static str,
    pub yours_value: &'static str,
    pub gradient_value: &'static str,
    pub first_step: &'static str,
    pub not_a_number: &'static str,
    pub undefined: &'static str,
    pub agrees_at: &'static str,
    pub point: &'static str,
    pub points: &'static str,
    pub no_proof: &'static str,
    pub verdict_agrees: &'static str,
    pub proved_exact: &'static str,
    pub proved_expanded: &'static str,
    pub proved_products: &'static str,
    pub yours_rules: &'static str,
    pub derived_rules: &'static str,
    pub none_explains: &'static str,
    pub one_mistake: &'static str,
    pub any_mistake: &'static str,
    pub refuted: &'static str,
    pub proved: &'static str,
    /// A derivation file (`--steps-file`), line by line.
    pub line: &'static str,
    pub line_proved: &'static str,
    pub line_agrees: &'static str,
    pub line_breaks: &'static str,
    pub line_follows: &'static str,
    pub line_differs_too: &'static str,
    pub first_not_gradient: &'static str,
    pub first_not_previous: &'static str,
    pub all_proved: &'static str,
    pub proved_lines: &'static str,
    pub agreeing_lines: &'static str,
    pub none: &'static str,
    pub none_differs: &'static str,
}

pub const CHECK_EN: CheckWords = CheckWords {
    check: "check",
    yours: "yours",
    test: "test",
    proof: "proof",
    verdict: "verdict",
    diagnosis: "diagnosis",
    differs: "differs from the gradient",
    counterexample: "counterexample at {point}, entry {entry}:",
    yours_value: "yours",
    gradient_value: "gradient",
    first_step: "the first time step whose term differs: k={k} (yours {yours}, true {true})",
    not_a_number: "yours is not a number there: a formula that is undefined somewhere is not the gradient",
    undefined: "it reads a value that does not exist: {what}",
    agrees_at: "agrees with the gradient at {n} {points} ({seeds}; {sizes}; per entry within {tol} relative + {floor} of the largest entry, the rounding of f64)",
    point: "point",
    points: "random points",
    no_proof: "not found: the rules did not bring both sides to the same form",
    verdict_agrees: "AGREES at {n} {points}, not proved",
    proved_exact: "it is {x}, up to the order of terms and factors; the rules from the goal to it:",
    proved_expanded: "expanded by the rules, yours and the derived result {x}",
    proved_products: "become the same sum of {n} products (terms and factors in any order, Σ indices renamed, δ contracted)",
    yours_rules: "yours:  ",
    derived_rules: "derived:",
    none_explains: "no single mistake of the catalogue (rules/mistakes.catalogue) explains it",
    one_mistake: "it equals the true gradient with this typical mistake:",
    any_mistake: "it equals the true gradient with any one of these typical mistakes:",
    refuted: "✗ REFUTED",
    proved: "✓ PROVED",
    line: "line",
    line_proved: "✓ equal to the gradient (proved)",
    line_agrees: "✓ equal to the gradient (at the random points, not proved)",
    line_breaks: "✗ breaks the chain",
    line_follows: "· follows from the line before (the error carries on)",
    line_differs_too: "· differs from the line before as well",
    first_not_gradient: "is not equal to the gradient",
    first_not_previous: "is the first line that is not equal to the one before it",
    all_proved: "✓ every line is proved equal to the gradient",
    proved_lines: "proved   {lines} {list}",
    agreeing_lines: "agrees   {lines} {list} (at the random points only, not proved)",
    none: "none",
    none_differs: "✓ no line differs from the gradient; not every line is proved",
};

pub const CHECK_KO: CheckWords = CheckWords {
    check: "검증",
    yours: "내 식",
    test: "검사",
    proof: "증명",
    verdict: "판정",
    diagnosis: "진단",
    differs: "기울기와 다르다",
    counterexample: "반례: {point}, 원소 {entry}:",
    yours_value: "내 식",
    gradient_value: "기울기",
    first_step: "항이 처음으로 다른 시점: k={k} (내 식 {yours}, 참값 {true})",
    not_a_number: "내 식이 그 점에서 수가 아니다: 어딘가에서 정의되지 않는 식은 기울기가 아니다",
    undefined: "존재하지 않는 값을 읽는다: {what}",
    agrees_at: "{n}개의 {points}에서 기울기와 일치 ({seeds}; {sizes}; 원소마다 상대 오차 {tol} + 가장 큰 원소의 {floor} 이내, f64의 반올림)",
    point: "점",
    points: "무작위 점",
    no_proof: "찾지 못함: 규칙으로 양변을 같은 형태로 만들지 못했다",
    verdict_agrees: "{n}개의 {points}에서 일치 (증명은 아님)",
    proved_exact: "항과 인수의 순서를 빼면 {x}와 같다; 목표에서 이 식까지의 규칙:",
    proved_expanded: "규칙으로 전개하면 내 식과 유도된 결과 {x}가",
    proved_products: "같은 {n}개 곱의 합이 된다 (항과 인수의 순서 무관, Σ 인덱스 이름 변경, δ 축약)",
    yours_rules: "내 식:",
    derived_rules: "유도: ",
    none_explains: "오류 목록(rules/mistakes.catalogue)의 어떤 실수 하나로도 설명되지 않는다",
    one_mistake: "다음과 같은 흔한 실수를 한 식과 같다:",
    any_mistake: "다음 흔한 실수 중 하나를 한 식과 같다:",
    refuted: "✗ 반박됨",
    proved: "✓ 증명됨",
    line: "줄",
    line_proved: "✓ 기울기와 같다 (증명됨)",
    line_agrees: "✓ 기울기와 같다 (무작위 점에서만, 증명은 아님)",
    line_breaks: "✗ 여기서 유도가 끊어진다",
    line_follows: "· 앞 줄에서 이어진다 (오류가 계속된다)",
    line_differs_too: "· 앞 줄과도 다르다",
    first_not_gradient: "기울기와 같지 않다",
    first_not_previous: "앞 줄과 같지 않은 첫 줄이다",
    all_proved: "✓ 모든 줄이 기울기와 같음이 증명됨",
    proved_lines: "증명     {list}번 줄",
    agreeing_lines: "일치     {list}번 줄 (무작위 점에서만, 증명은 아님)",
    none: "없음",
    none_differs: "✓ 기울기와 다른 줄은 없다; 모든 줄이 증명되지는 않았다",
};

/// The check report's phrases in `lang`.
pub fn check_of(lang: Lang) -> &'static CheckWords {
    match lang {
        Lang::En => &CHECK_EN,
        Lang::Ko => &CHECK_KO,
    }
}
