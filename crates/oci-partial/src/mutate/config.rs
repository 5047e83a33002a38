//! Edits of an image config that change only what they name (crane's `mutate` flags,
//! go-containerregistry's `mutate.Canonical`), and the time ocikit writes (`SOURCE_DATE_EPOCH`).
//!
//! The edits work on the config's JSON as stored, not on a re-serialisation of
//! [`oci_types::ConfigFile`]: every key the edits do not touch keeps its place and value
//! (Docker's `null`s, `container_config`, fields this crate does not know), and a new key goes
//! where the image spec's Go types put it.

use serde_json::{Map, Value};

use oci_types::History;

use crate::{Error, InvalidKind, Result};

/// The `created` time go-containerregistry's `mutate.Canonical` writes (Go's zero time).
pub const CANONICAL_TIME: &str = "0001-01-01T00:00:00Z";

/// One change to an image config, applied by [`crate::mutate::edit_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Edit {
    /// `config.Entrypoint` (`None` removes it).
    Entrypoint(Option<Vec<String>>),
    /// `config.Cmd` (`None` removes it).
    Cmd(Option<Vec<String>>),
    /// Sets `KEY=value` in `config.Env`: in place when the key is there, at the end otherwise.
    SetEnv {
        /// The variable.
        key: String,
        /// Its value.
        value: String,
    },
    /// Removes every entry of `KEY` from `config.Env`; the others keep their order.
    UnsetEnv(String),
    /// Sets a `config.Labels` entry (`None` removes it).
    Label {
        /// The label.
        key: String,
        /// Its value.
        value: Option<String>,
    },
    /// `config.User`.
    User(String),
    /// `config.WorkingDir`.
    WorkingDir(String),
    /// Adds a `config.ExposedPorts` entry (`"80/tcp"`; a bare number gets `/tcp`).
    ExposePort(String),
    /// Adds a `config.Volumes` entry.
    Volume(String),
    /// `config.StopSignal`.
    StopSignal(String),
    /// The top-level `author`.
    Author(String),
    /// Appends a history entry; one that made a layer should come with the layer
    /// ([`crate::mutate::Addendum::with_history`]), so this is for `empty_layer` entries.
    History(History),
    /// The top-level `created` (RFC 3339, kept as given).
    Created(String),
    /// Sets `created` of every history entry (the layers' times).
    HistoryCreated(String),
    /// go-containerregistry's `mutate.Canonical` on the config: `created` and every history
    /// time set to the given time, and the fields that vary between builders (`container`,
    /// `docker_version`, `config.Hostname`) removed. See [`canonical_time`].
    Canonical(String),
}

/// Where the image spec's Go types (and so docker, skopeo and ggcr) put each top-level key.
pub(crate) const TOP_ORDER: &[&str] = &[
    "created",
    "author",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "config",
    "rootfs",
    "history",
];

/// The same for the `config` object.
const CONFIG_ORDER: &[&str] = &[
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
];

/// `edits` applied to the config bytes `raw` (what [`crate::mutate::edit_config`] does to an
/// image's config): the new bytes, compact JSON, every key not edited kept in its place. Bad
/// JSON, a config nested too deep or larger than `MAX_CONFIG_SIZE`, or a `config` that is not
/// an object is an [`Error`].
pub fn edit_config_bytes(raw: &[u8], edits: &[Edit]) -> Result<Vec<u8>> {
    apply(raw, edits)
}

pub(crate) fn apply(raw: &[u8], edits: &[Edit]) -> Result<Vec<u8>> {
    let mut doc: Value =
        oci_types::json::parse_limited(raw, "config", oci_types::limits::MAX_CONFIG_SIZE)?;
    let Some(top) = doc.as_object_mut() else {
        return Err(invalid(InvalidKind::ConfigNotAnObject));
    };
    for edit in edits {
        edit.apply(top)?;
    }
    serde_json::to_vec(&doc).map_err(|e| invalid(InvalidKind::Serialize(e.to_string())))
}

pub(crate) fn invalid(kind: InvalidKind) -> Error {
    Error::Invalid {
        what: "image config",
        kind,
    }
}

