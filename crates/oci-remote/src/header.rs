//! The lexer of the HTTP header values this crate parses (`WWW-Authenticate` in
//! `challenge.rs`, `Link` in `link.rs`): the pieces of RFC 9110 section 5.6 they share
//! (tokens, optional whitespace, list separators, quoted strings) over a cursor whose errors
//! name the header, as [`HeaderErrorKind`]s.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use crate::error::{Expected, HeaderErrorKind};
use crate::{Error, Result};

/// `tchar` of RFC 9110: the characters of a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A character an unquoted value may hold: visible, and not `,`, `"` or `\`.
pub(crate) fn is_bare_value_char(c: char) -> bool {
    !(c.is_control() || c.is_whitespace() || c == ',' || c == '"' || c == '\\')
}

/// A cursor over a header value. Errors name `header`.
pub(crate) struct Parser<'a> {
    s: &'a str,
    pos: usize,
    header: &'static str,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(s: &'a str, header: &'static str) -> Parser<'a> {
        Parser { s, pos: 0, header }
    }

    /// An [`Error::InvalidHeader`] of this header.
    pub(crate) fn invalid(&self, kind: HeaderErrorKind) -> Error {
        Error::InvalidHeader {
            header: self.header,
            kind,
        }
    }

    /// The error for finding something other than `expected` at the cursor.
    pub(crate) fn unexpected(&self, expected: Expected) -> Error {
        self.invalid(HeaderErrorKind::Unexpected {
            expected,
            found: self.peek_char(),
            at: self.pos,
        })
    }

    /// The error for a parameter `name` with `=` but no value at the cursor.
    pub(crate) fn no_value(&self, name: &str, link: bool) -> Error {
        self.invalid(HeaderErrorKind::NoValue {
            name: name.to_owned(),
            link,
            found: self.peek_char(),
            at: self.pos,
        })
    }

    /// The cursor's position, to come back to with [`Parser::reset`].
    pub(crate) fn mark(&self) -> usize {
        self.pos
    }

    /// Moves the cursor back to a [`Parser::mark`].
    pub(crate) fn reset(&mut self, mark: usize) {
        self.pos = mark;
    }

    /// The text between a [`Parser::mark`] and the cursor.
    pub(crate) fn since(&self, mark: usize) -> &'a str {
        self.s.get(mark..self.pos).unwrap_or("")
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn peek_char(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|rest| rest.chars().next())
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Skips spaces and tabs; returns whether there were any.
    pub(crate) fn skip_ows(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips whitespace and commas: the separators (and empty elements) of a list.
    pub(crate) fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    /// The longest run of bytes satisfying `f` (ASCII only, so the slice is on char
    /// boundaries).
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.since(start)
    }

    /// The longest run of characters satisfying `f`.
    pub(crate) fn take_chars_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        let rest = self.s.get(start..).unwrap_or("");
        for c in rest.chars() {
            if !f(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.since(start)
    }

    pub(crate) fn token(&mut self) -> &'a str {
        self.take_while(is_tchar)
    }

    /// A quoted string at the cursor (which is at its `"`), unescaped.
    pub(crate) fn quoted(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.s.get(self.pos..).unwrap_or("").char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) if escaped == '\t' || !escaped.is_control() => {
                        value.push(escaped)
                    }
                    Some((j, escaped)) => {
                        return Err(self.invalid(HeaderErrorKind::ControlCharacter {
                            character: escaped,
                            at: self.pos + j,
                        }))
                    }
                    None => break,
                },
                '\t' => value.push(c),
                c if c.is_control() => {
                    return Err(self.invalid(HeaderErrorKind::ControlCharacter {
                        character: c,
                        at: self.pos + i,
                    }))
                }
                c => value.push(c),
            }
        }
        Err(self.invalid(HeaderErrorKind::UnterminatedQuote { at: open }))
    }
}
