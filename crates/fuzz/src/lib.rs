//! Bounded random and mutation testing on stable Rust (no nightly, no external crate): a small
//! xorshift generator, a byte mutator with a dictionary, and [`run`], which runs a case many
//! times from a fixed seed, catches panics, and names the case seed that panicked so it can be
//! replayed alone.
//!
//! The parsers' unit tests call [`run`] with a few thousand cases; `tools/fuzz/run.sh` runs
//! the same tests for longer through the environment:
//!
//! - `HOPTHU_FUZZ_SEED`: the run's seed (decimal or `0x…`; default fixed, so runs repeat);
//! - `HOPTHU_FUZZ_CASES`: cases per target (default: the test's own number);
//! - `HOPTHU_FUZZ_SECONDS`: run each target for this long instead of a number of cases;
//! - `HOPTHU_FUZZ_REPLAY`: run only the case with this case seed (printed on a panic).
//!
//! Only a dev-dependency: nothing here is in the `hopthu` binary.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// xorshift64* (Vigna): small, fast, and good enough to choose mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero (xorshift's fixed point).
        Rng(seed ^ 0x2545_f491_4f6c_dd1d | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Up to `max` random bytes, biased towards the bytes parsers care about.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.byte()).collect()
    }

    /// A byte: often one of the separators and boundaries of text protocols.
    pub fn byte(&mut self) -> u8 {
        const SPECIAL: &[u8] = b"\r\n\0 \t{}()[]<>\"\\:;,.=+-*%~/@0123456789\x7f\x80\xc3\xe2\xff";
        if self.one_in(2) {
            *self.pick(SPECIAL)
        } else {
            self.next_u64() as u8
        }
    }
}

/// `input` changed one to four times: bits flipped, bytes set, ranges removed, duplicated or
/// swapped, dictionary tokens or random bytes inserted, the end cut off. The result stays
/// below `4 × len + 4096` bytes.
pub fn mutate(rng: &mut Rng, input: &[u8], dictionary: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    let cap = input.len() * 4 + 4096;
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.byte();
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(len);
                out.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(256)).min(len);
                let piece = out[start..end].to_vec();
                let most = if rng.one_in(8) { 64 } else { 3 };
                let times = 1 + rng.below(most);
                for _ in 0..times {
                    if out.len() + piece.len() > cap {
                        break;
                    }
                    let at = rng.below(out.len() + 1);
                    out.splice(at..at, piece.iter().copied());
                }
            }
            4 if !dictionary.is_empty() => {
                let token = rng.pick(dictionary);
                out.splice(at..at, token.iter().copied());
            }
            5 => {
                let piece = rng.bytes(32);
                out.splice(at..at, piece);
            }
            6 => out.truncate(at),
            7 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                out.swap(a, b);
            }
            _ => {
                let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                let (a, b) = (a.min(b), a.max(b));
                out[a..b].reverse();
            }
        }
        out.truncate(cap);
    }
    out
}

/// The run's settings, from the environment (see the crate documentation).
#[derive(Debug, Clone)]
pub struct Budget {
    pub seed: u64,
    pub cases: u64,
    pub time: Option<Duration>,
    pub replay: Option<u64>,
}

fn number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

impl Budget {
    pub fn from_env(default_cases: u64) -> Budget {
        Budget {
            seed: number("HOPTHU_FUZZ_SEED").unwrap_or(0x686f_7074_6875),
            cases: number("HOPTHU_FUZZ_CASES").unwrap_or(default_cases),
            time: number("HOPTHU_FUZZ_SECONDS").map(Duration::from_secs),
            replay: number("HOPTHU_FUZZ_REPLAY"),
        }
    }
}

/// The seed of case `i` of a run: each case starts its own generator, so one case can be
/// replayed without the ones before it.
pub fn case_seed(seed: u64, i: u64) -> u64 {
    seed ^ i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Runs `case` for the budget of the environment (`default_cases` cases without one). A panic
/// fails the run with the target's name and the case seed to replay. Returns the number of
/// cases run.
pub fn run(name: &str, default_cases: u64, mut case: impl FnMut(&mut Rng)) -> u64 {
    let budget = Budget::from_env(default_cases);
    let one = |case: &mut dyn FnMut(&mut Rng), seed: u64| {
        let mut rng = Rng::new(seed);
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!(
                "fuzz target {name}: the case with seed {seed:#x} panicked: {message}\n\
                 replay it with HOPTHU_FUZZ_REPLAY={seed:#x}"
            );
        }
    };
    if let Some(seed) = budget.replay {
        one(&mut case, seed);
        return 1;
    }
    let deadline = budget.time.map(|t| Instant::now() + t);
    let mut i = 0;
    loop {
        let more = match deadline {
            Some(deadline) => Instant::now() < deadline,
            None => i < budget.cases,
        };
        if !more {
            break;
        }
        one(&mut case, case_seed(budget.seed, i));
        i += 1;
    }
    if deadline.is_some() || budget.cases != default_cases {
        eprintln!("fuzz target {name}: {i} cases, no panic");
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations() {
        let input = b"a1 LOGIN {5}\r\nuser pass\r\n";
        let a: Vec<Vec<u8>> = (0..50)
            .map(|i| mutate(&mut Rng::new(i), input, &[b"{0}\r\n"]))
            .collect();
        let b: Vec<Vec<u8>> = (0..50)
            .map(|i| mutate(&mut Rng::new(i), input, &[b"{0}\r\n"]))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|m| m != input));
        assert!(a.iter().all(|m| m.len() <= input.len() * 4 + 4096));
    }

    #[test]
    fn a_panic_names_the_case_seed() {
        let caught = catch_unwind(|| {
            run("demo", 100, |rng| assert!(rng.below(10) != 3, "three"));
        });
        let panic = caught.expect_err("some case draws 3");
        let text = panic.downcast_ref::<String>().unwrap();
        assert!(text.contains("HOPTHU_FUZZ_REPLAY=0x"), "{text}");
        assert!(text.contains("three"), "{text}");
    }
}
