//! `mila profiles fetch` and `mila quotas fetch`: files written from AWS APIs (Bedrock's
//! inference profiles, Service Quotas), for reports to read.

use anyhow::{Context, Result};

use super::{plural, Status};
use crate::settings::Fetch;
use crate::{escape, output, tell};

/// One fetch per `--region` in turn (the configured region when none was given), each with the
/// fetch's own error; the runtime ends before anything is computed from them.
fn per_region<'a, T, E, Fut>(
    s: &'a Fetch,
    fetch: impl Fn(&'a crate::source::aws::AwsSettings, Option<&'a str>) -> Fut,
) -> Result<Vec<T>>
where
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let wanted: Vec<Option<&str>> =
        if s.regions.is_empty() { vec![None] } else { s.regions.iter().map(|r| Some(r.as_str())).collect() };
    let runtime = crate::source::aws::runtime().context("cannot start the async runtime")?;
    let fetched = runtime.block_on(async {
        let mut out = Vec::new();
        for region in wanted {
            out.push(fetch(&s.aws, region).await?);
        }
        Ok::<_, E>(out)
    })?;
    Ok(fetched)
}

/// Writes the quotas file from Service Quotas: each per-minute inference quota it can map to a
/// (model, kind) through the bundled names table; the per-minute names it cannot map are listed.
pub fn quotas(s: Fetch) -> Result<Status> {
    use crate::fetch::quotas as servicequotas;
    use crate::given::quotas::{map_quota_name, Per, Quota, Quotas, MAX_QUOTA};
    // The file is replaced, so it must be a quotas file already (or not exist).
    if s.out.exists() {
        Quotas::load(&s.out).context("--out names a file that is not a quotas file; not overwriting it")?;
    }
    let fetched = per_region(&s, servicequotas::fetch)?;

    let mut quotas: std::collections::BTreeMap<(String, &str, crate::given::quotas::QuotaKind), Quota> =
        Default::default();
    // Everything left out, as one line each: the names come from AWS, so they are escaped (a
    // control character would end a TOML comment and the file would not load).
    let (mut left_out, mut unmapped, mut other) = (Vec::new(), 0usize, 0usize);
    let mut per_region = Vec::new();
    for (region, listed) in &fetched {
        let before = quotas.len();
        for l in listed {
            let Some((model, kind, per)) = map_quota_name(&l.name) else {
                if l.name.to_lowercase().contains("per minute") {
                    unmapped += 1;
                    left_out.push(format!("not mapped to a model: {region}: {}", escape::terminal(&l.name)));
                } else {
                    other += 1;
                }
                continue;
            };
            let value = l.value.filter(|v| v.is_finite() && *v >= 1.0 && *v <= MAX_QUOTA as f64);
            let Some(value) = value.map(|v| v.round() as u64) else {
                left_out.push(format!(
                    "{region}: {}: value {:?} is not a quota per minute",
                    escape::terminal(&l.name),
                    l.value
                ));
                continue;
            };
            let q = quotas.entry((region.clone(), model, kind)).or_insert_with(|| Quota {
                region: region.clone(),
                model: model.to_string(),
                kind,
                requests_per_minute: None,
                tokens_per_minute: None,
            });
            let slot = match per {
                Per::Requests => &mut q.requests_per_minute,
                Per::Tokens => &mut q.tokens_per_minute,
            };
            match slot {
                Some(_) => left_out
                    .push(format!("{region}: {}: a second name for a quota already read", escape::terminal(&l.name))),
                None => *slot = Some(value),
            }
        }
        per_region.push(format!("{region}: {}", quotas.len() - before));
    }
    let regions: Vec<&str> = fetched.iter().map(|(r, _)| r.as_str()).collect();
    let mut header = format!(
        "Bedrock quotas per minute, from `mila quotas fetch` (Service Quotas, service code {}) in {}, on {}.\n\
         Read with `mila report --quotas FILE`.",
        servicequotas::SERVICE_CODE,
        regions.join(", "),
        s.today
    );
    if !left_out.is_empty() {
        header.push_str("\n\nLeft out (add them by hand if they matter):");
        for line in &left_out {
            header.push_str(&format!("\n  {line}"));
        }
    }
    let quotas: Vec<Quota> = quotas.into_values().collect();
    output::write_atomic(&s.out, Quotas::to_toml(&quotas, &header).as_bytes())?;
    let mut msg =
        format!("mila: wrote {} to {} ({})", plural(quotas.len(), "quota"), s.out.display(), per_region.join(", "));
    if unmapped > 0 {
        msg.push_str(&format!("; {unmapped} per-minute quota names not mapped to a model"));
    }
    msg.push_str(&format!("; {} other Bedrock quotas are not per-minute inference quotas", other));
    tell::line(&escape::terminal(&msg));
    for line in &left_out {
        tell::line(&format!("mila: left out: {line}"));
    }
    Ok(Status::Ok)
}

