//! The bindings of index and time symbols while the entry-by-entry evaluator walks an expression: a stack (a Σ
//! binds its index for its body), looked up by symbol, the most recent binding first. The unrolled eq. 11 nests one
//! Σ per time step, so at T = 1000 the stack is a thousand deep, and every memo key looks up the gradient's own
//! indices, bound at the bottom: a scan from the top made each lookup cost the depth. The top and bottom few
//! bindings are scanned; those in between are found through a map.
use egg::Symbol;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// How many bindings at the top and at the bottom of the stack are scanned.
const SCAN: usize = 8;

#[derive(Default, Clone, Debug)]
pub struct Env {
    stack: Vec<(Symbol, i64)>,
    /// For each symbol, where it is bound in `stack` at positions `SCAN..` (most recent last).
    middle: FxHashMap<Symbol, SmallVec<[u32; 2]>>,
}

impl Env {
    pub fn push(&mut self, b: (Symbol, i64)) {
        if self.stack.len() >= SCAN {
            self.middle.entry(b.0).or_default().push(self.stack.len() as u32);
        }
        self.stack.push(b);
    }

    pub fn pop(&mut self) -> Option<(Symbol, i64)> {
        let b = self.stack.pop()?;
        if self.stack.len() >= SCAN
            && let Some(at) = self.middle.get_mut(&b.0)
        {
            at.pop();
        }
        Some(b)
    }

    pub fn extend(&mut self, bindings: impl IntoIterator<Item = (Symbol, i64)>) {
        for b in bindings {
            self.push(b);
        }
    }

    /// The value `s` is bound to (its most recent binding).
    pub fn lookup(&self, s: Symbol) -> Option<i64> {
        let top = self.stack.len().saturating_sub(SCAN);
        if let Some((_, v)) = self.stack[top..].iter().rev().find(|(k, _)| *k == s) {
            return Some(*v);
        }
        // a binding of `s` in the map is below `top` (one at or above it was found by the scan)
        if top > SCAN
            && let Some(at) = self.middle.get(&s).and_then(|at| at.last())
        {
            return Some(self.stack[*at as usize].1);
        }
        self.stack[..top.min(SCAN)].iter().rev().find(|(k, _)| *k == s).map(|(_, v)| *v)
    }
}

impl From<&[(Symbol, i64)]> for Env {
    fn from(bindings: &[(Symbol, i64)]) -> Env {
        let mut env = Env::default();
        env.extend(bindings.iter().copied());
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain stack scanned from the top, through deep nesting, shadowing and popping.
    #[test]
    fn lookups_agree_with_a_scan_of_the_stack() {
        let names: Vec<Symbol> = ["i", "p", "a", "b", "k"].iter().map(|s| Symbol::from(*s)).collect();
        let mut env = Env::default();
        let mut plain: Vec<(Symbol, i64)> = vec![];
        let mut x = 7u64;
        for step in 0..3000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if x >> 62 == 0 && !plain.is_empty() {
                assert_eq!(env.pop(), plain.pop());
            } else {
                let b = (names[(x >> 33) as usize % names.len()], step);
                env.push(b);
                plain.push(b);
            }
            for s in &names {
                assert_eq!(env.lookup(*s), plain.iter().rev().find(|(k, _)| k == s).map(|(_, v)| *v), "step {step}");
            }
            assert_eq!(env.lookup(Symbol::from("z9")), None);
        }
    }
}
