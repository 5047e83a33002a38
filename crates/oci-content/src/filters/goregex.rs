//! Go's meaning for the regular expressions of `~=`.
//!
//! containerd compiles the value of `~=` with Go's `regexp` package. Go reads the same RE2
//! syntax as the `regex` crate, with one difference in meaning that users meet: in Go, `\d`,
//! `\s`, `\w` and `\b` are ASCII (`\w` is `[0-9A-Za-z_]`, `\s` is `[\t\n\f\r ]`, without the
//! vertical tab), while `.`, `(?i)` and `\pL` are Unicode. The `regex` crate makes the Perl
//! classes Unicode too, and has no switch for them alone. So before compiling, each Perl
//! class is rewritten as the bracketed class Go means (a nested class inside brackets), and
//! each word-boundary assertion is made ASCII with `(?-u:...)`. Everything else is left as
//! written, so case folding under `(?i)` applies to the rewritten classes exactly as Go's
//! parser applies it to its own (`(?i)\w` matches the Kelvin sign `K` in both).
//!
//! One more rewrite keeps compiling as fast as the `regex` crate's own classes: in a bracketed
//! class that holds a negated Perl class or a nested class (`[a\W]`, `[a[^b]]`), the other
//! members are bracketed too (`[[a][^0-9A-Za-z_]]`), which matches the same. Under `(?i)`
//! the `regex` crate folds a bracketed class's members together, one code point at a time,
//! unless each is already folded; a nested class comes out folded, a literal does not, and
//! `[^0-9A-Za-z_]` runs to U+10FFFF. Unwrapped, `(?i)^[^\W\d_][\w.-]*$` took 9.4 ms to
//! parse, 11 times the `regex` crate's 0.83 ms for its Unicode classes; wrapped, 71 µs
//! (`cargo bench -p oci-content --bench filters`).
//!
//! Go also refuses repetitions of more than 1,000 copies, nested ones multiplied
//! (`a{1001}`, `((a{10}){10}){11}`; `{0}` starts the count again), which the `regex` crate
//! takes up to its size limit; they are refused here too.

use std::borrow::Cow;

use regex_syntax::ast::{
    self, Assertion, Ast, ClassPerl, ClassPerlKind, ClassSetItem, ClassSetUnion, Repetition,
    RepetitionKind, RepetitionRange,
};

/// Most copies of anything that nested repetitions may make, as in Go's `regexp/syntax`.
const MAX_REPEAT: u32 = 1000;

/// A repetition Go refuses: more than [`MAX_REPEAT`] copies, nested counts multiplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InvalidRepeat {
    /// The repetition operator as written (`{1001}`).
    pub(super) op: String,
}

impl std::fmt::Display for InvalidRepeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Go's words.
        write!(f, "invalid repeat count: `{}`", self.op)
    }
}

/// Go's `pattern` as the `regex` crate should read it: ASCII Perl classes and word
/// boundaries spelled out, members beside nested classes bracketed; or the repetition Go
/// would refuse. A pattern that does not parse is returned as written: compiling it reports
/// the error.
pub(super) fn go_to_regex(pattern: &str) -> Result<Cow<'_, str>, InvalidRepeat> {
    let Ok(parsed) = ast::parse::Parser::new().parse(pattern) else {
        return Ok(Cow::Borrowed(pattern));
    };
    // The visitor keeps its own stack on the heap, so a deeply nested pattern (up to the
    // parser's nest limit) cannot overflow ours.
    let visitor = Edits {
        pattern,
        edits: Vec::new(),
        copies: Vec::new(),
    };
    let mut edits = ast::visit(&parsed, visitor)?.edits;
    if edits.is_empty() {
        return Ok(Cow::Borrowed(pattern));
    }
    // Stable: edits at one offset stay in the order they were made (a `]` closing one
    // member before the `[` opening the next).
    edits.sort_by_key(|&(start, _, _)| start);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, edit) in edits {
        out.push_str(&pattern[at..start]);
        match edit {
            Edit::Replace(text) => out.push_str(&text),
            Edit::Insert(text) => out.push_str(text),
            Edit::Ascii => {
                out.push_str("(?-u:");
                out.push_str(&pattern[start..end]);
                out.push(')');
            }
        }
        at = end;
    }
    out.push_str(&pattern[at..]);
    Ok(Cow::Owned(out))
}

