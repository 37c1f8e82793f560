//! The Logs Insights engine (issue 25, being built): the per-question tables computed by
//! CloudWatch Logs Insights where CloudWatch-delivered logs already are. So far: `split`, how a
//! question's window is split when a result would not fit Logs Insights' limits, and `client`,
//! one query over one window (start, poll, read, stop). Not yet reachable from the command line.

pub mod client;
pub mod split;

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::Client;

use client::{InsightsError, Rows, Running};
use split::{Bounds, Span, Split, SplitError};

/// Why a question was not answered; `stopped` are the queries mila stopped so that nothing it
/// started runs on (and on the bill) after it gave up.
#[derive(Debug, thiserror::Error)]
#[error("{cause}{}", stopped_note(.stopped))]
pub struct AskError {
    pub cause: AskCause,
    pub stopped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AskCause {
    #[error(transparent)]
    Split(#[from] SplitError<InsightsError>),
    #[error("interrupted")]
    Interrupted,
}

fn stopped_note(stopped: &[String]) -> String {
    match stopped.len() {
        0 => String::new(),
        n => format!("; stopped {n} running quer{} ({})", if n == 1 { "y" } else { "ies" }, stopped.join(", ")),
    }
}

/// One question (`query`) over `window`: split until every part fits, at most `bounds`
/// queries at once. On an error or Ctrl-C every query still running is stopped.
pub async fn ask(
    client: &Client,
    settings: &client::Settings,
    query: &str,
    window: Span,
    bounds: Bounds,
) -> Result<Split<Rows>, AskError> {
    let running = Running::default();
    let shared = (client.clone(), Arc::new(settings.clone()), Arc::<str>::from(query), running.clone());
    let run = move |span: Span| {
        let (client, settings, query, running) = shared.clone();
        async move { client::query(&client, &settings, &query, span, &running).await }
    };
    let outcome = tokio::select! {
        r = split::split(window, bounds, run) => r.map_err(AskCause::from),
        _ = tokio::signal::ctrl_c() => Err(AskCause::Interrupted),
    };
    match outcome {
        Ok(split) => Ok(split),
        Err(cause) => Err(AskError { cause, stopped: client::stop_all(client, &running).await }),
    }
}
