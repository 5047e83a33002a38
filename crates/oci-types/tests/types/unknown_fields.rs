//! Unknown fields survive parse -> serialise -> parse, at every level of a document.

use oci_types::{ConfigFile, Document, Index, Manifest, Raw};
use serde_json::{json, Value};

use crate::{data, CONFIGS, INDEXES, MANIFESTS};

/// Adds an unknown member to every object found at `pointers` (a pointer ending in `/*`
/// means every element of that array), then checks each survives a round trip.
fn check<T: Document + PartialEq + std::fmt::Debug>(name: &str, pointers: &[&str]) -> usize {
    let mut v: Value = serde_json::from_slice(&data(name)).unwrap();
    let mut planted = Vec::new();
    for p in pointers {
        let targets: Vec<String> = match p.strip_suffix("/*") {
            Some(array) => match v.pointer(array) {
                Some(Value::Array(a)) => (0..a.len()).map(|i| format!("{array}/{i}")).collect(),
                _ => continue,
            },
            None => vec![p.to_string()],
        };
        for t in targets {
            if let Some(Value::Object(obj)) = v.pointer_mut(&t) {
                let value = json!({"at": t, "n": [1, 2.5, null, true], "nested": {"k": "v"}});
                obj.insert("x-unknown-field".into(), value.clone());
                obj.insert("com.example/odd key".into(), json!(t));
                planted.push((t, value));
            }
        }
    }
    let bytes = serde_json::to_vec(&v).unwrap();
    let parsed = Raw::<T>::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = serde_json::to_string(parsed.value()).unwrap();
    let again = Raw::<T>::parse(text.clone().into_bytes()).unwrap();
    assert_eq!(again.value(), parsed.value(), "{name}");
    let out: Value = serde_json::from_str(&text).unwrap();
    for (t, value) in &planted {
        let obj = out
            .pointer(t)
            .unwrap_or_else(|| panic!("{name}: {t} vanished"));
        assert_eq!(
            obj.get("x-unknown-field"),
            Some(value),
            "{name}: lost unknown field at {t}"
        );
        assert_eq!(
            obj.get("com.example/odd key"),
            Some(&json!(t)),
            "{name}: {t}"
        );
    }
    planted.len()
}

const MANIFEST_POINTERS: &[&str] = &["", "/config", "/layers/*", "/subject"];
const INDEX_POINTERS: &[&str] = &["", "/manifests/*", "/subject"];

#[test]
fn manifests_keep_unknown_fields() {
    for name in MANIFESTS {
        assert!(check::<Manifest>(name, MANIFEST_POINTERS) >= 3, "{name}");
    }
}

#[test]
fn indexes_keep_unknown_fields() {
    for name in INDEXES {
        // Platform objects too.
        let v: Value = serde_json::from_slice(&data(name)).unwrap();
        let n = v["manifests"].as_array().unwrap().len();
        let platform_pointers: Vec<String> = (0..n)
            .filter(|i| v["manifests"][i].get("platform").is_some())
            .map(|i| format!("/manifests/{i}/platform"))
            .collect();
        let mut pointers: Vec<&str> = INDEX_POINTERS.to_vec();
        pointers.extend(platform_pointers.iter().map(String::as_str));
        assert!(check::<Index>(name, &pointers) >= 2, "{name}");
    }
}

#[test]
fn configs_keep_unknown_fields() {
    for name in CONFIGS {
        let n = check::<ConfigFile>(
            name,
            &[
                "",
                "/config",
                "/config/Healthcheck",
                "/rootfs",
                "/history/*",
            ],
        );
        assert!(n >= 3, "{name}: {n}");
    }
}

#[test]
fn unknown_fields_are_visible_in_extra() {
    let mut v: Value = serde_json::from_slice(&data("oci-image-index.json")).unwrap();
    v["manifests"][0]["platform"]["x-cpu"] = json!("fast");
    v["manifests"][1]["x-desc"] = json!(7);
    v["x-top"] = json!({"a": []});
    let i = Index::from_slice(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(i.extra["x-top"], json!({"a": []}));
    assert_eq!(i.manifests[1].extra["x-desc"], 7);
    assert_eq!(
        i.manifests[0].platform.as_ref().unwrap().extra["x-cpu"],
        "fast"
    );
    assert!(i.manifests[0].extra.is_empty());
}