/// What becomes of the pattern, as edits of its byte ranges `start..end`. Replaced ranges
/// are leaves (Perl classes, word boundaries, a literal `^`) and insertions are empty, so no
/// two edits overlap.
struct Edits<'p> {
    pattern: &'p str,
    edits: Vec<(usize, usize, Edit)>,
    /// The counted repetitions around the node being visited: copies, where the operator
    /// is, and how many copies of what is inside the repetitions down to there still allow.
    copies: Vec<(u32, (usize, usize), u32)>,
}

enum Edit {
    /// Replaced with this text.
    Replace(String),
    /// This text inserted (the range is empty).
    Insert(&'static str),
    /// Wrapped in `(?-u:...)`.
    Ascii,
}

impl Edits<'_> {
    fn perl(&mut self, class: &ClassPerl) {
        let members = match class.kind {
            ClassPerlKind::Digit => "0-9",
            // Escapes rather than a space: under `(?x)` a literal space would be ignored.
            ClassPerlKind::Space => r"\t\n\x0C\r\x20",
            ClassPerlKind::Word => "0-9A-Za-z_",
        };
        let caret = if class.negated { "^" } else { "" };
        let span = class.span;
        self.edits.push((
            span.start.offset,
            span.end.offset,
            Edit::Replace(format!("[{caret}{members}]")),
        ));
    }

    fn assertion(&mut self, assertion: &Assertion) {
        use ast::AssertionKind::{EndLine, EndText, StartLine, StartText};
        if matches!(assertion.kind, StartLine | StartText | EndLine | EndText) {
            return;
        }
        // `\b`, `\B` and the `regex` crate's own `\b{start}`, `\<` and the like (to Go, a
        // boundary and the literal `{start}`, a literal `<`): all word boundaries, made ASCII.
        let span = assertion.span;
        self.edits
            .push((span.start.offset, span.end.offset, Edit::Ascii));
    }

    /// Go's limit on repetitions (`repeatIsValid` in `regexp/syntax`): counts of at most
    /// [`MAX_REPEAT`], and along any path of nested counted repetitions a product of at
    /// most that. A repetition of zero copies is not looked into, so below it the count
    /// starts again. `*`, `+` and `?` do not count.
    fn repetition(&mut self, repetition: &Repetition) -> Result<(), InvalidRepeat> {
        let RepetitionKind::Range(range) = &repetition.op.kind else {
            return Ok(());
        };
        let (min, max) = match *range {
            RepetitionRange::Exactly(n) => (n, Some(n)),
            RepetitionRange::AtLeast(n) => (n, None),
            RepetitionRange::Bounded(m, n) => (m, Some(n)),
        };
        let span = repetition.op.span;
        let op = (span.start.offset, span.end.offset);
        let copies = max.unwrap_or(min);
        let allowed = self
            .copies
            .last()
            .map_or(MAX_REPEAT, |&(_, _, allowed)| allowed);
        if min > MAX_REPEAT || max.is_some_and(|n| n > MAX_REPEAT) {
            return Err(self.invalid(op));
        }
        if copies > allowed {
            // Go names the innermost repetition around this one whose copies, multiplied
            // down to here, are too many.
            let mut product = u64::from(copies);
            for &(count, outer, _) in self.copies.iter().rev() {
                product *= u64::from(count);
                if product > u64::from(MAX_REPEAT) {
                    return Err(self.invalid(outer));
                }
            }
            return Err(self.invalid(op));
        }
        // Nothing inside `{0}` is copied, so below it the count starts again.
        let left = allowed.checked_div(copies).unwrap_or(MAX_REPEAT);
        self.copies.push((copies, op, left));
        Ok(())
    }

    fn invalid(&self, (start, end): (usize, usize)) -> InvalidRepeat {
        InvalidRepeat {
            op: self.pattern[start..end].to_owned(),
        }
    }

    /// Brackets each run of members between the nested classes (and negated Perl classes,
    /// which become nested classes) of a class that holds one (see the module docs for why).
    fn union(&mut self, union: &ClassSetUnion) {
        // What comes out of `regex`'s translation case-folded: a nested class (written so, or
        // a rewritten Perl class), which may hold nearly every code point.
        let folded = |item: &ClassSetItem| match item {
            ClassSetItem::Perl(class) => class.negated,
            ClassSetItem::Bracketed(_) => true,
            _ => false,
        };
        if !union.items.iter().any(folded) {
            return;
        }
        for run in union.items.split(folded) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let (start, end) = (first.span().start.offset, last.span().end.offset);
            if self.pattern[start..].starts_with('^') {
                // `[^` would negate the new class: the caret is escaped instead.
                self.edits
                    .push((start, start + 1, Edit::Replace(r"[\^".to_owned())));
            } else {
                self.edits.push((start, start, Edit::Insert("[")));
            }
            self.edits.push((end, end, Edit::Insert("]")));
        }
    }
}

