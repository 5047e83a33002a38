//! The tokenizer of containerd's filter syntax, rune for rune as `pkg/filters/scanner.go`.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

/// A rune as the scanner sees it: a character, the end of input, or an illegal rune
/// (NUL or U+FFFD, which Go's scanner rejects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rune {
    Char(char),
    Eof,
    Illegal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    Eof,
    Quoted,
    Value,
    Field,
    Separator,
    Operator,
    Illegal,
    /// Any other rune, returned as itself.
    Other(char),
}

pub(super) struct Scanner<'a> {
    input: &'a str,
    /// Start of the current rune.
    pub(super) pos: usize,
    /// End of the current rune.
    pub(super) ppos: usize,
    /// The next plain token is a value (set after an operator).
    value: bool,
    /// The first error met, for the parser's message.
    pub(super) err: Option<&'static str>,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(input: &'a str) -> Scanner<'a> {
        Scanner {
            input,
            pos: 0,
            ppos: 0,
            value: false,
            err: None,
        }
    }

    pub(super) fn next(&mut self) -> Rune {
        if self.pos >= self.input.len() {
            return Rune::Eof;
        }
        self.pos = self.ppos;
        let Some(c) = self.input.get(self.ppos..).and_then(|s| s.chars().next()) else {
            return Rune::Eof;
        };
        self.ppos += c.len_utf8();
        match c {
            '\u{FFFD}' => {
                self.error("rune error");
                Rune::Illegal
            }
            '\0' => {
                self.error("unexpected null");
                Rune::Illegal
            }
            c => Rune::Char(c),
        }
    }

    pub(super) fn peek(&mut self) -> Rune {
        let (pos, ppos) = (self.pos, self.ppos);
        let r = self.next();
        self.pos = pos;
        self.ppos = ppos;
        r
    }

    /// The next token: its start, kind and text.
    pub(super) fn scan(&mut self) -> (usize, Token, &'a str) {
        let mut ch = self.next();
        let mut pos = self.pos;
        loop {
            let c = match ch {
                Rune::Eof => return (self.pos, Token::Eof, ""),
                Rune::Illegal => return (self.pos, Token::Illegal, ""),
                Rune::Char(c) => c,
            };
            if is_quote(c) {
                let ok = self.scan_quoted(c);
                let text = self.text(pos);
                return (pos, if ok { Token::Quoted } else { Token::Illegal }, text);
            }
            if is_separator(c) {
                self.value = false;
                return (pos, Token::Separator, self.text(pos));
            }
            if is_operator(c) {
                self.scan_while(is_operator);
                self.value = true;
                return (pos, Token::Operator, self.text(pos));
            }
            if c.is_whitespace() {
                ch = self.next();
                pos = self.pos;
                continue;
            }
            if self.value {
                self.scan_while(is_value);
                self.value = false;
                return (pos, Token::Value, self.text(pos));
            }
            if is_field(c) {
                self.scan_while(is_field);
                return (pos, Token::Field, self.text(pos));
            }
            return (self.pos, Token::Other(c), "");
        }
    }

    fn text(&self, from: usize) -> &'a str {
        self.input.get(from..self.ppos).unwrap_or("")
    }

    fn scan_while(&mut self, pred: fn(char) -> bool) {
        while let Rune::Char(c) = self.peek() {
            if !pred(c) {
                break;
            }
            self.next();
        }
    }

    fn scan_quoted(&mut self, quote: char) -> bool {
        let mut illegal = false;
        let mut ch = self.next();
        while ch != Rune::Char(quote) {
            match ch {
                Rune::Char('\n') | Rune::Eof | Rune::Illegal => {
                    self.error("quoted literal not terminated");
                    return false;
                }
                Rune::Char('\\') => {
                    let (next, legal) = self.scan_escape(quote);
                    illegal |= !legal;
                    ch = next;
                }
                Rune::Char(_) => ch = self.next(),
            }
        }
        !illegal
    }

    fn scan_escape(&mut self, quote: char) -> (Rune, bool) {
        let ch = self.next();
        match ch {
            Rune::Char('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => (self.next(), true),
            Rune::Char(c) if c == quote => (self.next(), true),
            Rune::Char('0'..='7') => self.scan_digits(ch, 8, 3),
            Rune::Char('x') => {
                let first = self.next();
                self.scan_digits(first, 16, 2)
            }
            Rune::Char('u') => {
                let first = self.next();
                self.scan_digits(first, 16, 4)
            }
            Rune::Char('U') => {
                let first = self.next();
                self.scan_digits(first, 16, 8)
            }
            _ => {
                self.error("illegal escape sequence");
                (ch, false)
            }
        }
    }

    fn scan_digits(&mut self, mut ch: Rune, base: u32, mut n: u32) -> (Rune, bool) {
        while n > 0 && matches!(ch, Rune::Char(c) if c.to_digit(16).is_some_and(|d| d < base)) {
            ch = self.next();
            n -= 1;
        }
        if n > 0 {
            self.error("illegal numeric escape sequence");
            return (ch, false);
        }
        (ch, true)
    }

    fn error(&mut self, msg: &'static str) {
        if self.err.is_none() {
            self.err = Some(msg);
        }
    }
}

pub(super) fn is_field(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

pub(super) fn is_operator(c: char) -> bool {
    matches!(c, '=' | '!' | '~')
}

pub(super) fn is_quote(c: char) -> bool {
    matches!(c, '/' | '|' | '"')
}

pub(super) fn is_separator(c: char) -> bool {
    matches!(c, ',' | '.')
}

/// Go's `isValueRune`: not a comma, not space, and graphic. Without Unicode category tables,
/// "graphic" is approximated as "not a control character".
pub(super) fn is_value(c: char) -> bool {
    c != ',' && !c.is_whitespace() && !c.is_control()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    fn tokens(input: &str) -> Vec<(usize, Token, String)> {
        let mut s = Scanner::new(input);
        let mut out = Vec::new();
        loop {
            let (pos, tok, text) = s.scan();
            out.push((pos, tok, text.to_owned()));
            if matches!(tok, Token::Eof | Token::Illegal) {
                return out;
            }
        }
    }

    #[test]
    fn tokenizes_like_containerd() {
        use Token::*;
        let t = |pos, tok, text: &str| (pos, tok, text.to_owned());
        assert_eq!(
            tokens(r#"name==value,labels."a b"~=/x.*/"#),
            vec![
                t(0, Field, "name"),
                t(4, Operator, "=="),
                t(6, Value, "value"),
                t(11, Separator, ","),
                t(12, Field, "labels"),
                t(18, Separator, "."),
                t(19, Quoted, "\"a b\""),
                t(24, Operator, "~="),
                t(26, Quoted, "/x.*/"),
                t(31, Eof, ""),
            ]
        );
        // Values run over dots and operators; spaces are skipped between tokens.
        assert_eq!(
            tokens("a == b.c=d"),
            vec![
                t(0, Field, "a"),
                t(2, Operator, "=="),
                t(5, Value, "b.c=d"),
                t(10, Eof, "")
            ]
        );
        assert_eq!(tokens("a\0")[1].1, Illegal);
        assert_eq!(tokens("\"abc")[0].1, Illegal);
        assert_eq!(tokens(r#""a\qb""#)[0].1, Illegal);
        assert_eq!(tokens(r#""\x4""#)[0].1, Illegal);
        assert_eq!(tokens(r#""\x41\101\u0041\U00000041""#)[0].1, Quoted);
        assert_eq!(tokens("?")[0].1, Other('?'));
    }
}
