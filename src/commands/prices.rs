//! `mila prices`: the price and burndown tables in force, as a prices file; with `--check`, the
//! model ids in the logs the price table cannot price.

use anyhow::Result;
use polars::prelude::IntoLazy;

use super::{one_answer, Status};
use crate::analysis::cost;
use crate::engine::{Ask, Engine, Question};
use crate::given::prices::Prices;
use crate::render::table::Table;
use crate::settings::{LocalSources, PriceTables, Scope};
use crate::tables::row::rows;
use crate::tell;

pub fn run(t: PriceTables) -> Result<Status> {
    let (p, b) = (&t.prices, &t.burndown);
    if let Some((scope, sources)) = t.check {
        return check(scope, sources, &t.prices, t.width);
    }
    // The burndown table follows as comments, so the output is still a prices file.
    let burndown: String = b.rows().iter().map(|(model, rate)| format!("# {model},{rate}\n")).collect();
    let text = format!(
        "# {}; USD per million tokens\n{}#\n# {}; quota tokens per output token, most specific row first\n# model,rate\n{burndown}",
        p.source,
        p.to_csv(),
        b.source
    );
    tell::stdout(text.as_bytes())?;
    Ok(Status::Ok)
}

/// `prices --check`: the model ids in the logs the price table cannot price, before a report
/// would count them unpriced.
fn check(scope: Scope, sources: LocalSources, prices: &Prices, width: Option<usize>) -> Result<Status> {
    let engine = Engine::Local(sources);
    let ask = Ask { question: Question::Usage, window: scope.window };
    let Some(answer) = one_answer(&engine, &scope, ask)? else { return Ok(Status::Ok) };
    let (tables, stats) = answer.tables()?;
    let unpriced = cost::unpriced(tables.usage.lazy(), prices)?.collect()?;
    let calls: u64 = rows(&unpriced).map(|r| r.u64(cost::UNPRICED)).sum();
    if unpriced.height() == 0 {
        tell::line(&format!("mila: {} prices every model id of the {} records read", prices.source, stats.parsed()));
        return Ok(Status::Ok);
    }
    tell::stdout(&Table::from_frame(&unpriced)?.to_terminal(width))?;
    tell::line(&format!(
        "mila: {} cannot price {} model ids ({calls} successful calls); give them rows in a --prices file",
        prices.source,
        unpriced.height()
    ));
    Ok(Status::Violations)
}
