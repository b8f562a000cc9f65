//! The `hush` binary: read the command line and settings, serve until
//! SIGTERM or Ctrl-C, shut down gracefully. Any start-up failure is one line
//! on stderr and a non-zero exit.

use std::process::ExitCode;

use anyhow::Context;

use hush::server::cli::{self, CliError};
use hush::server::{boot, settings::Settings};

fn main() -> ExitCode {
    hush::server::memory::return_large_blocks();
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let sources = match cli::parse(std::env::args_os(), env) {
        Ok(sources) => sources,
        Err(CliError::Info(text)) => {
            let _ = text.print();
            return ExitCode::SUCCESS;
        }
        Err(CliError::Usage(line)) => return fail(line, 2),
    };
    let settings = match sources.load() {
        Ok(settings) => settings,
        Err(e) => return fail(e, 2),
    };

    hush::server::logging::init();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}"), 1),
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}"), 1),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let running = boot::start(settings).await?;
    // Listen for the signals before saying we serve: a supervisor (or a
    // test) may signal the moment it reads that line.
    let stop = shutdown_signal().context("cannot listen for SIGTERM and Ctrl-C")?;
    println!(
        "Hush is serving http://{} (store: {}; Socket.IO: {})",
        running.addr(),
        running.store().describe(),
        running.fanout()
    );
    stop.await;
    tracing::info!("shutting down");
    running.stop().await
}

/// Listens for Ctrl-C and SIGTERM from the moment it is called; the future
/// resolves on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Listens for Ctrl-C; the future resolves on it.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("hush: {message}");
    ExitCode::from(code)
}
