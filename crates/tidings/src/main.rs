//! `tidings`: the one binary. Parses the command line, loads the configuration, and hands
//! over to the command; wiring and shutdown only.

mod cli;
mod config;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    tidings_channels::outbound::install_crypto_provider();
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
