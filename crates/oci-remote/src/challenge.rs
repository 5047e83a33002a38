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

use std::fmt;

use crate::{Error, Result};

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
/// [`Error::InvalidHeader`] when the value holds no challenge or breaks the grammar (an
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
        return Err(p.invalid("no challenge".to_owned()));
    }
    Ok(out)
}

/// `tchar` of RFC 9110: the characters of a token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// A character an unquoted value may hold: visible, and not `,`, `"` or `\`.
pub(crate) fn is_bare_value_char(c: char) -> bool {
    !(c.is_control() || c.is_whitespace() || c == ',' || c == '"' || c == '\\')
}

/// A cursor over a header value, with the pieces of the HTTP grammar (RFC 9110 section 5.6)
/// that `WWW-Authenticate` and `Link` share. Errors name `header`.
pub(crate) struct Parser<'a> {
    s: &'a str,
    pos: usize,
    header: &'static str,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(s: &'a str, header: &'static str) -> Parser<'a> {
        Parser { s, pos: 0, header }
    }

    pub(crate) fn invalid(&self, reason: String) -> Error {
        Error::InvalidHeader {
            header: self.header,
            reason,
        }
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
        &self.s[start..self.pos]
    }

    /// The longest run of characters satisfying `f`.
    pub(crate) fn take_chars_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        for c in self.s[start..].chars() {
            if !f(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.s[start..self.pos]
    }

    pub(crate) fn token(&mut self) -> &'a str {
        self.take_while(is_tchar)
    }

    /// What is at the cursor, for error messages.
    pub(crate) fn found(&self) -> String {
        match self.peek_char() {
            None => "the end".to_owned(),
            Some(c) => format!("{c:?} at byte {}", self.pos),
        }
    }

    fn challenge(&mut self) -> Result<Challenge> {
        let name = self.token();
        if name.is_empty() {
            return Err(self.invalid(format!("expected an auth scheme, found {}", self.found())));
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
                return Err(self.invalid(format!(
                    "expected a space or ',' after auth scheme {name}, found {}",
                    self.found()
                )))
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
        check_unique(&challenge).map_err(|reason| self.invalid(reason))?;
        Ok(challenge)
    }

    /// A token68 followed by the end of the challenge, or nothing (cursor unmoved).
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let body = self.take_while(is_token68_char);
        if !body.is_empty() {
            self.take_while(|b| b == b'=');
            let end = self.pos;
            self.skip_ows();
            if matches!(self.peek(), None | Some(b',')) {
                return Some(&self.s[start..end]);
            }
        }
        self.pos = start;
        None
    }

    /// One or more `name=value` separated by commas, up to the end of the header or the
    /// start of the next challenge.
    fn params(&mut self, params: &mut Vec<(String, String)>) -> Result<()> {
        loop {
            let name = self.token();
            if name.is_empty() {
                return Err(
                    self.invalid(format!("expected a parameter name, found {}", self.found()))
                );
            }
            self.skip_ows();
            if !self.eat(b'=') {
                return Err(self.invalid(format!(
                    "expected '=' after parameter {name}, found {}",
                    self.found()
                )));
            }
            self.skip_ows();
            let value = match self.peek() {
                Some(b'"') => self.quoted()?,
                _ => {
                    let bare = self.take_chars_while(is_bare_value_char);
                    if bare.is_empty() {
                        return Err(self.invalid(format!(
                            "parameter {name} has no value, found {}",
                            self.found()
                        )));
                    }
                    bare.to_owned()
                }
            };
            params.push((name.to_ascii_lowercase(), value));
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => {}
                Some(_) => {
                    return Err(self.invalid(format!(
                        "expected ',' after parameter {name}, found {}",
                        self.found()
                    )))
                }
            }
            self.skip_list_separators();
            if !self.at_param() {
                return Ok(());
            }
        }
    }

    /// Whether the cursor is at `token BWS "="`: a parameter, not the next challenge.
    fn at_param(&mut self) -> bool {
        let start = self.pos;
        let is_param = !self.token().is_empty() && {
            self.skip_ows();
            self.peek() == Some(b'=')
        };
        self.pos = start;
        is_param
    }

    /// A quoted string at the cursor (which is at its `"`), unescaped.
    pub(crate) fn quoted(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.s[self.pos..].char_indices();
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
                        return Err(self.invalid(format!(
                            "control character {escaped:?} at byte {} in a quoted string",
                            self.pos + j
                        )))
                    }
                    None => break,
                },
                '\t' => value.push(c),
                c if c.is_control() => {
                    return Err(self.invalid(format!(
                        "control character {c:?} at byte {} in a quoted string",
                        self.pos + i
                    )))
                }
                c => value.push(c),
            }
        }
        Err(self.invalid(format!(
            "unterminated quoted string starting at byte {open}"
        )))
    }
}