impl<'p> ast::Visitor for Edits<'p> {
    type Output = Edits<'p>;
    type Err = InvalidRepeat;

    fn finish(self) -> Result<Edits<'p>, Self::Err> {
        Ok(self)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        match ast {
            Ast::ClassPerl(class) => self.perl(class),
            Ast::Assertion(assertion) => self.assertion(assertion),
            Ast::Repetition(repetition) => self.repetition(repetition)?,
            _ => {}
        }
        Ok(())
    }

    fn visit_post(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        if let Ast::Repetition(repetition) = ast {
            if let RepetitionKind::Range(_) = repetition.op.kind {
                self.copies.pop();
            }
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        match item {
            ClassSetItem::Perl(class) => self.perl(class),
            ClassSetItem::Union(union) => self.union(union),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::go_to_regex;

    fn go(pattern: &str) -> regex::Regex {
        regex::Regex::new(&go_to_regex(pattern).unwrap())
            .unwrap_or_else(|e| panic!("{pattern:?}: {e}"))
    }

    /// What Go's `regexp` (so containerd's `~=`) answers; `tests/content/filters.rs` asks a
    /// real containerd the same questions.
    #[test]
    fn perl_classes_and_word_boundaries_are_ascii() {
        let cases: &[(&str, &str, bool)] = &[
            (r"^\w+$", "abc_09", true),
            (r"^\w+$", "é", false),
            (r"^\w+$", "Straße", false),
            (r"^\W$", "é", true),
            (r"^\d$", "7", true),
            (r"^\d$", "٣", false), // ARABIC-INDIC DIGIT THREE
            (r"^\D$", "٣", true),
            (r"^\s$", " ", true),
            (r"^\s$", "\u{0B}", false), // Go's \s has no vertical tab
            (r"^\s$", "\u{A0}", false),
            (r"^\S$", "\u{0B}", true),
            (r"^[\w]+$", "é", false),
            (r"^[^\W]+$", "abc", true),
            (r"^[^\W]+$", "é", false),
            (r"^[\d\s]+$", "1 2", true),
            (r"^[é\w]+$", "éa", true),
            (r"\bé", "é", false), // é is not a word character: no boundary before it
            (r"a\b", "aé", true), // ... so there is one between a and é
            (r"a\B", "aé", false),
            (r"(?i)^\w$", "\u{212A}", true), // KELVIN SIGN folds to k, in Go too
            (r"(?i)abc", "ABC", true),
            (r"(?i)straße", "STRAßE", true),
            (r"^\pL+$", "Straße", true),
            (r"^\p{Greek}+$", "αβγ", true),
            (r"^.$", "é", true),
            (r"(?x) ^ \s $ ", " ", true), // the rewritten class survives (?x)
            // The members bracketed beside a negated Perl class keep their meaning.
            (r"^[\W^]$", "^", true),
            (r"^[\W^]$", "a", false),
            (r"^[]\W]$", "]", true),
            (r"^[^\W^a]$", "a", false),
            (r"^[^\W^a]$", "b", true),
            (r"(?i)^[a-c\D]$", "B", true),
            (r"(?i)^[^a-c\D]$", "7", true),
            (r"(?i)^[^a-c\D]$", "B", false),
            (r"(?i)^[\W&&[^x]]$", "X", false),
            (r"(?i)^[\W&&[^x]]$", "é", true),
        ];
        for &(pattern, haystack, want) in cases {
            assert_eq!(
                go(pattern).is_match(haystack),
                want,
                "{pattern:?} on {haystack:?}"
            );
        }
    }

    /// Beside a negated Perl class or a nested class, the other members of a class are
    /// bracketed, each run apart, so that each is case-folded alone (see the module docs).
    #[test]
    fn members_beside_a_negated_perl_class_are_bracketed() {
        let cases = [
            (r"(?i)[a\W]", r"(?i)[[a][^0-9A-Za-z_]]"),
            (r"[a\Wb-c\D\pL]", r"[[a][^0-9A-Za-z_][b-c][^0-9][\pL]]"),
            (r"[\W^a]", r"[[^0-9A-Za-z_][\^a]]"),
            (r"[^\W\d]", r"[^[^0-9A-Za-z_][[0-9]]]"),
            (r"[\W&&[a\S]]", r"[[^0-9A-Za-z_]&&[[a][^\t\n\x0C\r\x20]]]"),
            // Nested classes count too, the Perl classes in them the same way.
            (r"(?i)[a[^b]c]", r"(?i)[[a][^b][c]]"),
            (r"[d[x\D]]", r"[[d][[x][^0-9]]]"),
            // Without a negated Perl class or a nested class, nothing is bracketed.
            (r"[a\w]", r"[a[0-9A-Za-z_]]"),
        ];
        for (pattern, want) in cases {
            assert_eq!(go_to_regex(pattern).unwrap(), want, "{pattern:?}");
        }
    }

    /// Go's `repeatIsValid`: checked against a real containerd (`aaa|a{1000}` matches
    /// `aaa`, `aaa|a{1001}` nothing, as for any pattern Go refuses).
    #[test]
    fn repetitions_go_refuses_are_refused() {
        let refused = [
            (r"a{1001}", "{1001}"),
            (r"a{1001,}", "{1001,}"),
            (r"a{0,1001}", "{0,1001}"),
            (r"(a{1000}){1000}", "{1000}"),
            (r"(((a{10}){10}){10}){10}", "{10}"),
            (r"(a{3}){334}", "{334}"),
            (r"(?:x|(a{500}){2}b{3}){3}", "{3}"),
            (r"(?:(?:a{501}){2}){1}", "{2}"),
        ];
        for (pattern, op) in refused {
            let err = go_to_regex(pattern).unwrap_err();
            assert_eq!(err.op, op, "{pattern:?}");
            assert_eq!(err.to_string(), format!("invalid repeat count: `{op}`"));
        }
        let allowed = [
            r"a{1000}",
            r"a{2,1000}",
            r"((a{10}){10}){10}",
            r"(a{3}){333}",
            r"(a{1000}){0}",
            r"((a{1000}){0}){1000}",
            r"(a{1000})*",
            r"(a{1000})+?",
            r"a{1000}b{1000}",
            r"(a{1}){1000}",
            r"(?:(?:a{500}){2}){1}",
        ];
        for pattern in allowed {
            assert!(go_to_regex(pattern).is_ok(), "{pattern:?}");
        }
    }

    #[test]
    fn patterns_without_perl_classes_are_kept_as_written() {
        for pattern in [r"^sha256:[0-9a-f]+$", r"(?i)x|y", "", r"\\w", r"[\[\]]"] {
            assert!(
                matches!(go_to_regex(pattern), Ok(std::borrow::Cow::Borrowed(p)) if p == pattern)
            );
        }
        assert!(regex::Regex::new(&go_to_regex("(").unwrap()).is_err());
    }

    /// Pieces of patterns, so that random ones often parse.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            r"\d",
            r"\D",
            r"\w",
            r"\W",
            r"\s",
            r"\S",
            r"\b",
            r"\B",
            r"\b{start}",
            "[",
            "]",
            "[^",
            "^",
            "$",
            "-",
            "a",
            "Z",
            "0",
            "_",
            " ",
            "é",
            "(",
            ")",
            "(?i)",
            "(?x)",
            "(?-u:",
            "|",
            "*",
            "+",
            "?",
            "{2}",
            "&&",
            "--",
            ".",
            r"\\",
            r"\pL",
            "[:alpha:]",
        ])
    }

    proptest! {
        /// On ASCII text without a vertical tab, Go's classes and the `regex` crate's Unicode
        /// ones agree: the rewrite only changes what they say about other characters. So
        /// whatever the pattern, both compile or neither does, and they find the same.
        #[test]
        fn agrees_with_unicode_classes_on_ascii(
            pieces in prop::collection::vec(piece(), 0..12),
            haystack in "[ -~\t\n\r]{0,16}",
        ) {
            let pattern = pieces.concat();
            let rewritten = go_to_regex(&pattern).unwrap();
            let ours = regex::Regex::new(&rewritten);
            let theirs = regex::Regex::new(&pattern);
            prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?} became {:?}", pattern, rewritten);
            if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                let ours: Vec<_> = ours.find_iter(&haystack).map(|m| m.range()).collect();
                let theirs: Vec<_> = theirs.find_iter(&haystack).map(|m| m.range()).collect();
                prop_assert_eq!(ours, theirs, "{:?} became {:?}", pattern, rewritten);
            }
        }
    }
}
