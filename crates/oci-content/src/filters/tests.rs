use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::InvalidArgumentKind;

/// A test object with a name, another string field and labels.
#[derive(Debug, PartialEq)]
struct Obj {
    name: &'static str,
    other: &'static str,
    labels: BTreeMap<String, String>,
}

impl Adaptor for Obj {
    fn field(&self, path: &[String]) -> Option<Cow<'_, str>> {
        let nonempty = |s: &'static str| (!s.is_empty()).then_some(Cow::Borrowed(s));
        match path.first()?.as_str() {
            "name" => nonempty(self.name),
            "other" => nonempty(self.other),
            "labels" => self
                .labels
                .get(&path[1..].join("."))
                .map(|v| Cow::Borrowed(v.as_str())),
            _ => None,
        }
    }
}

fn obj(name: &'static str, other: &'static str, labels: &[(&str, &str)]) -> Obj {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Obj {
        name,
        other,
        labels,
    }
}

fn corpus() -> Vec<Obj> {
    vec![
        obj("foo", "", &[("foo", "true")]),
        obj("bar", "", &[]),
        obj(
            "foo",
            "",
            &[("foo", "present"), ("more complex label", "present")],
        ),
        obj("bar", "", &[("bar", "true")]),
        obj(
            "fooer",
            "",
            &[("more complex label with \\ and \"", "present")],
        ),
        obj(
            "fooer",
            "",
            &[("more complex label with \\ and \".post", "present")],
        ),
        obj("baz", "too complex, yo", &[]),
        obj("bazo", "abc", &[]),
        obj("compound", "", &[("foo", "omg_asdf.asdf-qwer")]),
    ]
}

fn matching(input: &str) -> Vec<usize> {
    let f = Filter::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    corpus()
        .iter()
        .enumerate()
        .filter(|(_, o)| f.matches(*o))
        .map(|(i, _)| i)
        .collect()
}

fn error(input: &str) -> String {
    match Filter::parse(input) {
        Ok(f) => panic!("{input:?} parsed as {f:?}"),
        Err(Error::InvalidArgument {
            kind: InvalidArgumentKind::Filter(message),
            ..
        }) => format!("filters: {message}"),
        Err(e) => panic!("{input:?}: wrong error {e}"),
    }
}

#[test]
fn matches_as_containerd() {
    assert_eq!(matching(""), (0..9).collect::<Vec<_>>());
    assert_eq!(matching("name"), (0..9).collect::<Vec<_>>());
    assert_eq!(matching("labels.foo"), [0, 2, 8]);
    assert_eq!(matching("labels.foo,name"), [0, 2, 8]);
    assert_eq!(matching("labels.foo==true"), [0]);
    assert_eq!(matching("labels.foo==omg_asdf.asdf-qwer"), [8]);
    assert_eq!(matching("name==bar"), [1, 3]);
    assert_eq!(matching("name!=bar"), [0, 2, 4, 5, 6, 7, 8]);
    assert_eq!(matching("name==bar,labels.bar"), [3]);
    assert_eq!(matching("other==\"too complex, yo\""), [6]);
    assert_eq!(matching("other~=[abc]+,name!=foo"), [6, 7]);
    assert_eq!(matching("other~=/[abc]+/,name!=foo"), [6, 7]);
    assert_eq!(matching("other~=/[abc]{1,2}/,name!=foo"), [6, 7]);
    assert_eq!(matching("other~=|[abc]{1,2}|,name!=foo"), [6, 7]);
    assert_eq!(
        matching("other~=/[abc]{0,1}\"\\//,name!=foo"),
        Vec::<usize>::new()
    );
    assert_eq!(matching("name==bar,labels.bar==true"), [3]);
    assert_eq!(matching("name==bar,labels.bar==wrong"), Vec::<usize>::new());
    assert_eq!(matching(r#"name==foo,labels."more complex label""#), [2]);
    assert_eq!(
        matching(r#"labels."more complex label with \\ and \""==present"#),
        [4]
    );
    assert_eq!(
        matching(r#"labels."more complex label with \\ and \"".post==present"#),
        [5]
    );
    // Spaces between tokens are skipped, except before a separator.
    assert_eq!(matching("name == bar"), [1, 3]);
    // `!=` and `~=` treat an absent field as empty.
    assert_eq!(matching("other!=abc"), [0, 1, 2, 3, 4, 5, 6, 8]);
    assert_eq!(matching("other~=^$"), [0, 1, 2, 3, 4, 5, 8]);
}

#[test]
fn errors_as_containerd() {
    let cases = [
        (
            "labels.|foo|==omg_asdf.asdf-qwer",
            "filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered",
        ),
        (
            r#"labels.?"more complex label with \\ and \"".post==present"#,
            r#"filters: parse error: [labels. >|?|< "more complex label with \\ and \"".post==present]: expected field or quoted"#,
        ),
        ("name==foo,", "filters: parse error: [name==foo,]: expected field or quoted"),
        ("labels.", "filters: parse error: [labels.]: expected field or quoted"),
        (
            "image~=,id?=?fbaq",
            "filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted",
        ),
        (
            "labels.ns/key==value",
            "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated",
        ),
        (
            "labels.key==/value",
            "filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(error(input), want, "{input:?}");
    }
    for bad in [
        "name===x",
        "name=x",
        "name ,x",
        "a==b ",
        "a==\"x\"y",
        "a==/x/",
        "a\0",
        "a==\"\\xff\"",
        "a~=(",
        ",a",
        "a..b",
    ] {
        error(bad);
    }
}

fn field_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9_]{1,8}", any::<String>(), "[ -~]{0,12}",]
}

fn selector_strategy() -> impl Strategy<Value = Selector> {
    let fieldpath = prop::collection::vec(field_strategy(), 1..4);
    let value = prop_oneof!["[A-Za-z0-9_.:@+-]{1,10}", any::<String>(), "[ -~]{0,12}"];
    let op = prop_oneof![
        Just(Operator::Present),
        Just(Operator::Equal),
        Just(Operator::NotEqual),
        Just(Operator::Matches)
    ];
    (fieldpath, op, value).prop_map(|(fieldpath, op, value)| match op {
        Operator::Present => Selector::new(fieldpath, op, String::new()),
        Operator::Matches => {
            let mut s = Selector::new(fieldpath, op, regex::escape(&value));
            s.compile().unwrap();
            s
        }
        _ => Selector::new(fieldpath, op, value),
    })
}

proptest! {
    #[test]
    fn display_round_trips(selectors in prop::collection::vec(selector_strategy(), 1..4)) {
        let f = Filter { selectors };
        let text = f.to_string();
        let back = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(back, f, "{}", text);
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        if let Ok(f) = Filter::parse(&s) {
            // Whatever parses prints as something that parses to the same filter.
            let text = f.to_string();
            prop_assert_eq!(Filter::parse(&text).ok(), Some(f), "{}", text);
        }
    }

    #[test]
    fn escaped_regex_matches_itself(value in any::<String>()) {
        let f = Filter { selectors: vec![{
            let mut s = Selector::new(vec!["name".into()], Operator::Matches, format!("^{}$", regex::escape(&value)));
            s.compile().unwrap();
            s
        }] };
        struct One(String);
        impl Adaptor for One {
            fn field(&self, _: &[String]) -> Option<Cow<'_, str>> { Some(Cow::Borrowed(&self.0)) }
        }
        let back = Filter::parse(&f.to_string()).unwrap();
        prop_assert!(back.matches(&One(value)));
    }
}