/// Fails when a parameter name appears twice (in O(n log n), not O(n²)).
fn check_unique(challenge: &Challenge) -> Result<(), String> {
    let mut names: Vec<&str> = challenge.params.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(format!(
            "parameter {} appears twice in the {} challenge",
            w[0], challenge.scheme
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// A header, the scheme of its one challenge, and its parameters.
    type Case = (
        &'static str,
        AuthScheme,
        &'static [(&'static str, &'static str)],
    );

    /// Headers registries and their auth servers actually send, with the one challenge
    /// they hold.
    #[test]
    fn real_world_headers() {
        let cases: &[Case] = &[
            // distribution (registry:2) with token auth; Docker Hub.
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://auth.docker.io/token"),
                    ("service", "registry.docker.io"),
                    ("scope", "repository:library/ubuntu:pull"),
                ],
            ),
            // Docker Hub on a push without rights: a comma inside the scope, an error param.
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://auth.docker.io/token"),
                    ("service", "registry.docker.io"),
                    ("scope", "repository:samalba/my-app:pull,push"),
                    ("error", "insufficient_scope"),
                ],
            ),
            // distribution with htpasswd auth.
            (
                r#"Basic realm="Registry Realm""#,
                AuthScheme::Basic,
                &[("realm", "Registry Realm")],
            ),
            // GitHub Container Registry.
            (
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://ghcr.io/token"),
                    ("service", "ghcr.io"),
                    ("scope", "repository:user/image:pull"),
                ],
            ),
            // Quay.
            (
                r#"Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="repository:coreos/etcd:pull""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://quay.io/v2/auth"),
                    ("service", "quay.io"),
                    ("scope", "repository:coreos/etcd:pull"),
                ],
            ),
            // Google Artifact Registry / GCR.
            (
                r#"Bearer realm="https://gcr.io/v2/token",service="gcr.io",scope="repository:distroless/static:pull""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://gcr.io/v2/token"),
                    ("service", "gcr.io"),
                    ("scope", "repository:distroless/static:pull"),
                ],
            ),
            // Amazon ECR: Basic with a service.
            (
                r#"Basic realm="https://012345678901.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com""#,
                AuthScheme::Basic,
                &[
                    (
                        "realm",
                        "https://012345678901.dkr.ecr.us-east-1.amazonaws.com/",
                    ),
                    ("service", "ecr.amazonaws.com"),
                ],
            ),
            // Azure Container Registry on /v2/: no scope.
            (
                r#"Bearer realm="https://example.azurecr.io/oauth2/token",service="example.azurecr.io""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://example.azurecr.io/oauth2/token"),
                    ("service", "example.azurecr.io"),
                ],
            ),
            // Harbor.
            (
                r#"Bearer realm="https://harbor.example.com/service/token",service="harbor-registry""#,
                AuthScheme::Bearer,
                &[
                    ("realm", "https://harbor.example.com/service/token"),
                    ("service", "harbor-registry"),
                ],
            ),
            // Lower-case scheme and names, spaces around '=' and ','.
            (
                r#"bearer  Realm = "https://t/token" ,  SERVICE="s""#,
                AuthScheme::Bearer,
                &[("realm", "https://t/token"), ("service", "s")],
            ),
            // Unquoted values, one of them a URL (not a token, but sent in the wild).
            (
                "Bearer realm=https://t.example/token,service=registry",
                AuthScheme::Bearer,
                &[
                    ("realm", "https://t.example/token"),
                    ("service", "registry"),
                ],
            ),
            // Escapes inside a quoted string; a tab.
            (
                "Basic realm=\"a \\\"quoted\\\" \\\\ realm\"",
                AuthScheme::Basic,
                &[("realm", "a \"quoted\" \\ realm")],
            ),
            ("Basic\trealm=\"x\"", AuthScheme::Basic, &[("realm", "x")]),
            // Empty quoted value; trailing and doubled commas.
            (
                r#"Basic realm="",, service="s","#,
                AuthScheme::Basic,
                &[("realm", ""), ("service", "s")],
            ),
            // A bare scheme.
            ("Basic", AuthScheme::Basic, &[]),
            ("  Bearer  ", AuthScheme::Bearer, &[]),
            // Non-ASCII inside quotes.
            (
                r#"Basic realm="Régistre ☃""#,
                AuthScheme::Basic,
                &[("realm", "Régistre ☃")],
            ),
        ];
        for (header, scheme, expected) in cases {
            let got = parse_challenges(header).unwrap_or_else(|e| panic!("{header}: {e}"));
            assert_eq!(got.len(), 1, "{header}: {got:?}");
            assert_eq!(&got[0].scheme, scheme, "{header}");
            assert_eq!(params(&got[0]), *expected, "{header}");
            assert_eq!(got[0].token68, None, "{header}");
        }
    }

    #[test]
    fn several_challenges_in_one_header() {
        let got = parse_challenges(
            r#"Basic realm="x, y", Bearer realm="y",service="z", Negotiate, Newauth abc==, Digest realm="d",nonce=n"#,
        )
        .unwrap();
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(
            schemes,
            ["Basic", "Bearer", "Negotiate", "Newauth", "Digest"]
        );
        assert_eq!(params(&got[0]), [("realm", "x, y")]);
        assert_eq!(params(&got[1]), [("realm", "y"), ("service", "z")]);
        assert!(got[2].params.is_empty());
        assert_eq!(got[3].token68.as_deref(), Some("abc=="));
        assert!(got[3].params.is_empty());
        assert_eq!(params(&got[4]), [("realm", "d"), ("nonce", "n")]);
    }

    #[test]
    fn token68_for_other_schemes() {
        let got = parse_challenges("Negotiate YIIBmgYGKwYBBQUCoIIBjjCCAYqgMDAu/+==").unwrap();
        assert_eq!(got[0].scheme, AuthScheme::Other("negotiate".into()));
        assert_eq!(got[0].scheme.as_str(), "Negotiate");
        assert_eq!(
            got[0].token68.as_deref(),
            Some("YIIBmgYGKwYBBQUCoIIBjjCCAYqgMDAu/+==")
        );
        // Not for Basic: its challenge has parameters only.
        assert!(parse_challenges("Basic YWxhZGRpbjpvcGVuc2VzYW1l").is_err());
    }

    #[test]
    fn malformed_headers_are_errors() {
        for header in [
            "",
            "   ",
            ",,, ,",
            r#"Basic realm="unterminated"#,
            r#"Basic realm="ends in a backslash\"#,
            "Bearer realm=",
            "Bearer realm=,service=x",
            r#"Bearer realm="x",service="#,
            r#"Bearer realm"x""#,
            r#"Bearer realm="x" service="y""#,
            r#"Bearer realm="x"garbage"#,
            r#"Bearer ="x""#,
            r#""Bearer" realm="x""#,
            r#"Bearer="x""#,
            r#"Basic realm="a",realm="b""#,
            r#"Basic realm="a",REALM="b""#,
            "Basic realm=\"new\nline\"",
            "Basic realm=\"nul\0\"",
            "Basic\u{0}",
            "Basic realm=x\u{7f}",
            "Bearer realm=\"x\"\r\n",
            "Bearer realm=a\\b",
            "Negotiate abc, realm=x",
            "Basic realm=x Bearer",
        ] {
            match parse_challenges(header) {
                Err(Error::InvalidHeader {
                    header: "WWW-Authenticate",
                    reason,
                }) => assert!(!reason.is_empty()),
                other => panic!("{header:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn error_says_what_is_wrong() {
        let e = parse_challenges("Bearer realm=").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid WWW-Authenticate header: parameter realm has no value, found the end"
        );
        let e = parse_challenges(r#"Basic realm="x"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unterminated quoted string"), "{e}");
    }

    #[test]
    fn param_lookup_is_case_insensitive_and_first_class_helpers_work() {
        let c = &parse_challenges(r#"Bearer Realm="r",Service="s",Scope="a b""#).unwrap()[0];
        assert_eq!(c.param("REALM"), Some("r"));
        assert_eq!(c.realm(), Some("r"));
        assert_eq!(c.service(), Some("s"));
        assert_eq!(c.scope(), Some("a b"));
        assert_eq!(c.param("error"), None);
    }

    #[test]
    fn schemes_compare_case_insensitively() {
        assert_eq!(AuthScheme::from_name("BASIC"), AuthScheme::Basic);
        assert_eq!(AuthScheme::from_name("bEaReR"), AuthScheme::Bearer);
        assert_eq!(AuthScheme::Other("basic".into()), AuthScheme::Basic);
        assert_ne!(AuthScheme::Basic, AuthScheme::Bearer);
        assert_eq!(
            AuthScheme::Other("Digest".into()),
            AuthScheme::Other("DIGEST".into())
        );
        assert_eq!(AuthScheme::from_name("Digest").to_string(), "Digest");
    }

    #[test]
    fn display_writes_a_header_that_parses_back() {
        let header = r#"Bearer realm="https://t/token",service="s \"q\" \\",scope="a,b""#;
        let c = &parse_challenges(header).unwrap()[0];
        assert_eq!(c.to_string(), header);
    }

    #[test]
    fn long_headers_are_linear() {
        // 100k parameters in one challenge: parsed (and checked for duplicates) quickly.
        let mut header = String::from("Bearer ");
        for i in 0..100_000 {
            header.push_str(&format!("p{i}=\"v\","));
        }
        let got = parse_challenges(&header).unwrap();
        assert_eq!(got[0].params.len(), 100_000);
        // 100k challenges.
        let header = "Basic, ".repeat(100_000);
        assert_eq!(parse_challenges(&header).unwrap().len(), 100_000);
    }

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
    }

    /// A parameter value and how to write it: quoted (with escapes) or bare when it can be.
    fn value() -> impl Strategy<Value = (String, bool)> {
        (any::<String>(), any::<bool>()).prop_map(|(s, bare)| {
            let s: String = s
                .chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect();
            // A bare value of only `=` after `name=` reads as a token68 (`Foo a==`).
            let can_be_bare =
                !s.starts_with('=') && !s.is_empty() && s.chars().all(is_bare_value_char);
            (s, bare && can_be_bare)
        })
    }

    fn quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    fn ws() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(""), Just(" "), Just("\t"), Just("  \t ")]
    }

    proptest! {
        #[test]
        fn generated_headers_give_back_their_params(
            challenges in prop::collection::vec(
                (
                    prop_oneof![Just("Bearer".to_owned()), Just("basic".to_owned()), token()],
                    prop::collection::btree_map("[a-z][a-z0-9_-]{0,8}", value(), 0..5),
                    prop::collection::vec((ws(), ws(), ws()), 5),
                ),
                1..4,
            )
        ) {
            let mut header = String::new();
            for (i, (scheme, params, spaces)) in challenges.iter().enumerate() {
                if i > 0 {
                    header.push_str(", ");
                }
                header.push_str(scheme);
                for (j, (name, (value, bare))) in params.iter().enumerate() {
                    let (a, b, c) = spaces[j];
                    header.push_str(if j == 0 { " " } else { "," });
                    let written = if *bare { value.clone() } else { quote(value) };
                    let name = if j % 2 == 0 { name.to_ascii_uppercase() } else { name.clone() };
                    header.push_str(&format!("{a}{name}{b}={c}{written}{a}"));
                }
            }
            let got = parse_challenges(&header).map_err(|e| TestCaseError::fail(format!("{header:?}: {e}")))?;
            prop_assert_eq!(got.len(), challenges.len(), "{:?}", header);
            for (c, (scheme, params, _)) in got.iter().zip(&challenges) {
                prop_assert_eq!(&c.scheme, &AuthScheme::from_name(scheme));
                let expected: Vec<(String, String)> =
                    params.iter().map(|(n, (v, _))| (n.clone(), v.clone())).collect();
                prop_assert_eq!(&c.params, &expected, "{:?}", header);
            }
        }

        #[test]
        fn display_round_trips(
            scheme in prop_oneof![Just("Bearer".to_owned()), Just("Basic".to_owned()), token()],
            params in prop::collection::btree_map("[a-z][a-z0-9]{0,8}", value(), 1..5),
        ) {
            let c = Challenge {
                scheme: AuthScheme::from_name(&scheme),
                params: params.into_iter().map(|(n, (v, _))| (n, v)).collect(),
                token68: None,
            };
            let header = c.to_string();
            prop_assert_eq!(parse_challenges(&header).unwrap(), vec![c], "{:?}", header);
        }

        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = parse_challenges(&s);
        }

        #[test]
        fn never_panics_on_near_headers(
            s in r#"(Basic|Bearer|Neg)?[ \t]*([a-z]{0,3}[ ]?=?[ ]?("[^"]{0,4}"?|[a-z\\,"=]{0,3})[ ,]*){0,4}"#
        ) {
            if let Ok(cs) = parse_challenges(&s) {
                prop_assert!(!cs.is_empty());
            }
        }
    }
}