/// Sets `key` to `value`: in place when present, else where `order` puts it.
pub(crate) fn put(map: &mut Map<String, Value>, order: &[&str], key: &str, value: Value) {
    if let Some(slot) = map.get_mut(key) {
        *slot = value;
        return;
    }
    let rank = order.iter().position(|k| *k == key);
    let at = rank.and_then(|r| {
        map.keys()
            .position(|k| order.iter().position(|o| o == k).is_none_or(|kr| kr > r))
    });
    match at {
        Some(i) => {
            map.shift_insert(i, key.to_owned(), value);
        }
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

/// The `config` object, made (where the spec puts it) when absent or `null`.
fn container(top: &mut Map<String, Value>) -> Result<&mut Map<String, Value>> {
    if !top.get("config").is_some_and(Value::is_object) {
        put(top, TOP_ORDER, "config", Value::Object(Map::new()));
    }
    top.get_mut("config")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(InvalidKind::NotAnObject { field: "config" }))
}

/// An object-valued entry of `config` (`Labels`, `ExposedPorts`, `Volumes`), made when absent;
/// `field` is its path (`"config.Labels"`).
fn sub_object<'a>(
    top: &'a mut Map<String, Value>,
    field: &'static str,
) -> Result<&'a mut Map<String, Value>> {
    let key = field.strip_prefix("config.").unwrap_or(field);
    let c = container(top)?;
    if !c.get(key).is_some_and(Value::is_object) {
        put(c, CONFIG_ORDER, key, Value::Object(Map::new()));
    }
    c.get_mut(key)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(InvalidKind::NotAnObject { field }))
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().cloned().map(Value::String).collect())
}

fn env_key(entry: &Value) -> Option<&str> {
    entry
        .as_str()
        .map(|s| s.split_once('=').map_or(s, |(k, _)| k))
}

