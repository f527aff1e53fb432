//! Structured logs through `tracing`, to stderr so that stdout stays clean for exports;
//! with the `otlp` cargo feature and `[log] otlp_endpoint`, the same spans exported as
//! OpenTelemetry traces over OTLP/HTTP.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

/// Keeps the trace exporter until the process ends, then sends what it still holds.
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: sending the last traces failed: {e}");
        }
    }
}

pub fn init(log: &LogConfig) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (traces, telemetry) = traces(log);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    let _ = match log.format {
        LogFormat::Json => registry.with(fmt.json()).try_init(),
        LogFormat::Pretty => registry.with(fmt.compact()).try_init(),
    };
    if cfg!(not(feature = "otlp")) && log.otlp_endpoint.is_some() {
        tracing::warn!(
            "[log] otlp_endpoint is set but this binary was built without OTLP export \
             (cargo build --release --features otlp): no traces are sent"
        );
    }
    telemetry
}

#[cfg(feature = "otlp")]
type TraceLayer<S> = tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>;

#[cfg(feature = "otlp")]
fn traces<S>(log: &LogConfig) -> (Option<TraceLayer<S>>, Telemetry)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    let Some(endpoint) = log.otlp_endpoint.as_deref() else { return (None, Telemetry { provider: None }) };
    let exporter = match opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(endpoint).build() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("warning: no traces are sent to {endpoint}: {e}");
            return (None, Telemetry { provider: None });
        }
    };
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("tidings").build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("tidings"));
    (Some(layer), Telemetry { provider: Some(provider) })
}

#[cfg(not(feature = "otlp"))]
fn traces(_: &LogConfig) -> (Option<tracing_subscriber::layer::Identity>, Telemetry) {
    (None, Telemetry {})
}
