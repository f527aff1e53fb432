//! One typed configuration. Works with none; then a TOML file (`--config`), then
//! `TIDINGS_*` environment variables, then command-line flags, each overriding the last.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tidings_core::Catalog;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite:PATH` (the default, `sqlite:tidings.db`) or `postgres://...`.
    pub database_url: SecretString,
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// The address people reach Tidings at, if not `http://<listen>`.
    pub public_url: Option<String>,
    /// Addresses of reverse proxies in front of Tidings, whose `X-Forwarded-For` header
    /// names the client recorded with acknowledgments and events. None by default: the
    /// peer's address is recorded, as a client can send the header itself.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub log: LogConfig,
    /// The vendor's vocabularies for partner type, tier and region.
    pub catalog: Catalog,
    pub audiences: AudienceConfig,
    pub consent: ConsentConfig,
    /// The SMTP server email goes through.
    pub smtp: tidings_channels::SmtpConfig,
    pub mail: MailConfig,
    /// When failed deliveries are tried again.
    pub retry: tidings_core::deliveries::RetryPolicy,
    pub worker: WorkerSettings,
    pub widget: WidgetConfig,
    pub sms: SmsSettings,
    pub slack: SlackSettings,
    pub web_push: WebPushSettings,
    pub outbound: OutboundSettings,
    pub evidence: EvidenceSettings,
    pub metrics: MetricsSettings,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where `serve` and `worker` answer Prometheus at `/metrics`, on a listener of their
    /// own (each process its own address); off when unset. Keep it on loopback or a
    /// private network: it names routes, channels and queue sizes.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    /// Acknowledgments and reads append their leaves to the evidence log. Off, they are
    /// recorded without (and `evidence audit` counts them as outside the log): it exists
    /// to measure what the log costs (`bench/acknowledge.sh`), not for production.
    pub log: bool,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        Self { log: true }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebPushSettings {
    /// The most notifications a second Tidings hands push services. They publish no
    /// limit, but each notification costs a key agreement and an encryption (RFC 8291):
    /// the cap keeps a large audience's browsers from taking the CPU email needs.
    pub rate_per_second: u32,
}

