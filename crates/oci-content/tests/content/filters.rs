//! `~=` filters against containerd's own: the same label values, the same filter strings,
//! asked of a private containerd (`ctr content ls -q FILTER`) and of
//! [`oci_content::filters::Filter`]. containerd compiles the expression with Go's `regexp`,
//! whose `\d`, `\s`, `\w` and `\b` are ASCII while `(?i)`, `.` and `\pL` are Unicode.

use std::collections::BTreeSet;
use std::fs;

use oci_content::filters::Filter;
use oci_content::{Info, Labels};
use oci_types::Digest;

use crate::daemon::{self, Daemon};

/// Label values: ASCII, Latin, digits and spaces from outside ASCII, a vertical tab, the
/// Kelvin sign.
const VALUES: &[&str] = &[
    "abc_09", "ABC", "é", "aé", "Straße", "STRAßE", "٣", // ARABIC-INDIC DIGIT THREE
    "7", "1 2", " ", "\u{0B}", "\u{A0}", "\u{212A}", // KELVIN SIGN
    "αβγ",
];

/// Patterns, written bare in the filter (quoted with `/` or `"`, containerd reads `\w` as a
/// Go string escape, and rejects it).
const PATTERNS: &[&str] = &[
    r"^\w+$",
    r"^\W+$",
    r"^\d$",
    r"^\D$",
    r"^\s$",
    r"^\S$",
    r"^[\w]+$",
    r"^[^\W]+$",
    r"^[\d\s]+$",
    r"^[é\w]+$",
    r"\bé",
    r"a\b",
    r"a\B",
    r"(?i)^\w$",
    r"(?i)abc",
    r"(?i)straße",
    r"^\pL+$",
    r"^\p{Greek}+$",
    r"^.$",
    r"(?s)^.$",
    r"^[[:alpha:]]+$",
    r"(?i)^[[:upper:]]+$",
    // Members bracketed beside a negated Perl class (goregex.rs), with and without (?i).
    r"^[^\W\d]+$",
    r"(?i)^[é\W]+$",
];

/// Counted repetitions at and past Go's limit: 1,000 copies, nested counts multiplied, `{0}`
/// starting the count again.
const REPEATS: &[&str] = &[
    "a{1000}",
    "a{1001}",
    "a{2,1000}",
    "a{2,1001}",
    "a{1001,}",
    "(a{3}){333}",
    "(a{3}){334}",
    "((a{10}){10}){10}",
    "(((a{10}){10}){10}){10}",
    "((a{1000}){0}){1000}",
    "(a{1000})*",
];

#[test]
fn regular_expressions_match_what_containerd_matches() {
    let Some((containerd, ctr)) = daemon::tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&containerd, &ctr, tmp.path(), false);

    let mut by_digest = Vec::new();
    for (i, value) in VALUES.iter().enumerate() {
        let blob = format!("filter blob {i}\n");
        let file = tmp.path().join(format!("blob-{i}"));
        fs::write(&file, &blob).unwrap();
        daemon.ctr_ok_from(&["content", "ingest", &format!("filter-{i}")], &file);
        let digest = Digest::sha256(blob.as_bytes());
        daemon.ctr_ok(&["content", "label", digest.as_str(), &format!("v={value}")]);
        by_digest.push((digest, *value));
    }

    let mut containerd_answers = Vec::new();
    for pattern in PATTERNS {
        let filter = format!("labels.v~={pattern}");
        let out = daemon.ctr_ok(&["content", "ls", "-q", &filter]);
        let listed: BTreeSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let theirs: BTreeSet<&str> = by_digest
            .iter()
            .filter(|(digest, _)| listed.contains(digest.as_str()))
            .map(|(_, value)| *value)
            .collect();

        let parsed = Filter::parse(&filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let ours: BTreeSet<&str> = by_digest
            .iter()
            .filter(|(digest, value)| {
                let mut labels = Labels::new();
                labels.insert("v".into(), (*value).into());
                parsed.matches(&Info::for_update(digest.clone(), labels))
            })
            .map(|(_, value)| *value)
            .collect();
        assert_eq!(ours, theirs, "{filter}: ours, then containerd's");
        containerd_answers.push((*pattern, theirs));
    }

    // containerd matches nothing with a pattern Go refuses, so `.|^(?:P)` lists every blob
    // when Go takes P and none when it refuses it; our parser must take or refuse it too.
    // (Quoted with `/`: a bare value ends at the comma of `{2,1000}`.)
    let mut go_refuses = Vec::new();
    for repeat in REPEATS {
        let filter = format!("labels.v~=/.|^(?:{repeat})/");
        let out = daemon.ctr_ok(&["content", "ls", "-q", &filter]);
        let listed = String::from_utf8(out.stdout).unwrap().lines().count();
        assert!(
            listed == 0 || listed == VALUES.len(),
            "{filter}: containerd listed {listed}"
        );
        let go_takes = listed == VALUES.len();
        let ours = Filter::parse(&filter);
        assert_eq!(ours.is_ok(), go_takes, "{filter}: {ours:?}");
        if !go_takes {
            go_refuses.push(*repeat);
        }
    }
    // ... which means something only if Go refuses some and takes others.
    assert_eq!(
        go_refuses,
        [
            "a{1001}",
            "a{2,1001}",
            "a{1001,}",
            "(a{3}){334}",
            "(((a{10}){10}){10}){10}"
        ],
        "the repetitions containerd refuses"
    );

    // The comparison means something only if containerd's answers are Go's: ASCII `\w`,
    // Unicode case folding.
    let answer = |pattern: &str| {
        containerd_answers
            .iter()
            .find(|(p, _)| *p == pattern)
            .map(|(_, values)| values.clone())
            .unwrap()
    };
    assert_eq!(
        answer(r"^\w+$"),
        BTreeSet::from(["abc_09", "ABC", "7"]),
        "containerd's \\w"
    );
    assert_eq!(
        answer(r"(?i)abc"),
        BTreeSet::from(["abc_09", "ABC"]),
        "containerd's (?i)"
    );
}
