//! The recursive-descent parser of containerd's filter syntax (`pkg/filters/parser.go`).
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use super::quote::unquote;
use super::scanner::{Rune, Scanner, Token};
use super::{Filter, Operator, Selector};

/// A parse error: the input, the byte position, and a message; displayed as containerd does,
/// `[before >|here|< after]: message`.
#[derive(Debug)]
pub(super) struct ParseError {
    input: String,
    pos: usize,
    msg: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.input.get(self.pos..).and_then(|s| s.chars().next());
        match at {
            Some(c) => {
                let before = &self.input[..self.pos];
                let after = &self.input[self.pos + c.len_utf8()..];
                write!(f, "parse error: [{before} >|{c}|< {after}]: {}", self.msg)
            }
            None => write!(f, "parse error: [{}]: {}", self.input, self.msg),
        }
    }
}

pub(super) struct Parser<'a> {
    input: &'a str,
    scanner: Scanner<'a>,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Parser<'a> {
        Parser {
            input,
            scanner: Scanner::new(input),
        }
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError {
            input: self.input.to_owned(),
            pos,
            msg: msg.into(),
        }
    }

    fn scanner_err(&self, pos: usize) -> ParseError {
        self.err(pos, self.scanner.err.unwrap_or("illegal input"))
    }

    pub(super) fn parse(mut self) -> PResult<Filter> {
        let mut selectors = vec![self.selector()?];
        loop {
            match self.scanner.peek() {
                Rune::Char(',') => {
                    let (pos, tok, _) = self.scanner.scan();
                    if tok != Token::Separator {
                        return Err(self.err(pos, "expected a separator"));
                    }
                    selectors.push(self.selector()?);
                }
                Rune::Eof => break,
                other => {
                    let shown = match other {
                        Rune::Char(c) => c,
                        _ => '\u{FFFD}',
                    };
                    let pos = self.scanner.ppos;
                    return Err(self.err(pos, format!("unexpected input: {shown}")));
                }
            }
        }
        Ok(Filter { selectors })
    }

    fn selector(&mut self) -> PResult<Selector> {
        let fieldpath = self.fieldpath()?;
        if matches!(self.scanner.peek(), Rune::Char(',') | Rune::Eof) {
            return Ok(Selector::new(fieldpath, Operator::Present, String::new()));
        }
        let op = self.operator()?;
        let (pos, value) = self.value(op == Operator::Matches)?;
        let mut sel = Selector::new(fieldpath, op, value);
        if op == Operator::Matches {
            sel.compile()
                .map_err(|e| self.err(pos, format!("invalid regular expression: {e}")))?;
        }
        Ok(sel)
    }

    fn fieldpath(&mut self) -> PResult<Vec<String>> {
        let mut fields = vec![self.field()?];
        while self.scanner.peek() == Rune::Char('.') {
            let (pos, tok, _) = self.scanner.scan();
            if tok != Token::Separator {
                return Err(self.err(pos, "expected a field separator (`.`)"));
            }
            fields.push(self.field()?);
        }
        Ok(fields)
    }

    fn field(&mut self) -> PResult<String> {
        let (pos, tok, text) = self.scanner.scan();
        match tok {
            Token::Field => Ok(text.to_owned()),
            Token::Quoted => self.unquote(pos, text, false),
            Token::Illegal => Err(self.scanner_err(pos)),
            _ => Err(self.err(pos, "expected field or quoted")),
        }
    }

    fn operator(&mut self) -> PResult<Operator> {
        let (pos, tok, text) = self.scanner.scan();
        match tok {
            Token::Operator => match text {
                "==" => Ok(Operator::Equal),
                "!=" => Ok(Operator::NotEqual),
                "~=" => Ok(Operator::Matches),
                other => Err(self.err(pos, format!("unsupported operator {other:?}"))),
            },
            Token::Illegal => Err(self.scanner_err(pos)),
            _ => Err(self.err(pos, r#"expected an operator ("=="|"!="|"~=")"#)),
        }
    }

    fn value(&mut self, allow_alt_quotes: bool) -> PResult<(usize, String)> {
        let (pos, tok, text) = self.scanner.scan();
        let v = match tok {
            Token::Value | Token::Field => Ok(text.to_owned()),
            Token::Quoted => self.unquote(pos, text, allow_alt_quotes),
            Token::Illegal => Err(self.scanner_err(pos)),
            _ => Err(self.err(pos, "expected value or quoted")),
        }?;
        Ok((pos, v))
    }

    fn unquote(&self, pos: usize, text: &str, allow_alts: bool) -> PResult<String> {
        if !allow_alts && !text.starts_with('"') {
            return Err(self.err(pos, "invalid quote encountered"));
        }
        unquote(text).ok_or_else(|| self.err(pos, "unquoting failed: quote syntax error"))
    }
}
