//! `WWW-Authenticate` challenges (RFC 9110 section 11.6.1, formerly RFC 7235), as registries
//! send them on a `401 Unauthorized`.
//!
//! The grammar, with what this parser tolerates beyond it:
//!
//! ```text
//! WWW-Authenticate = #challenge                      ; empty list elements are skipped
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! - Whitespace is spaces and tabs, anywhere the grammar allows optional whitespace.
//! - An unquoted parameter value may hold any visible character but `,`, `"` and `\`
//!   (some servers send `realm=https://host/token` unquoted).
//! - `token68` is accepted for schemes other than `Basic` and `Bearer`, whose RFCs (7617,
//!   6750) define parameters only, so `Bearer realm=` is a parameter without a value (an
//!   error), not a token68.
//! - A parameter named twice in one challenge is an error: which one to trust is ambiguous.
//!
//! Allocation is linear in the header's length: every string kept is a piece of it.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::fmt;

use crate::error::{Expected, HeaderErrorKind};
use crate::header::{is_bare_value_char, Parser};
use crate::Result;

const HEADER: &str = "WWW-Authenticate";

/// An authentication scheme. `Basic` and `Bearer` are the two registries use.
///
/// Schemes compare case-insensitively (`Other("NEGOTIATE") == Other("negotiate")`, and
/// `Other("basic") == Basic`); [`Other`](AuthScheme::Other) keeps the name as sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Basic` (RFC 7617): a user name and password on every request.
    Basic,
    /// `Bearer` (RFC 6750): a token from the token server named by the `realm` parameter.
    Bearer,
    /// Any other scheme, as sent.
    Other(String),
}

impl AuthScheme {
    /// The scheme recognised from its name (`bearer`, `BASIC`, ...).
    pub fn from_name(name: &str) -> AuthScheme {
        if name.eq_ignore_ascii_case("basic") {
            AuthScheme::Basic
        } else if name.eq_ignore_ascii_case("bearer") {
            AuthScheme::Bearer
        } else {
            AuthScheme::Other(name.to_owned())
        }
    }

    /// The scheme's name: `Basic`, `Bearer`, or the other name as sent.
    pub fn as_str(&self) -> &str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Bearer => "Bearer",
            AuthScheme::Other(name) => name,
        }
    }
}

impl PartialEq for AuthScheme {
    fn eq(&self, other: &AuthScheme) -> bool {
        self.as_str().eq_ignore_ascii_case(other.as_str())
    }
}

impl Eq for AuthScheme {}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One challenge of a `WWW-Authenticate` header: a scheme and its parameters.
///
/// ```
/// use oci_remote::{parse_challenges, AuthScheme};
///
/// let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#;
/// let challenges = parse_challenges(header)?;
/// assert_eq!(challenges[0].scheme, AuthScheme::Bearer);
/// assert_eq!(challenges[0].realm(), Some("https://auth.docker.io/token"));
/// assert_eq!(challenges[0].service(), Some("registry.docker.io"));
/// assert_eq!(challenges[0].scope(), None);
/// # Ok::<(), oci_remote::Error>(())
/// ```
///
/// Its [`Display`](fmt::Display) writes it back in header form, every value quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Challenge {
    /// The scheme.
    pub scheme: AuthScheme,
    /// The parameters in the order sent: names lower-cased, values unquoted with their
    /// backslash escapes resolved. Names are unique.
    pub params: Vec<(String, String)>,
    /// The `token68` form some schemes (not `Basic` or `Bearer`) use instead of parameters
    /// (`Negotiate YIIB...==`).
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of the parameter `name` (matched case-insensitively).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `realm`: for `Bearer`, the URL of the token server.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// The `service` to name when asking the token server.
    pub fn service(&self) -> Option<&str> {
        self.param("service")
    }

    /// The `scope` the registry wants (`repository:library/ubuntu:pull`; several are
    /// separated by spaces).
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme.as_str())?;
        if let Some(token68) = &self.token68 {
            return write!(f, " {token68}");
        }
        for (i, (name, value)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { "," })?;
            write!(f, "{name}=\"")?;
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