/// Lists the account's application inference profiles into the profiles file, keeping those
/// Bedrock no longer lists so that older logs still resolve.
pub fn profiles(s: Fetch) -> Result<Status> {
    use crate::fetch::profiles as bedrock;
    use crate::given::profiles::{self, Profiles};
    // An existing file is updated, so it must be a profiles file: never overwrite anything else.
    let previous = if s.out.exists() {
        Profiles::load(&s.out).context("--out names a file that is not a profiles file; not overwriting it")?
    } else {
        Profiles::default()
    };
    let fetched = per_region(&s, bedrock::fetch)?;

    let regions: Vec<String> = fetched.iter().map(|(r, _)| r.clone()).collect();
    let mut per_region = Vec::new();
    let (mut listed, mut vanished) = (Vec::new(), Vec::new());
    for (region, f) in fetched {
        per_region.push(format!("{region}: {}", f.profiles.len()));
        listed.extend(f.profiles);
        vanished.extend(f.vanished);
    }
    let count = listed.len();
    let (all, kept) = profiles::merge(&previous, listed, &regions, s.today);
    let header = format!(
        "Application inference profiles, from `mila profiles fetch` in {}.\n\
         Read with `mila report --profiles FILE`. Keep this file: a profile deleted in Bedrock\n\
         stays here with `last_seen`, so logs written while it existed still resolve.",
        regions.join(", ")
    );
    output::write_atomic(&s.out, profiles::to_toml(&all, s.today, &header).as_bytes())?;

    let mut msg = format!(
        "mila: wrote {} to {} (snapshot {}): {count} listed now ({})",
        plural(all.len(), "profile"),
        s.out.display(),
        s.today,
        per_region.join(", ")
    );
    if kept > 0 {
        msg.push_str(&format!(", {kept} kept that Bedrock no longer lists"));
    }
    let others = all.len() - count - kept;
    if others > 0 {
        msg.push_str(&format!(", {others} kept from regions not fetched this time"));
    }
    tell::line(&escape::terminal(&msg));
    for arn in &vanished {
        tell::line(&format!("mila: {}: deleted while being read; left out", escape::terminal(arn)));
    }
    Ok(Status::Ok)
}

/// Writes a prices file from the Price List: each token price it can map to a (model, region,
/// tier, service tier, context) row; every product it cannot map is listed, never guessed.
pub fn prices(s: Fetch) -> Result<Status> {
    use crate::fetch::prices::{self as pricelist, SERVICE_CODES};
    use crate::given::price_list::{assemble, read_product, Skip};
    use crate::given::prices::{csv_row, Prices, COLUMNS};
    // The file is replaced, so it must be a prices file already (or not exist).
    if s.out.exists() {
        Prices::load(&s.out).context("--out names a file that is not a prices file; not overwriting it")?;
    }
    let fetched = per_region(&s, pricelist::fetch)?;
    let (mut read, mut left_out, mut not_tokens) = (Vec::new(), std::collections::BTreeSet::new(), 0usize);
    let mut published: Option<String> = None;
    for region in &fetched {
        for (code, doc) in &region.products {
            match read_product(code, doc) {
                Ok(p) => {
                    published = published.max(p.published.clone());
                    read.push(p);
                }
                Err(Skip::NotTokens) => not_tokens += 1,
                Err(Skip::NotMapped(why)) => {
                    left_out.insert(format!("{}: {}", region.region, escape::terminal(&why)));
                }
            }
        }
    }
    let assembled = assemble(&read);
    let mut lines = Vec::new();
    let (mut incomplete, mut no_cache) = (Vec::new(), 0usize);
    // Sorted by the key as written, as `mila prices` prints a table.
    let mut rows: Vec<_> = assembled.rows.iter().collect();
    rows.sort_by_key(|((model, region, tier, service, long), _)| {
        (model, region, tier.as_str(), service.as_str(), *long)
    });
    for ((model, region, tier, service, long), cells) in rows {
        if cells[0].is_none() || cells[1].is_none() {
            incomplete.push(format!(
                "{region}: {model} {} {}{}: no {} price",
                tier.as_str(),
                service.as_str(),
                if *long { " long context" } else { "" },
                if cells[0].is_none() { "input" } else { "output" }
            ));
            continue;
        }
        if cells[2..4].iter().any(Option::is_none) {
            no_cache += 1;
        }
        lines.push(csv_row(model, Some(region), Some(*tier), Some(*service), *long, *cells));
    }
    left_out.extend(assembled.conflicts.iter().map(|c| format!("two prices: {}", escape::terminal(c))));
    left_out.extend(incomplete.into_iter().map(|c| format!("incomplete: {c}")));
    let regions: Vec<&str> = fetched.iter().map(|r| r.region.as_str()).collect();
    let mut header = format!(
        "Bedrock token prices, USD per million tokens, from `mila prices fetch` (AWS Price List Query API, service codes {}) for {}, on {}{}.\n\
         Read with `mila report --prices FILE`; compare with the bundled table by `mila prices --against FILE`.\n\
         An empty cache cell: the price list gives no such price, and mila reads it as Anthropic's multiple of the input price.",
        SERVICE_CODES.join(" and "),
        regions.join(", "),
        s.today,
        published.as_deref().map(|p| format!(" (newest publicationDate {})", escape::terminal(p))).unwrap_or_default(),
    );
    if !left_out.is_empty() {
        header.push_str("\n\nLeft out (add them by hand if they matter):");
        for line in &left_out {
            header.push_str(&format!("\n  {line}"));
        }
    }
    let comment: String = header.lines().map(|l| format!("# {l}\n").replace("# \n", "#\n")).collect();
    let text =
        format!("{comment}{}\n{}", COLUMNS.join(","), lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    // What is written must load: a row the parser refuses is a bug here, not a file to leave.
    Prices::parse(&text, &s.out).context("the prices file made from the price list does not load")?;
    output::write_atomic(&s.out, text.as_bytes())?;
    let mut msg = format!(
        "mila: wrote {} to {} ({} token prices read from {} products)",
        plural(lines.len(), "price row"),
        s.out.display(),
        read.len(),
        fetched.iter().map(|r| r.products.len()).sum::<usize>()
    );
    if no_cache > 0 {
        msg.push_str(&format!("; {no_cache} rows have no cache price in the list"));
    }
    msg.push_str(&format!("; {} left out; {not_tokens} products are not token prices", left_out.len()));
    tell::line(&escape::terminal(&msg));
    for line in &left_out {
        tell::line(&format!("mila: left out: {line}"));
    }
    Ok(Status::Ok)
}
