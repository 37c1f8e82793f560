//! `mila prices`: the price and burndown tables in force, as a prices file; with `--check`, the
//! model ids in the logs the price table cannot price.

use anyhow::Result;
use polars::prelude::{Column, DataFrame, IntoLazy};

use super::{one_answer, Status};
use crate::analysis::cost;
use crate::engine::{Ask, Engine, Question};
use crate::given::prices::{Context, Key, Price, Prices, Row, Tier};
use crate::record::ServiceTier;
use crate::render::table::Table;
use crate::settings::{LocalSources, PriceTables, Scope};
use crate::tables::row::rows;
use crate::tell;

pub fn run(t: PriceTables) -> Result<Status> {
    let (p, b) = (&t.prices, &t.burndown);
    if let Some((scope, sources)) = t.check {
        return check(scope, sources, &t.prices, t.width);
    }
    if let Some(against) = &t.against {
        return compare(&t.prices, against, t.width);
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

/// `prices --against FILE`: each price FILE gives (a fetched price list, say) beside what the
/// table in force charges the same call; the rows that differ or that the table cannot price.
fn compare(in_force: &Prices, against: &Prices, width: Option<usize>) -> Result<Status> {
    const TOKENS: [&str; 5] = ["input", "output", "cache_read", "cache_write", "cache_write_1h"];
    let mut rows: Vec<[String; 9]> = Vec::new();
    let mut compared = 0usize;
    let mut given: Vec<(&str, &Row)> = against.all_rows().collect();
    given.sort_by(|a, b| {
        (a.0, &a.1.region, a.1.tier.map(Tier::as_str), a.1.service.map(ServiceTier::as_str), a.1.long).cmp(&(
            b.0,
            &b.1.region,
            b.1.tier.map(Tier::as_str),
            b.1.service.map(ServiceTier::as_str),
            b.1.long,
        ))
    });
    for (model, row) in given {
        // A `*` key of FILE stands for every value: compared as `*` (the table's all-region row),
        // both tiers, and standard calls.
        let tiers = row.tier.map_or(vec![Tier::Global, Tier::Regional], |t| vec![t]);
        for tier in tiers {
            let key = Key {
                source_region: row.region.as_deref().unwrap_or("*"),
                tier,
                service: row.service.unwrap_or(ServiceTier::Standard),
                context: if row.long { Context::Long } else { Context::Standard },
            };
            let theirs = prices_of(row.price);
            let ours = in_force.lookup(model, key).map(prices_of);
            for (i, token) in TOKENS.iter().enumerate() {
                compared += 1;
                let status = match ours {
                    None => "unpriced",
                    Some(o) if (o[i] - theirs[i]).abs() > 1e-9 * theirs[i].abs().max(1.0) => "differs",
                    Some(_) => continue,
                };
                rows.push([
                    model.to_string(),
                    key.source_region.to_string(),
                    tier.as_str().to_string(),
                    key.service.as_str().to_string(),
                    key.context.as_str().to_string(),
                    token.to_string(),
                    ours.map(|o| o[i].to_string()).unwrap_or_default(),
                    theirs[i].to_string(),
                    status.to_string(),
                ]);
            }
        }
    }
    if rows.is_empty() {
        tell::line(&format!("mila: {} agrees with {} on all {compared} prices", in_force.source, against.source));
        return Ok(Status::Ok);
    }
    let names = ["model", "region", "tier", "service_tier", "context", "token", "in_force", "against", "status"];
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(j, n)| Column::new((*n).into(), rows.iter().map(|r| r[j].clone()).collect::<Vec<_>>()))
        .collect();
    let frame = DataFrame::new(rows.len(), columns)?;
    tell::stdout(&Table::from_frame(&frame)?.to_terminal(width))?;
    tell::line(&format!(
        "mila: {} prices {} of the {compared} prices of {} otherwise or not at all",
        in_force.source,
        rows.len(),
        against.source
    ));
    Ok(Status::Violations)
}

fn prices_of(p: Price) -> [f64; 5] {
    [p.input, p.output, p.cache_read, p.cache_write, p.cache_write_1h]
}
