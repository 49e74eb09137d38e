//! The names a fresh bound index is chosen from — a, b, c, d, e, f, g, j, l, u, v, w, z, then a1, b1, … (the
//! blog names its levels a, b, c, …) — and a set of symbols in use that finds the first free one of them without
//! trying every name before it. A derivation at T = 1000 has a thousand levels, each with its own letter: trying
//! the names one by one made picking a name cost as much as the names already in use.
use egg::Symbol;
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

/// The letters of the sequence, in order (then the same with 1, 2, … after them).
pub const LETTERS: &str = "abcdefgjluvwz";

const ROUND: usize = LETTERS.len();

/// The place of `s` in the sequence (`a` 0, `z` 12, `a1` 13, …), if it is one of its names.
pub fn place(s: Symbol) -> Option<usize> {
    let text = s.as_str();
    let mut chars = text.chars();
    let letter = LETTERS.find(chars.next()?)?;
    let digits = chars.as_str();
    let round = match digits {
        "" => 0,
        _ if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) => return None,
        _ => digits.parse::<usize>().ok().filter(|r| *r < usize::MAX / (2 * ROUND))?,
    };
    Some(round * ROUND + letter)
}

/// The name at place `at` of the sequence (interned once per process).
pub fn name_at(at: usize) -> Symbol {
    static NAMES: LazyLock<Mutex<Vec<Symbol>>> = LazyLock::new(Default::default);
    let make = |k: usize| {
        let letter = &LETTERS[k % ROUND..k % ROUND + 1];
        match k / ROUND {
            0 => Symbol::from(letter),
            round => Symbol::from(format!("{letter}{round}")),
        }
    };
    let Ok(mut names) = NAMES.lock() else { return make(at) };
    while names.len() <= at.min(1 << 16) {
        let k = names.len();
        names.push(make(k));
    }
    names.get(at).copied().unwrap_or_else(|| make(at))
}

/// Symbols in use, with a bit for each place of the sequence that one of them takes.
#[derive(Default, Clone, Debug)]
pub struct Names {
    set: BTreeSet<Symbol>,
    taken: Places,
}

impl Names {
    /// Add `s`; whether it was new.
    pub fn insert(&mut self, s: Symbol) -> bool {
        let new = self.set.insert(s);
        if new && let Some(at) = place(s) {
            self.taken.set(at, true);
        }
        new
    }

    pub fn remove(&mut self, s: &Symbol) {
        if self.set.remove(s)
            && let Some(at) = place(*s)
        {
            self.taken.set(at, false);
        }
    }

    pub fn contains(&self, s: &Symbol) -> bool {
        self.set.contains(s)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Symbol> {
        self.set.iter()
    }

    /// The places of the sequence these names take.
    pub fn places(&self) -> &Places {
        &self.taken
    }
}

/// A set of places of the sequence (a bit each).
#[derive(Default, Clone, Debug)]
pub struct Places(Vec<u64>);

impl Places {
    /// The places taken by any of `names`.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a Symbol>) -> Places {
        let mut p = Places::default();
        for s in names {
            if let Some(at) = place(*s) {
                p.set(at, true);
            }
        }
        p
    }

    fn set(&mut self, at: usize, on: bool) {
        let (w, b) = (at / 64, 1u64 << (at % 64));
        if self.0.len() <= w {
            if !on {
                return;
            }
            self.0.resize(w + 1, 0);
        }
        if on { self.0[w] |= b } else { self.0[w] &= !b }
    }

    /// The first place taken by none of `sets`.
    pub fn first_free(sets: &[&Places]) -> usize {
        let words = sets.iter().map(|p| p.0.len()).max().unwrap_or(0);
        for w in 0..words {
            let taken = sets.iter().fold(0u64, |acc, p| acc | p.0.get(w).copied().unwrap_or(0));
            if taken != u64::MAX {
                return w * 64 + (!taken).trailing_zeros() as usize;
            }
        }
        words * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_follow_the_sequence() {
        for at in [0, 1, 12, 13, 14, 25, 26, 1000] {
            assert_eq!(place(name_at(at)), Some(at));
        }
        assert_eq!(name_at(0).as_str(), "a");
        assert_eq!(name_at(13).as_str(), "a1");
        assert_eq!(name_at(27).as_str(), "b2");
        for other in ["", "h", "i", "k", "a0", "a01", "ab", "a1b", "x", "A", "a-1"] {
            assert_eq!(place(Symbol::from(other)), None, "{other}");
        }
    }

    #[test]
    fn the_first_free_place_skips_every_taken_one() {
        let mut n = Names::default();
        for at in 0..200 {
            n.insert(name_at(at));
        }
        n.insert(Symbol::from("i"));
        let fixed = Places::of(&[name_at(200), name_at(201)]);
        assert_eq!(Places::first_free(&[n.places(), &fixed]), 202);
        n.remove(&name_at(70));
        assert_eq!(Places::first_free(&[n.places(), &fixed]), 70);
        assert_eq!(Places::first_free(&[]), 0);
    }
}
