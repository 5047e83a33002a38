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

use std::borrow::Cow;

use regex_syntax::ast::{self, Assertion, Ast, ClassPerl, ClassPerlKind, ClassSetItem, Span};

/// `pattern` with Go's ASCII Perl classes and word boundaries spelled out for the `regex`
/// crate. A pattern that does not parse is returned as written: compiling it reports the
/// error.
pub(super) fn ascii_perl_classes(pattern: &str) -> Cow<'_, str> {
    let Ok(parsed) = ast::parse::Parser::new().parse(pattern) else {
        return Cow::Borrowed(pattern);
    };
    // The visitor keeps its own stack on the heap, so a deeply nested pattern (up to the
    // parser's nest limit) cannot overflow ours.
    let edits = ast::visit(&parsed, Edits::default()).unwrap_or_else(|never| match never {});
    if edits.0.is_empty() {
        return Cow::Borrowed(pattern);
    }
    let mut edits = edits.0;
    edits.sort_by_key(|(span, _)| span.start.offset);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (span, edit) in edits {
        let (start, end) = (span.start.offset, span.end.offset);
        out.push_str(&pattern[at..start]);
        match edit {
            Edit::Replace(text) => out.push_str(&text),
            Edit::Ascii => {
                out.push_str("(?-u:");
                out.push_str(&pattern[start..end]);
                out.push(')');
            }
        }
        at = end;
    }
    out.push_str(&pattern[at..]);
    Cow::Owned(out)
}

/// What becomes of each Perl class and word boundary, by span. These nodes are leaves, so
/// their spans never overlap.
#[derive(Default)]
struct Edits(Vec<(Span, Edit)>);

enum Edit {
    /// Replaced with this text.
    Replace(String),
    /// Wrapped in `(?-u:...)`.
    Ascii,
}

impl Edits {
    fn perl(&mut self, class: &ClassPerl) {
        let members = match class.kind {
            ClassPerlKind::Digit => "0-9",
            // Escapes rather than a space: under `(?x)` a literal space would be ignored.
            ClassPerlKind::Space => r"\t\n\x0C\r\x20",
            ClassPerlKind::Word => "0-9A-Za-z_",
        };
        let caret = if class.negated { "^" } else { "" };
        self.0
            .push((class.span, Edit::Replace(format!("[{caret}{members}]"))));
    }

    fn assertion(&mut self, assertion: &Assertion) {
        use ast::AssertionKind::{EndLine, EndText, StartLine, StartText};
        if matches!(assertion.kind, StartLine | StartText | EndLine | EndText) {
            return;
        }
        // `\b`, `\B` and the `regex` crate's own `\b{start}`, `\<` and the like (to Go, a
        // boundary and the literal `{start}`, a literal `<`): all word boundaries, made ASCII.
        self.0.push((assertion.span, Edit::Ascii));
    }
}

impl ast::Visitor for Edits {
    type Output = Edits;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<Edits, Self::Err> {
        Ok(self)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        match ast {
            Ast::ClassPerl(class) => self.perl(class),
            Ast::Assertion(assertion) => self.assertion(assertion),
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        if let ClassSetItem::Perl(class) = item {
            self.perl(class);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::ascii_perl_classes;

    fn go(pattern: &str) -> regex::Regex {
        regex::Regex::new(&ascii_perl_classes(pattern))
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
        ];
        for &(pattern, haystack, want) in cases {
            assert_eq!(
                go(pattern).is_match(haystack),
                want,
                "{pattern:?} on {haystack:?}"
            );
        }
    }

    #[test]
    fn patterns_without_perl_classes_are_kept_as_written() {
        for pattern in [r"^sha256:[0-9a-f]+$", r"(?i)x|y", "", r"\\w", r"[\[\]]"] {
            assert!(
                matches!(ascii_perl_classes(pattern), std::borrow::Cow::Borrowed(p) if p == pattern)
            );
        }
        assert!(regex::Regex::new(&ascii_perl_classes("(")).is_err());
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
            let rewritten = ascii_perl_classes(&pattern);
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
