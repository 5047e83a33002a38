//! Tests of `WWW-Authenticate` parsing: RFC examples, what registries send, and bad input.
#![allow(clippy::indexing_slicing)] // tests index what they just asserted

use super::*;
use crate::error::{Expected, HeaderErrorKind as K};
use crate::Error;
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
    for (header, want) in [
        ("", K::NoChallenge),
        ("   ", K::NoChallenge),
        (",,, ,", K::NoChallenge),
        (
            r#"Basic realm="unterminated"#,
            K::UnterminatedQuote { at: 12 },
        ),
        (
            r#"Basic realm="ends in a backslash\"#,
            K::UnterminatedQuote { at: 12 },
        ),
        (
            "Bearer realm=",
            K::NoValue {
                name: "realm".into(),
                link: false,
                found: None,
                at: 13,
            },
        ),
        (
            "Bearer realm=,service=x",
            K::NoValue {
                name: "realm".into(),
                link: false,
                found: Some(','),
                at: 13,
            },
        ),
        (
            r#"Bearer realm="x",service="#,
            K::NoValue {
                name: "service".into(),
                link: false,
                found: None,
                at: 25,
            },
        ),
        (
            r#"Bearer realm"x""#,
            K::Unexpected {
                expected: Expected::Equals("realm".into()),
                found: Some('"'),
                at: 12,
            },
        ),
        (
            r#"Bearer realm="x" service="y""#,
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('s'),
                at: 17,
            },
        ),
        (
            r#"Bearer realm="x"garbage"#,
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('g'),
                at: 16,
            },
        ),
        (
            r#"Bearer ="x""#,
            K::Unexpected {
                expected: Expected::ParameterName,
                found: Some('='),
                at: 7,
            },
        ),
        (
            r#""Bearer" realm="x""#,
            K::Unexpected {
                expected: Expected::AuthScheme,
                found: Some('"'),
                at: 0,
            },
        ),
        (
            r#"Bearer="x""#,
            K::Unexpected {
                expected: Expected::SpaceAfterScheme("Bearer".into()),
                found: Some('='),
                at: 6,
            },
        ),
        (
            r#"Basic realm="a",realm="b""#,
            K::DuplicateParameter {
                name: "realm".into(),
                scheme: "Basic".into(),
            },
        ),
        (
            r#"Basic realm="a",REALM="b""#,
            K::DuplicateParameter {
                name: "realm".into(),
                scheme: "Basic".into(),
            },
        ),
        (
            "Basic realm=\"new\nline\"",
            K::ControlCharacter {
                character: '\n',
                at: 16,
            },
        ),
        (
            "Basic realm=\"nul\0\"",
            K::ControlCharacter {
                character: '\0',
                at: 16,
            },
        ),
        (
            "Basic\u{0}",
            K::Unexpected {
                expected: Expected::SpaceAfterScheme("Basic".into()),
                found: Some('\0'),
                at: 5,
            },
        ),
        (
            "Basic realm=x\u{7f}",
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('\u{7f}'),
                at: 13,
            },
        ),
        (
            "Bearer realm=\"x\"\r\n",
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('\r'),
                at: 16,
            },
        ),
        (
            "Bearer realm=a\\b",
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('\\'),
                at: 14,
            },
        ),
        (
            "Negotiate abc, realm=x",
            K::Unexpected {
                expected: Expected::SpaceAfterScheme("realm".into()),
                found: Some('='),
                at: 20,
            },
        ),
        (
            "Basic realm=x Bearer",
            K::Unexpected {
                expected: Expected::Comma("realm".into()),
                found: Some('B'),
                at: 14,
            },
        ),
    ] {
        match parse_challenges(header) {
            Err(Error::InvalidHeader {
                header: "WWW-Authenticate",
                kind,
            }) => assert_eq!(kind, want, "{header:?}"),
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
    let e = parse_challenges(r#"Basic realm="x"#).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidHeader {
                kind: K::UnterminatedQuote { at: 12 },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "invalid WWW-Authenticate header: unterminated quoted string starting at byte 12"
    );
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
        let can_be_bare = !s.starts_with('=') && !s.is_empty() && s.chars().all(is_bare_value_char);
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
