//! What [`Config::from_env`](super::Config::from_env) reads: the `NEATLOGS_*`
//! variables, then the OpenTelemetry ones (`OTEL_EXPORTER_OTLP_*`,
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SDK_DISABLED`) as
//! the OTLP exporter specification defines them, for whatever the
//! `NEATLOGS_*` ones leave unset. A value that cannot be used is kept as a
//! [`Problem`] naming its variable, and `init` fails with it.

use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::{Config, Endpoint};
use crate::export::{Compression, Conventions, Protocol};
use crate::sampling;

/// The setting a variable feeds: an explicit `Config` call for the same
/// setting clears the variable's problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    Endpoint,
    Headers,
    Protocol,
    Compression,
    Timeout,
    Conventions,
    Resource,
    Disabled,
    Sampler,
    UsageInterval,
}

/// A variable whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) setting: Setting,
    pub(crate) name: &'static str,
    /// Says what is wrong; names the value unless it may be a secret.
    pub(crate) reason: String,
}

const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
const TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
const TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
const TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
const TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
const SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
const CONVENTIONS: &str = "NEATLOGS_CONVENTIONS";
const NEATLOGS_COMPRESSION: &str = "NEATLOGS_COMPRESSION";
pub(crate) const METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// Resource keys the SDK writes itself: dropped (with a warning) from
/// `OTEL_RESOURCE_ATTRIBUTES`, so that the operator and the session cannot
/// be given there by mistake.
const OWN_RESOURCE_KEYS: &[&str] = &[
    "user.id",
    "session.id",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "openinference.project.name",
];

/// Read the OpenTelemetry variables into `config` (after the `NEATLOGS_*`
/// ones: a setting those gave is kept). `var` looks a variable up; empty
/// values count as unset.
pub(crate) fn read_otel(config: &mut Config, var: impl Fn(&str) -> Option<String>) {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    // The signal-specific variable wins over the generic one.
    let pick = |traces: &'static str, generic: &'static str| {
        var(traces)
            .map(|v| (traces, v))
            .or_else(|| var(generic).map(|v| (generic, v)))
    };

    if config.endpoint.is_none() {
        if let Some(url) = var(TRACES_ENDPOINT) {
            config.endpoint = Some(Endpoint {
                url,
                exact: true,
                var: Some(TRACES_ENDPOINT),
            });
        } else if let Some(url) = var(ENDPOINT) {
            config.endpoint = Some(Endpoint {
                url,
                exact: false,
                var: Some(ENDPOINT),
            });
        }
    }

    // Generic first, then the traces-specific ones replace a same-named
    // header.
    for name in [HEADERS, TRACES_HEADERS] {
        let Some(value) = var(name) else { continue };
        match parse_headers(&value) {
            Ok(headers) => {
                for (k, v) in headers {
                    set_header(&mut config.env_headers, k, v);
                }
            }
            Err(reason) => config.problem(Setting::Headers, name, reason),
        }
    }

    if config.protocol.is_none() {
        if let Some((name, value)) = pick(TRACES_PROTOCOL, PROTOCOL) {
            match value.trim() {
                "grpc" => config.problem(
                    Setting::Protocol,
                    name,
                    "`grpc` is not supported; use http/protobuf (port 4318) or http/json".into(),
                ),
                v => match v.parse::<Protocol>() {
                    Ok(p) => config.protocol = Some(Ok(p)),
                    Err(e) => config.problem(Setting::Protocol, name, e.to_string()),
                },
            }
        }
    }

    // NEATLOGS_COMPRESSION beats both OpenTelemetry variables.
    let compression = var(NEATLOGS_COMPRESSION)
        .map(|v| (NEATLOGS_COMPRESSION, v))
        .or_else(|| pick(TRACES_COMPRESSION, COMPRESSION));
    if let Some((name, value)) = compression {
        match value.parse::<Compression>() {
            Ok(c) => config.compression = c,
            Err(e) => config.problem(Setting::Compression, name, e.to_string()),
        }
    }

    if let Some((name, value)) = pick(TRACES_TIMEOUT, TIMEOUT) {
        match value.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => config.export_timeout = Duration::from_millis(ms),
            _ => config.problem(
                Setting::Timeout,
                name,
                format!("`{value}`: expected a positive number of milliseconds"),
            ),
        }
    }

    let mut service_name = var(SERVICE_NAME);
    if let Some(value) = var(RESOURCE_ATTRIBUTES) {
        match parse_pairs(&value) {
            Ok(pairs) => {
                for (k, v) in pairs {
                    if k == "service.name" {
                        service_name.get_or_insert(v);
                    } else if OWN_RESOURCE_KEYS.contains(&k.as_str()) || k.starts_with("neatlogs.")
                    {
                        log::warn!(
                            "neatlogs: {RESOURCE_ATTRIBUTES}: `{k}` is written by the SDK and was ignored (the operator is Config::operator_id, the session Config::session_id)"
                        );
                    } else {
                        config.resource_attributes.push((k, v));
                    }
                }
            }
            Err(reason) => config.problem(Setting::Resource, RESOURCE_ATTRIBUTES, reason),
        }
    }
    if config.workflow_name.is_none() {
        config.workflow_name = service_name;
    }

    if let Some(name) = var(sampling::SAMPLER) {
        match sampling::from_env(&name, var(sampling::SAMPLER_ARG).as_deref()) {
            Ok(sampler) => config.sampler = sampler,
            Err((variable, reason)) => config.problem(Setting::Sampler, variable, reason),
        }
    }

    if let Some(value) = var(METRIC_EXPORT_INTERVAL) {
        match value.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => config.usage_interval = Duration::from_millis(ms),
            _ => config.problem(
                Setting::UsageInterval,
                METRIC_EXPORT_INTERVAL,
                format!("`{value}`: expected a positive number of milliseconds"),
            ),
        }
    }

    if let Some(value) = var(SDK_DISABLED) {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" => config.sdk_disabled = true,
            "false" => {}
            _ => config.problem(
                Setting::Disabled,
                SDK_DISABLED,
                format!("`{value}`: expected true or false"),
            ),
        }
    }
}

/// Read `NEATLOGS_CONVENTIONS` into `config`.
pub(crate) fn read_conventions(config: &mut Config, var: impl Fn(&str) -> Option<String>) {
    let Some(value) = var(CONVENTIONS).filter(|v| !v.trim().is_empty()) else {
        return;
    };
    match value.parse::<Conventions>() {
        Ok(c) => config.conventions = c,
        Err(e) => config.problem(Setting::Conventions, CONVENTIONS, e.to_string()),
    }
}

/// Replace a header of the same name (names are case-insensitive), else add.
pub(crate) fn set_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    match headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(&name))
    {
        Some(slot) => slot.1 = value,
        None => headers.push((name, value)),
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `name=value` pairs, comma-separated, the
/// values percent-decoded (the W3C Baggage format without properties).
/// Errors never repeat a value: it may be a secret.
fn parse_headers(s: &str) -> Result<Vec<(String, String)>, String> {
    let pairs = parse_pairs(s)?;
    for (i, (name, value)) in pairs.iter().enumerate() {
        if !is_header_name(name) {
            return Err(format!(
                "entry {}: `{name}` is not a valid HTTP header name",
                i + 1
            ));
        }
        if !is_header_value(value) {
            return Err(format!(
                "entry {} (`{name}`): the value has control characters",
                i + 1
            ));
        }
    }
    Ok(pairs)
}

/// An HTTP header name: a non-empty token (RFC 9110 `tchar`s).
pub(crate) fn is_header_name(name: &str) -> bool {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty() && name.bytes().all(tchar)
}

/// An HTTP header value: no control characters but tab.
pub(crate) fn is_header_value(value: &str) -> bool {
    !value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

/// `key=value,key=value`, keys trimmed, values trimmed and percent-decoded
/// (W3C Baggage without properties). Errors name the entry, not its value.
fn parse_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, entry) in s.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = entry.split_once('=') else {
            return Err(format!("entry {} has no `=` (expected key=value)", i + 1));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("entry {} has an empty key", i + 1));
        }
        let value = percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| {
                format!(
                    "entry {} (`{key}`): the value is not UTF-8 once decoded",
                    i + 1
                )
            })?;
        out.push((key.to_owned(), value.into_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InitError;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error(vars: &[(&str, &str)]) -> String {
        match config(vars).transport() {
            Err(e) => e.to_string(),
            Ok(t) => panic!("{vars:?} should fail, got {t:?}"),
        }
    }

    /// One row per variable and precedence case: what the exporter gets.
    #[test]
    fn variables_and_precedence() {
        // (variables, traces URL, headers, protocol, compression, timeout ms)
        type Row<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            &'a [(&'a str, &'a str)],
            Protocol,
            Compression,
            u64,
        );
        let pb = Protocol::HttpProtobuf;
        let gz = Compression::Gzip;
        let rows: &[Row] = &[
            (&[], None, &[], pb, gz, 10_000),
            // The base endpoint gets /v1/traces, its path kept.
            (
                &[(ENDPOINT, "https://cloud.langfuse.com/api/public/otel")],
                Some("https://cloud.langfuse.com/api/public/otel/v1/traces"),
                &[],
                pb,
                gz,
                10_000,
            ),
            (
                &[(ENDPOINT, "http://127.0.0.1:6006/")],
                Some("http://127.0.0.1:6006/v1/traces"),
                &[],
                pb,
                gz,
                10_000,
            ),
            // The traces endpoint is used as is, and beats the base one.
            (
                &[
                    (ENDPOINT, "http://a:4318"),
                    (TRACES_ENDPOINT, "http://b:4318/custom/path"),
                ],
                Some("http://b:4318/custom/path"),
                &[],
                pb,
                gz,
                10_000,
            ),
            // NEATLOGS_ENDPOINT beats both.
            (
                &[
                    ("NEATLOGS_ENDPOINT", "http://n:4318"),
                    (TRACES_ENDPOINT, "http://b:4318/v1/traces"),
                ],
                Some("http://n:4318/v1/traces"),
                &[],
                pb,
                gz,
                10_000,
            ),
            // Headers: percent-decoded; the traces-specific one replaces a
            // same-named generic one (case-insensitively).
            (
                &[
                    (ENDPOINT, "http://h:4318"),
                    (
                        HEADERS,
                        "Authorization=Basic%20cGs6c2s=, x-tenant = acme,empty=",
                    ),
                    (TRACES_HEADERS, "x-TENANT=globex"),
                ],
                Some("http://h:4318/v1/traces"),
                &[
                    ("Authorization", "Basic cGs6c2s="),
                    ("x-tenant", "globex"),
                    ("empty", ""),
                ],
                pb,
                gz,
                10_000,
            ),
            // Protocol, compression, timeout: the traces-specific variable
            // wins; NEATLOGS_PROTOCOL beats both.
            (
                &[
                    (PROTOCOL, "http/protobuf"),
                    (TRACES_PROTOCOL, "http/json"),
                    (COMPRESSION, "gzip"),
                    (TRACES_COMPRESSION, "none"),
                    (TIMEOUT, "2500"),
                    (TRACES_TIMEOUT, "1500"),
                ],
                None,
                &[],
                Protocol::HttpJson,
                Compression::None,
                1_500,
            ),
            (
                &[
                    ("NEATLOGS_PROTOCOL", "http/protobuf"),
                    (PROTOCOL, "http/json"),
                    (COMPRESSION, "none"),
                    (TIMEOUT, "2500"),
                ],
                None,
                &[],
                pb,
                Compression::None,
                2_500,
            ),
        ];
        for (vars, url, headers, protocol, compression, timeout) in rows {
            let t = config(vars)
                .transport()
                .unwrap_or_else(|e| panic!("{vars:?}: {e}"));
            assert_eq!(t.url.as_deref(), *url, "{vars:?}");
            let want: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(t.headers, want, "{vars:?}");
            assert_eq!(t.protocol, *protocol, "{vars:?}");
            assert_eq!(t.compression, *compression, "{vars:?}");
            assert_eq!(
                t.export_timeout,
                Duration::from_millis(*timeout),
                "{vars:?}"
            );
        }
    }

    #[test]
    fn explicit_config_beats_the_environment() {
        let vars = [
            (ENDPOINT, "http://env:4318"),
            (HEADERS, "x-a=env,x-b=env"),
            (PROTOCOL, "grpc"),
            (COMPRESSION, "zstd"),
            (TIMEOUT, "5000"),
            (SERVICE_NAME, "env-service"),
            (CONVENTIONS, "openinference"),
        ];
        let t = config(&vars)
            .endpoint("http://explicit:4318")
            .header("x-a", "explicit")
            .protocol(Protocol::HttpJson)
            .compression(Compression::Gzip)
            .export_timeout(Duration::from_secs(3))
            .conventions(Conventions::GENAI)
            .workflow_name("explicit-service")
            .transport()
            .unwrap();
        assert_eq!(t.url.as_deref(), Some("http://explicit:4318/v1/traces"));
        assert_eq!(
            t.headers,
            vec![
                ("x-a".into(), "explicit".into()),
                ("x-b".into(), "env".into())
            ]
        );
        assert_eq!(t.protocol, Protocol::HttpJson);
        assert_eq!(t.compression, Compression::Gzip);
        assert_eq!(t.export_timeout, Duration::from_secs(3));
        let c = config(&vars)
            .conventions(Conventions::GENAI)
            .workflow_name("x");
        assert_eq!(c.conventions, Conventions::GENAI);
        assert_eq!(c.workflow_name.as_deref(), Some("x"));
    }

    #[test]
    fn service_name_resource_attributes_conventions_and_disabled() {
        let c = config(&[(
            RESOURCE_ATTRIBUTES,
            "service.name=from-attrs,deployment.environment=prod%2Ceu,user.id=ops,neatlogs.x=1",
        )]);
        assert_eq!(c.workflow_name.as_deref(), Some("from-attrs"));
        assert_eq!(
            c.resource_attributes,
            vec![("deployment.environment".into(), "prod,eu".into())],
            "user.id and neatlogs.* are the SDK's own and are dropped"
        );
        let c = config(&[
            (SERVICE_NAME, "svc"),
            (RESOURCE_ATTRIBUTES, "service.name=other"),
        ]);
        assert_eq!(c.workflow_name.as_deref(), Some("svc"));
        let c = config(&[(CONVENTIONS, " genai , NEATLOGS ")]);
        assert_eq!(c.conventions, Conventions::GENAI | Conventions::NEATLOGS);
        assert_eq!(config(&[]).conventions, Conventions::NEATLOGS);
        assert!(config(&[(SDK_DISABLED, "TRUE")]).sdk_disabled);
        assert!(!config(&[(SDK_DISABLED, "false")]).sdk_disabled);
    }

    /// `NEATLOGS_COMPRESSION` beats the OpenTelemetry variables; `zstd` is
    /// an encoding with the `zstd` feature, and without it an error that
    /// names the variable and the feature.
    #[test]
    fn compression_variables_and_zstd() {
        let compression = |vars: &[(&str, &str)]| config(vars).transport().map(|t| t.compression);
        assert_eq!(
            compression(&[(NEATLOGS_COMPRESSION, "none"), (TRACES_COMPRESSION, "gzip")]).unwrap(),
            Compression::None
        );
        assert_eq!(
            compression(&[(NEATLOGS_COMPRESSION, " GZIP "), (COMPRESSION, "none")]).unwrap(),
            Compression::Gzip
        );
        for var in [NEATLOGS_COMPRESSION, COMPRESSION, TRACES_COMPRESSION] {
            #[cfg(feature = "zstd")]
            assert_eq!(compression(&[(var, "zstd")]).unwrap(), Compression::Zstd);
            #[cfg(not(feature = "zstd"))]
            {
                let e = error(&[(var, "zstd")]);
                assert!(e.contains(var), "{e}");
                assert!(e.contains("cargo feature `zstd`"), "{e}");
            }
        }
        // The explicit setting clears the variable's problem either way.
        let t = config(&[(COMPRESSION, "zstd")])
            .compression(Compression::None)
            .transport()
            .unwrap();
        assert_eq!(t.compression, Compression::None);
    }

    /// Every bad value fails `init` with an error that names its variable,
    /// and never repeats a header value.
    #[test]
    fn bad_values_name_their_variable() {
        // (variables, the variable named, what the error says)
        type Row<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let rows: &[Row] = &[
            (&[(ENDPOINT, "not a url")], ENDPOINT, "not a URL"),
            (
                &[(TRACES_ENDPOINT, "ftp://h/v1/traces")],
                TRACES_ENDPOINT,
                "scheme",
            ),
            (&[(HEADERS, "authorization")], HEADERS, "entry 1 has no `=`"),
            (
                &[(TRACES_HEADERS, "a=1,=2")],
                TRACES_HEADERS,
                "entry 2 has an empty key",
            ),
            (
                &[(HEADERS, "bad name=secret1")],
                HEADERS,
                "not a valid HTTP header name",
            ),
            (&[(HEADERS, "x=%FF%FE")], HEADERS, "not UTF-8"),
            (&[(HEADERS, "x=a%0Ab")], HEADERS, "control characters"),
            (&[(PROTOCOL, "grpc")], PROTOCOL, "`grpc` is not supported"),
            (&[(TRACES_PROTOCOL, "thrift")], TRACES_PROTOCOL, "thrift"),
            (&[(COMPRESSION, "brotli")], COMPRESSION, "expected gzip"),
            (
                &[(NEATLOGS_COMPRESSION, "lz4"), (COMPRESSION, "gzip")],
                NEATLOGS_COMPRESSION,
                "expected gzip",
            ),
            (&[(TRACES_TIMEOUT, "10s")], TRACES_TIMEOUT, "milliseconds"),
            (&[(TIMEOUT, "0")], TIMEOUT, "milliseconds"),
            (
                &[(METRIC_EXPORT_INTERVAL, "1m")],
                METRIC_EXPORT_INTERVAL,
                "milliseconds",
            ),
            (
                &[(RESOURCE_ATTRIBUTES, "a=1,b")],
                RESOURCE_ATTRIBUTES,
                "entry 2",
            ),
            (
                &[(SDK_DISABLED, "yes please")],
                SDK_DISABLED,
                "expected true or false",
            ),
            (
                &[(CONVENTIONS, "neatlogs,phoenix")],
                CONVENTIONS,
                "neatlogs, openinference, genai",
            ),
            (
                &[(sampling::SAMPLER, "jaeger_remote")],
                sampling::SAMPLER,
                "expected always_on, always_off, traceidratio",
            ),
            (
                &[
                    (sampling::SAMPLER, "traceidratio"),
                    (sampling::SAMPLER_ARG, "1.5"),
                ],
                sampling::SAMPLER_ARG,
                "`1.5`: expected a probability between 0 and 1",
            ),
            (
                &[
                    (sampling::SAMPLER, "parentbased_traceidratio"),
                    (sampling::SAMPLER_ARG, "ten percent"),
                ],
                sampling::SAMPLER_ARG,
                "expected a probability",
            ),
            (
                &[
                    (sampling::SAMPLER, "traceidratio"),
                    (sampling::SAMPLER_ARG, "NaN"),
                ],
                sampling::SAMPLER_ARG,
                "expected a probability",
            ),
        ];
        for (vars, name, says) in rows {
            let e = error(vars);
            assert!(e.contains(name), "{vars:?}: `{e}` should name {name}");
            assert!(e.contains(says), "{vars:?}: `{e}` should say `{says}`");
            assert!(!e.contains("secret1"), "a header value leaked: {e}");
        }
        // The explicit setting clears the variable's problem.
        assert!(config(&[(PROTOCOL, "grpc")])
            .protocol(Protocol::HttpProtobuf)
            .transport()
            .is_ok());
        // A bad explicit header is a typed error that does not print the value.
        let e = Config::new()
            .header("x-key", "line\nbreak-secret2")
            .transport()
            .unwrap_err();
        assert!(matches!(e, InitError::InvalidHeader { .. }), "{e:?}");
        assert!(!e.to_string().contains("secret2"), "{e}");
    }

    /// Every standard sampler name, its argument, and the default.
    #[test]
    fn the_standard_sampler_variables() {
        use crate::sampling::{Sampler, SAMPLER, SAMPLER_ARG};
        let on = || Box::new(Sampler::AlwaysOn);
        let rows: &[(&[(&str, &str)], Sampler)] = &[
            (&[], Sampler::ParentBased(on())),
            (&[(SAMPLER, "always_on")], Sampler::AlwaysOn),
            (&[(SAMPLER, "ALWAYS_OFF")], Sampler::AlwaysOff),
            (&[(SAMPLER, "traceidratio")], Sampler::TraceIdRatio(1.0)),
            (
                &[(SAMPLER, "traceidratio"), (SAMPLER_ARG, "0.25")],
                Sampler::TraceIdRatio(0.25),
            ),
            (
                &[(SAMPLER, "parentbased_always_on")],
                Sampler::ParentBased(on()),
            ),
            (
                &[(SAMPLER, "parentbased_always_off")],
                Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            ),
            (
                &[(SAMPLER, "parentbased_traceidratio"), (SAMPLER_ARG, " 0 ")],
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.0))),
            ),
            // The argument of a sampler that takes none is not read.
            (
                &[(SAMPLER, "always_on"), (SAMPLER_ARG, "x")],
                Sampler::AlwaysOn,
            ),
            (&[(SAMPLER_ARG, "0.5")], Sampler::ParentBased(on())),
        ];
        for (vars, expected) in rows {
            let c = config(vars);
            assert!(c.problems.is_empty(), "{vars:?}: {:?}", c.problems);
            assert_eq!(&c.sampler, expected, "{vars:?}");
        }
        // The explicit setting wins, and clears the variable's problem.
        let c = config(&[(SAMPLER, "nope")]).sampler(Sampler::AlwaysOff);
        assert!(c.problems.is_empty());
        assert_eq!(c.sampler, Sampler::AlwaysOff);
    }

    #[test]
    fn debug_never_prints_header_values() {
        let c = config(&[(HEADERS, "authorization=Bearer%20env-secret")])
            .header("x-api", "explicit-secret");
        let debug = format!("{c:?}");
        assert!(
            debug.contains("authorization") && debug.contains("x-api"),
            "{debug}"
        );
        assert!(!debug.contains("secret"), "{debug}");
    }
}