impl Default for WebPushSettings {
    fn default() -> Self {
        Self { rate_per_second: 500 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSettings {
    /// Slack's Web API; direct messages stay off until `bot_token` is set.
    pub api_url: String,
    /// A bot token (`xoxb-...`) with the `chat:write` and `users:read.email` scopes.
    #[serde(serialize_with = "hidden")]
    pub bot_token: Option<SecretString>,
    /// The most messages a second Tidings posts (Slack allows bursts, then refuses with 429s).
    pub rate_per_second: u32,
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self { api_url: "https://slack.com/api".into(), bot_token: None, rate_per_second: 5 }
    }
}

impl SlackSettings {
    pub fn slack(&self) -> Option<tidings_channels::slack::SlackConfig> {
        let token = self.bot_token.as_ref().map(|t| t.expose_secret().trim().to_owned()).filter(|t| !t.is_empty())?;
        Some(tidings_channels::slack::SlackConfig {
            api_url: self.api_url.trim().trim_end_matches('/').to_owned(),
            bot_token: token,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// A Twilio-compatible API; SMS stays off until `account_sid` is set.
    pub base_url: String,
    pub account_sid: Option<String>,
    #[serde(serialize_with = "hidden")]
    pub auth_token: Option<SecretString>,
    /// The sender: an E.164 number or a messaging service SID (`MG...`).
    pub from: Option<String>,
    /// The most texts a second Tidings hands the provider: the sender's throughput.
    pub rate_per_second: u32,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.twilio.com".into(),
            account_sid: None,
            auth_token: None,
            from: None,
            rate_per_second: 10,
        }
    }
}

fn hidden<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("[set]"),
        None => s.serialize_none(),
    }
}

impl SmsSettings {
    /// The provider's settings, if SMS is configured; `callback` is where the provider
    /// reports each message's fate.
    pub fn twilio(&self, callback: String) -> anyhow::Result<Option<tidings_channels::sms::TwilioConfig>> {
        let Some(sid) = self.account_sid.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let token = self.auth_token.as_ref().map(|t| t.expose_secret().trim().to_owned()).unwrap_or_default();
        anyhow::ensure!(!token.is_empty(), "[sms] auth_token is required with account_sid");
        let from = self.from.as_deref().map(str::trim).unwrap_or_default();
        let sender_ok = from.starts_with("MG") || tidings_core::Phone::parse(from).is_ok();
        anyhow::ensure!(
            sender_ok,
            "[sms] from must be an E.164 number (+15005550006) or a messaging service SID (MG...)"
        );
        Ok(Some(tidings_channels::sms::TwilioConfig {
            base_url: self.base_url.trim().trim_end_matches('/').to_owned(),
            account_sid: sid.to_owned(),
            auth_token: token,
            from: from.to_owned(),
            status_callback: Some(callback),
        }))
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// Lets outbound HTTP (SMS, chat, webhooks) reach this machine's loopback address.
    /// For tests with local fake providers only: never in production.
    pub allow_loopback: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetConfig {
    /// Origins (`https://partners.vendor.example`) whose pages may embed `<tidings-inbox>`.
    pub allowed_origins: Vec<String>,
}

impl WidgetConfig {
    /// Each origin as a browser sends it: scheme, host and port, nothing else.
    pub fn origins(&self) -> anyhow::Result<Vec<String>> {
        self.allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/'))
            .filter(|o| !o.is_empty())
            .map(|origin| {
                let url = url::Url::parse(origin)
                    .map_err(|e| anyhow::anyhow!("[widget] allowed_origins: '{origin}': {e}"))?;
                let plain = matches!(url.scheme(), "http" | "https") && url.path() == "/" && url.query().is_none();
                anyhow::ensure!(
                    plain,
                    "[widget] allowed_origins: '{origin}' is not an origin such as https://partners.example.com"
                );
                Ok(url.origin().ascii_serialization())
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Deliveries claimed per round.
    pub batch: usize,
    /// Sends in flight at once (and SMTP connections).
    pub concurrency: usize,
    /// Seconds a claimed delivery stays with its worker; after that, if the worker died,
    /// another one sends it again (with the same Message-ID).
    pub lease_secs: u64,
    /// Rounds run side by side, so that one round's database work overlaps another's
    /// sending.
    pub loops: usize,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let d = tidings_app::workers::deliver::WorkerConfig::default();
        Self { batch: d.batch, concurrency: d.concurrency, lease_secs: d.lease.as_secs(), loops: d.loops }
    }
}

impl WorkerSettings {
    pub fn to_config(&self) -> tidings_app::workers::deliver::WorkerConfig {
        tidings_app::workers::deliver::WorkerConfig {
            batch: self.batch.max(1),
            concurrency: self.concurrency.max(1),
            lease: std::time::Duration::from_secs(self.lease_secs.max(1)),
            loops: self.loops.max(1),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The visible sender, `Name <address>`.
    pub from: String,
    /// Where bounces go (the envelope sender); the `from` address when not set.
    pub return_path: Option<String>,
    /// The domain part of each Message-ID.
    pub message_id_domain: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        let d = tidings_app::MailSettings::default();
        Self { from: d.from, return_path: d.return_path, message_id_domain: d.message_id_domain }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentConfig {
    /// Accepting the terms and conditions also records an email opt-in (source `terms`).
    /// Turn on only if the terms members accept say so.
    pub terms_imply_email_opt_in: bool,
    /// Where the terms and conditions members accept in the portal are published.
    pub terms_url: Option<String>,
    /// The version of those terms, recorded with each acceptance (default `terms-1`).
    pub terms_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudienceConfig {
    /// A rule for members no audience ever includes, such as `member.attr.sales_rep = true`.
    pub default_exclusion: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `tidings=debug,sqlx=warn`; `RUST_LOG` wins if set.
    pub level: String,
    /// `pretty` for people, `json` for log collectors.
    pub format: LogFormat,
    /// An OpenTelemetry collector's OTLP/HTTP traces endpoint
    /// (`http://127.0.0.1:4318/v1/traces`): the spans of requests, releases, worker rounds
    /// and jobs are sent there. Only in a binary built with `--features otlp`.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: SecretString::from("sqlite:tidings.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            trusted_proxies: Vec::new(),
            log: LogConfig::default(),
            catalog: Catalog::default(),
            audiences: AudienceConfig::default(),
            consent: ConsentConfig::default(),
            smtp: tidings_channels::SmtpConfig::default(),
            mail: MailConfig::default(),
            retry: tidings_core::deliveries::RetryPolicy::default(),
            worker: WorkerSettings::default(),
            widget: WidgetConfig::default(),
            sms: SmsSettings::default(),
            slack: SlackSettings::default(),
            web_push: WebPushSettings::default(),
            outbound: OutboundSettings::default(),
            evidence: EvidenceSettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".into(), format: LogFormat::Pretty, otlp_endpoint: None }
    }
}

/// Settings given as flags, which override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
}

/// The environment variables read, as `TIDINGS_<KEY>` with `__` between section and key:
/// every key `tidings print-config` shows (set or commented out), so the two cannot drift.
fn env_keys() -> Vec<String> {
    let mut keys = Vec::new();
    let mut section = String::new();
    for line in Config::example().lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}__");
            continue;
        }
        let setting = line.trim_start_matches('#').trim_start();
        let Some((key, _)) = setting.split_once(" =") else { continue };
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            keys.push(format!("{section}{key}"));
        }
    }
    keys
}

/// `TIDINGS_` variables that belong to the test suite and benchmarks, not to the program.
const HARNESS_PREFIXES: [&str; 4] = ["TEST_", "REQUIRE_", "BENCH_", "AXE"];

const LIST_KEYS: [&str; 5] =
    ["catalog.partner_types", "catalog.partner_tiers", "catalog.regions", "widget.allowed_origins", "trusted_proxies"];

impl Config {
    /// The configuration from the file, this process's environment and the flags; and the
    /// `TIDINGS_` variables that name no setting, to be warned about.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<(Self, Vec<String>)> {
        Self::load_from(file, overrides, std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        vars: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let known = env_keys();
        let mut unknown = Vec::new();
        let mut env: config::Map<String, String> = vars
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix("TIDINGS_")?;
                let key = rest.to_lowercase();
                if known.contains(&key) {
                    Some((format!("TIDINGS_{}", key.to_uppercase()), v))
                } else {
                    if !HARNESS_PREFIXES.iter().any(|p| rest.starts_with(p)) {
                        unknown.push(k.clone());
                    }
                    None
                }
            })
            .collect();
        // Values stay text until a setting asks for a number or a switch: parsing every
        // value that looks like a number would drop a phone number's plus and a
        // password's leading zeros. Lists are comma-separated, split here.
        let mut lists = Vec::new();
        for key in LIST_KEYS {
            if let Some(value) = env.remove(&format!("TIDINGS_{}", key.replace('.', "__").to_uppercase())) {
                let items: Vec<String> =
                    value.split(',').map(str::trim).filter(|i| !i.is_empty()).map(str::to_owned).collect();
                lists.push((key, items));
            }
        }
        let environment = config::Environment::with_prefix("TIDINGS")
            .prefix_separator("_")
            .separator("__")
            .source(Some(env))
            .try_parsing(false);
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "the config file {} does not exist", path.display());
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        builder = builder.add_source(environment);
        for (key, items) in lists {
            builder = builder.set_override(key, items)?;
        }
        builder = builder
            .set_override_option("database_url", overrides.database_url.clone())?
            .set_override_option("listen", overrides.listen.map(|l| l.to_string()))?;
        let config: Self = builder.build()?.try_deserialize().context("invalid configuration")?;
        unknown.sort();
        Ok((config, unknown))
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// An example file with every setting at its default, for `tidings print-config`.
    pub fn example() -> String {
        let defaults = Self::default();
        #[derive(Serialize)]
        struct Shown<'a> {
            database_url: &'a str,
            listen: String,
            log: &'a LogConfig,
            smtp: &'a tidings_channels::SmtpConfig,
            mail: &'a MailConfig,
            retry: &'a tidings_core::deliveries::RetryPolicy,
            worker: &'a WorkerSettings,
            sms: &'a SmsSettings,
            slack: &'a SlackSettings,
            web_push: WebPushSettings,
            outbound: OutboundSettings,
            metrics: MetricsSettings,
            catalog: &'a Catalog,
        }
        let shown = Shown {
            database_url: defaults.database_url(),
            listen: defaults.listen.to_string(),
            log: &defaults.log,
            smtp: &defaults.smtp,
            mail: &defaults.mail,
            retry: &defaults.retry,
            worker: &defaults.worker,
            sms: &defaults.sms,
            slack: &defaults.slack,
            web_push: defaults.web_push,
            outbound: defaults.outbound,
            metrics: defaults.metrics,
            catalog: &defaults.catalog,
        };
        let body = serde_json::to_value(&shown).map(|v| to_toml(&v)).unwrap_or_default();
        format!(
            "# Tidings configuration (TOML). Every key is optional; these are the defaults.\n\
             # Each key can also be set as TIDINGS_<KEY> (TIDINGS_LOG__LEVEL for [log] level),\n\
             # lists as comma-separated text (TIDINGS_CATALOG__REGIONS=amer,emea).\n\
             # public_url = \"https://partners.example.com\"\n\
             # Reverse proxies whose X-Forwarded-For names the client:\n\
             # trusted_proxies = [\"10.0.0.2\"]\n{body}\n\
             [audiences]\n\
             # Members no audience ever includes:\n\
             # default_exclusion = \"member.attr.sales_rep = true\"\n\n\
             [consent]\n\
             # Accepting the terms also records an email opt-in (only if the terms say so):\n\
             terms_imply_email_opt_in = false\n\
             # The terms members accept in the portal, and their version:\n\
             # terms_url = \"https://vendor.example/partner-terms\"\n\
             # terms_version = \"terms-1\"\n\n\
             [widget]\n\
             # Origins whose pages may embed <tidings-inbox>:\n\
             # allowed_origins = [\"https://partners.vendor.example\"]\n"
        )
    }
}