/// Parses the value of a `WWW-Authenticate` header into its challenges, in order.
///
/// One header may hold several challenges separated by commas; commas inside quoted
/// strings are part of the value.
///
/// ```
/// use oci_remote::{parse_challenges, AuthScheme};
///
/// let all = parse_challenges(r#"Basic realm="a, b", Bearer realm="https://t/token""#)?;
/// assert_eq!(all.len(), 2);
/// assert_eq!(all[0].scheme, AuthScheme::Basic);
/// assert_eq!(all[0].realm(), Some("a, b"));
/// assert_eq!(all[1].realm(), Some("https://t/token"));
/// # Ok::<(), oci_remote::Error>(())
/// ```
///
/// # Errors
///
/// [`crate::Error::InvalidHeader`] when the value holds no challenge or breaks the grammar (an
/// unterminated quoted string, a parameter without a value, a control character, a
/// parameter named twice in one challenge).
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>> {
    let mut p = Parser::new(header, HEADER);
    let mut out = Vec::new();
    loop {
        p.skip_list_separators();
        if p.at_end() {
            break;
        }
        out.push(p.challenge()?);
    }
    if out.is_empty() {
        return Err(p.invalid(HeaderErrorKind::NoChallenge));
    }
    Ok(out)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// The `WWW-Authenticate` pieces of the header lexer.
impl<'a> Parser<'a> {
    fn challenge(&mut self) -> Result<Challenge> {
        let name = self.token();
        if name.is_empty() {
            return Err(self.unexpected(Expected::AuthScheme));
        }
        let scheme = AuthScheme::from_name(name);
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        let spaced = self.skip_ows();
        match self.peek() {
            None | Some(b',') => return Ok(challenge),
            Some(_) if !spaced => {
                return Err(self.unexpected(Expected::SpaceAfterScheme(name.to_owned())))
            }
            Some(_) => {}
        }
        if !matches!(challenge.scheme, AuthScheme::Basic | AuthScheme::Bearer) {
            if let Some(token68) = self.token68() {
                challenge.token68 = Some(token68.to_owned());
                return Ok(challenge);
            }
        }
        self.params(&mut challenge.params)?;
        check_unique(&challenge).map_err(|kind| self.invalid(kind))?;
        Ok(challenge)
    }

    /// A token68 followed by the end of the challenge, or nothing (cursor unmoved).
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.mark();
        let body = self.take_while(is_token68_char);
        if !body.is_empty() {
            self.take_while(|b| b == b'=');
            let token68 = self.since(start);
            self.skip_ows();
            if matches!(self.peek(), None | Some(b',')) {
                return Some(token68);
            }
        }
        self.reset(start);
        None
    }

    /// One or more `name=value` separated by commas, up to the end of the header or the
    /// start of the next challenge.
    fn params(&mut self, params: &mut Vec<(String, String)>) -> Result<()> {
        loop {
            let name = self.token();
            if name.is_empty() {
                return Err(self.unexpected(Expected::ParameterName));
            }
            self.skip_ows();
            if !self.eat(b'=') {
                return Err(self.unexpected(Expected::Equals(name.to_owned())));
            }
            self.skip_ows();
            let value = match self.peek() {
                Some(b'"') => self.quoted()?,
                _ => {
                    let bare = self.take_chars_while(is_bare_value_char);
                    if bare.is_empty() {
                        return Err(self.no_value(name, false));
                    }
                    bare.to_owned()
                }
            };
            params.push((name.to_ascii_lowercase(), value));
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => {}
                Some(_) => return Err(self.unexpected(Expected::Comma(name.to_owned()))),
            }
            self.skip_list_separators();
            if !self.at_param() {
                return Ok(());
            }
        }
    }

    /// Whether the cursor is at `token BWS "="`: a parameter, not the next challenge.
    fn at_param(&mut self) -> bool {
        let start = self.mark();
        let is_param = !self.token().is_empty() && {
            self.skip_ows();
            self.peek() == Some(b'=')
        };
        self.reset(start);
        is_param
    }
}

/// Fails when a parameter name appears twice (in O(n log n), not O(n²)).
fn check_unique(challenge: &Challenge) -> Result<(), HeaderErrorKind> {
    let mut names: Vec<&str> = challenge.params.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(*a),
        _ => None,
    }) {
        Some(name) => Err(HeaderErrorKind::DuplicateParameter {
            name: name.to_owned(),
            scheme: challenge.scheme.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
