//! `mutate::edit_config_bytes`: never panics on any bytes; on what it accepts, the edits are
//! idempotent, the result is a JSON object, and every top-level key they do not touch keeps
//! its value and order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_partial::mutate::{edit_config_bytes, Edit};
use serde_json::Value;

const TOUCHED: &[&str] = &["config", "created", "history", "container", "docker_version"];

fuzz_target!(|bytes: &[u8]| {
    let edits = [
        Edit::Entrypoint(Some(vec!["/app".into()])),
        Edit::Cmd(None),
        Edit::SetEnv {
            key: "PATH".into(),
            value: "/bin".into(),
        },
        Edit::UnsetEnv("HOME".into()),
        Edit::Label {
            key: "a".into(),
            value: Some("b".into()),
        },
        Edit::ExposePort("80".into()),
        Edit::Volume("/data".into()),
        Edit::Canonical("1970-01-01T00:00:00Z".into()),
    ];
    let Ok(out) = edit_config_bytes(bytes, &edits) else {
        return;
    };
    let after: Value = serde_json::from_slice(&out).expect("the result is JSON");
    let before: Value = serde_json::from_slice(bytes).expect("accepted input is JSON");
    let (a, b) = (after.as_object().unwrap(), before.as_object().unwrap());
    let kept = |m: &serde_json::Map<String, Value>| -> Vec<(String, Value)> {
        m.iter()
            .filter(|(k, _)| !TOUCHED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(kept(a), kept(b), "untouched keys changed");
    let again = edit_config_bytes(&out, &edits).expect("the result is accepted again");
    assert_eq!(again, out, "edits are idempotent");
});