/// A minimal TOML writer for the example: top-level scalars first, then one table per object.
fn to_toml(value: &serde_json::Value) -> String {
    let mut head = String::new();
    let mut tables = String::new();
    if let serde_json::Value::Object(map) = value {
        for (key, v) in map {
            match v {
                serde_json::Value::Object(inner) => {
                    tables.push_str(&format!("\n[{key}]\n"));
                    for (k, v) in inner {
                        // TOML has no null: an unset optional key is shown commented out.
                        match v {
                            serde_json::Value::Null => tables.push_str(&format!("# {k} =\n")),
                            v => tables.push_str(&format!("{k} = {v}\n")),
                        }
                    }
                }
                other => head.push_str(&format!("{key} = {other}\n")),
            }
        }
    }
    head + &tables
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn with_nothing_set_the_defaults_apply() {
        let config = Config::load(None, &Overrides::default()).unwrap().0;
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url, None, "the server's own address, settled by App::with_public_url");
    }

    #[test]
    fn the_example_is_a_valid_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tidings.toml");
        std::fs::write(&path, Config::example()).unwrap();
        let config = Config::load(Some(&path), &Overrides::default()).unwrap().0;
        assert_eq!(config.catalog, Catalog::default());
    }

    #[test]
    fn a_file_is_overridden_by_flags_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tidings.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\n[catalog]\nregions = [\"north\", \"south\"]\n").unwrap();
        let config = Config::load(Some(&path), &Overrides::default()).unwrap().0;
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.catalog.regions.len(), 2);
        let flags = Overrides { listen: Some("127.0.0.1:9100".parse().unwrap()), ..Default::default() };
        assert_eq!(Config::load(Some(&path), &flags).unwrap().0.listen.port(), 9100);

        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let error = format!("{:#}", Config::load(Some(&path), &Overrides::default()).unwrap_err());
        assert!(error.contains("lisen"), "{error}");
    }

    /// A value for each key that differs from its default and is valid for it.
    fn sample(key: &str) -> String {
        let known = [
            ("database_url", "sqlite:elsewhere.db"),
            ("listen", "127.0.0.1:9999"),
            ("public_url", "https://partners.example.com"),
            ("trusted_proxies", "10.0.0.2,10.0.0.3"),
            ("log__level", "debug"),
            ("log__format", "json"),
            ("smtp__security", "tls"),
            ("mail__from", "Vendor <news@vendor.example>"),
            ("mail__return_path", "bounces@vendor.example"),
            ("audiences__default_exclusion", "member.role = \"sales\""),
            ("consent__terms_imply_email_opt_in", "true"),
            ("consent__terms_url", "https://vendor.example/terms"),
            ("widget__allowed_origins", "https://partners.vendor.example"),
            ("outbound__allow_loopback", "true"),
            ("metrics__listen", "127.0.0.1:9464"),
            ("log__otlp_endpoint", "http://127.0.0.1:4318/v1/traces"),
        ];
        if let Some((_, v)) = known.iter().find(|(k, _)| *k == key) {
            return (*v).to_owned();
        }
        let numeric =
            ["_secs", "_ms", "port", "batch", "concurrency", "loops", "attempts", "connections", "per_second"];
        if numeric.iter().any(|n| key.ends_with(n)) {
            return "7".to_owned();
        }
        if key.starts_with("catalog__") {
            return "alpha,beta".to_owned();
        }
        "changed.example".to_owned()
    }

    /// Environment values are text: a phone number keeps its plus and a password its
    /// leading zeros, and numbers and switches are still read as such.
    #[test]
    fn environment_values_that_look_like_numbers_stay_text_where_text_is_wanted() {
        let vars = [
            ("TIDINGS_SMS__FROM", "+15005550006"),
            ("TIDINGS_SMTP__PASSWORD", "0012345"),
            ("TIDINGS_SMTP__PORT", "2525"),
            ("TIDINGS_OUTBOUND__ALLOW_LOOPBACK", "true"),
        ];
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let (config, _) = Config::load_from(None, &Overrides::default(), vars).unwrap();
        assert_eq!(config.sms.from.as_deref(), Some("+15005550006"));
        assert_eq!(config.smtp.password.as_deref(), Some("0012345"));
        assert_eq!(config.smtp.port, 2525);
        assert!(config.outbound.allow_loopback);
    }

    #[test]
    fn every_key_of_print_config_is_read_from_the_environment() {
        let keys = env_keys();
        for expected in ["worker__loops", "retry__base_ms", "retry__max_ms", "smtp__hello_name", "public_url"] {
            assert!(keys.iter().any(|k| k == expected), "{expected} missing from {keys:?}");
        }
        let load = |vars: Vec<(String, String)>| Config::load_from(None, &Overrides::default(), vars.into_iter());
        let (defaults, _) = load(Vec::new()).unwrap();
        let shown = |c: &Config| format!("{c:?} {}", c.database_url());
        for key in &keys {
            let (var, value) = (format!("TIDINGS_{}", key.to_uppercase()), sample(key));
            let (config, unknown) =
                load(vec![(var.clone(), value.clone())]).unwrap_or_else(|e| panic!("{var}={value}: {e:#}"));
            assert!(unknown.is_empty(), "{unknown:?}");
            assert_ne!(shown(&config), shown(&defaults), "{var}={value} changed nothing");
        }
        let vars = vec![
            ("TIDINGS_WORKER_LOOPS".to_owned(), "4".to_owned()),
            ("TIDINGS_TEST_POSTGRES_URL".to_owned(), "postgres://x".to_owned()),
        ];
        let (_, unknown) = load(vars).unwrap();
        assert_eq!(unknown, ["TIDINGS_WORKER_LOOPS"], "a misspelt key is reported; the test harness's are not");
    }
}
