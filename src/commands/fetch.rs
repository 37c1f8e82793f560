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