impl Edit {
    fn apply(&self, top: &mut Map<String, Value>) -> Result<()> {
        match self {
            Edit::Entrypoint(v) | Edit::Cmd(v) => {
                let key = if matches!(self, Edit::Entrypoint(_)) {
                    "Entrypoint"
                } else {
                    "Cmd"
                };
                let c = container(top)?;
                match v {
                    Some(v) => put(c, CONFIG_ORDER, key, strings(v)),
                    None => {
                        c.shift_remove(key);
                    }
                }
            }
            Edit::SetEnv { key, value } => {
                let c = container(top)?;
                let entry = Value::String(format!("{key}={value}"));
                match c.get_mut("Env").and_then(Value::as_array_mut) {
                    Some(env) => match env.iter_mut().find(|e| env_key(e) == Some(key)) {
                        Some(slot) => *slot = entry,
                        None => env.push(entry),
                    },
                    None => put(c, CONFIG_ORDER, "Env", Value::Array(vec![entry])),
                }
            }
            Edit::UnsetEnv(key) => {
                let c = container(top)?;
                if let Some(env) = c.get_mut("Env").and_then(Value::as_array_mut) {
                    env.retain(|e| env_key(e) != Some(key));
                }
            }
            Edit::Label { key, value } => match value {
                Some(v) => {
                    sub_object(top, "config.Labels")?.insert(key.clone(), Value::String(v.clone()));
                }
                None => {
                    if let Some(labels) = container(top)?
                        .get_mut("Labels")
                        .and_then(Value::as_object_mut)
                    {
                        labels.shift_remove(key);
                    }
                }
            },
            Edit::User(u) => put(container(top)?, CONFIG_ORDER, "User", u.clone().into()),
            Edit::WorkingDir(d) => put(
                container(top)?,
                CONFIG_ORDER,
                "WorkingDir",
                d.clone().into(),
            ),
            Edit::StopSignal(s) => put(
                container(top)?,
                CONFIG_ORDER,
                "StopSignal",
                s.clone().into(),
            ),
            Edit::ExposePort(p) => {
                let port = if p.contains('/') {
                    p.clone()
                } else {
                    format!("{p}/tcp")
                };
                sub_object(top, "config.ExposedPorts")?
                    .entry(port)
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            Edit::Volume(v) => {
                sub_object(top, "config.Volumes")?
                    .entry(v.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            Edit::Author(a) => put(top, TOP_ORDER, "author", a.clone().into()),
            Edit::Created(t) => put(top, TOP_ORDER, "created", t.clone().into()),
            Edit::History(h) => {
                let entry = serde_json::to_value(h)
                    .map_err(|e| invalid(InvalidKind::Serialize(e.to_string())))?;
                match top.get_mut("history").and_then(Value::as_array_mut) {
                    Some(history) => history.push(entry),
                    None => put(top, TOP_ORDER, "history", Value::Array(vec![entry])),
                }
            }
            Edit::HistoryCreated(t) => set_history_times(top, t),
            Edit::Canonical(t) => {
                put(top, TOP_ORDER, "created", t.clone().into());
                set_history_times(top, t);
                top.shift_remove("container");
                top.shift_remove("docker_version");
                if let Some(c) = top.get_mut("config").and_then(Value::as_object_mut) {
                    c.shift_remove("Hostname");
                }
            }
        }
        Ok(())
    }
}

fn set_history_times(top: &mut Map<String, Value>, t: &str) {
    if let Some(history) = top.get_mut("history").and_then(Value::as_array_mut) {
        for h in history.iter_mut().filter_map(Value::as_object_mut) {
            let order = ["created", "created_by", "author", "comment", "empty_layer"];
            put(h, &order, "created", t.into());
        }
    }
}

/// `SOURCE_DATE_EPOCH` (seconds since 1970, as reproducible-builds.org defines it) as an
/// RFC 3339 time, when set; `Err` when set to something that is not a number of seconds.
pub fn source_date_epoch() -> Result<Option<String>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.trim().is_empty() => {
            let secs: i64 = s.trim().parse().map_err(|_| Error::Invalid {
                what: "SOURCE_DATE_EPOCH",
                kind: InvalidKind::NotSeconds { value: s.clone() },
            })?;
            Ok(Some(rfc3339(secs)))
        }
        _ => Ok(None),
    }
}

/// The time a canonical image carries: `SOURCE_DATE_EPOCH` when set, else
/// [`CANONICAL_TIME`] (what go-containerregistry's `mutate.Canonical` writes).
pub fn canonical_time() -> Result<String> {
    Ok(source_date_epoch()?.unwrap_or_else(|| CANONICAL_TIME.to_owned()))
}

/// `secs` since 1970 (UTC) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn canonical_drops_builder_fields_and_edits_are_idempotent() {
        let raw = br#"{"architecture":"amd64","config":{"Hostname":"abc","Env":null,"Cmd":null,"Labels":null},"container":"abc","container_config":{"Hostname":"abc"},"created":"2024-01-01T00:00:00.1Z","docker_version":"20.10","history":[{"created":"x","created_by":"y"},{"created_by":"z","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let edits = [
            Edit::SetEnv {
                key: "A".into(),
                value: "1".into(),
            },
            Edit::Canonical(CANONICAL_TIME.into()),
        ];
        let once = apply(raw, &edits).unwrap();
        assert_eq!(apply(&once, &edits).unwrap(), once);
        assert_eq!(
            String::from_utf8(once).unwrap(),
            r#"{"architecture":"amd64","config":{"Env":["A=1"],"Cmd":null,"Labels":null},"container_config":{"Hostname":"abc"},"created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z","created_by":"y"},{"created":"0001-01-01T00:00:00Z","created_by":"z","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
        );
        assert!(apply(b"[]", &edits).is_err());
        assert!(apply(b"{\"config\":", &edits).is_err());
    }

    #[test]
    fn new_keys_go_where_the_spec_puts_them() {
        let raw = br#"{"architecture":"amd64","os":"linux","config":{"Env":["A=1","B=2"],"Labels":null},"rootfs":{"type":"layers","diff_ids":[]},"x":1}"#;
        let out = apply(
            raw,
            &[
                Edit::Created("2024-01-01T00:00:00Z".into()),
                Edit::SetEnv {
                    key: "A".into(),
                    value: "3".into(),
                },
                Edit::SetEnv {
                    key: "C".into(),
                    value: "4".into(),
                },
                Edit::UnsetEnv("B".into()),
                Edit::User("nobody".into()),
                Edit::Cmd(Some(vec!["sh".into()])),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"User":"nobody","Env":["A=3","C=4"],"Cmd":["sh"],"Labels":null},"rootfs":{"type":"layers","diff_ids":[]},"x":1}"#
        );
    }
}
