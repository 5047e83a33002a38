//! Parsing a filter whose `~=` pattern has bracketed classes under `(?i)`, beside the `regex`
//! crate compiling the same pattern with its own (Unicode) classes: the cost of Go's ASCII
//! Perl classes (`filters/goregex.rs`), which should stay near the `regex` crate's.
#![allow(clippy::unwrap_used)] // a benchmark: failures should stop it loudly

use criterion::{BenchmarkId, Criterion};
use oci_content::filters::Filter;

/// Case-insensitive classes beside negated Perl classes: a name that starts with a letter
/// (a word character, not a digit), then word characters, dots and dashes.
const PATTERNS: &[(&str, &str)] = &[
    ("letter_start", r"(?i)^[^\W\d_][\w.-]*$"),
    ("not_word_or_e", r"(?i)[é\W]"),
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("filters");
    for &(name, pattern) in PATTERNS {
        let filter = format!("labels.name~={pattern}");
        g.bench_function(BenchmarkId::new("parse", name), |b| {
            b.iter(|| Filter::parse(&filter).unwrap())
        });
        // Baseline: the regex crate on the pattern as written (Unicode classes).
        g.bench_function(BenchmarkId::new("regex_unicode", name), |b| {
            b.iter(|| regex::Regex::new(pattern).unwrap())
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
