//! Cost: records are priced by (base model, source region, tier); failed calls cost nothing;
//! records with no matching price row stay unpriced, never silently zero.
//!
//! Cost is linear in token counts, so tokens are summed per pricing key first and only those few
//! groups are priced and joined: the frame itself is never copied by a join.

use polars::prelude::*;

use super::{requests, requests_where, sort_by};
use crate::analysis::attribution::Attributed;
use crate::frame::col::{self, REQUESTS};
use crate::given::prices::{Context, Key, Price, Prices, Tier};
use crate::given::profiles::Profiles;
use crate::record::{ModelIdKind, RecordedBy, ServiceTier};
use crate::tables::row::rows;

pub const USD: &str = "usd";
pub const UNPRICED: &str = "unpriced_requests";
pub const TAG_KEY: &str = col::KEY;
pub const TAG_VALUE: &str = col::VALUE;
pub const UNTAGGED: &str = "(untagged)";
/// Input and output tokens of the successful calls (failed calls are not billed).
pub const BILLED_INPUT: &str = "billed_input_tokens";
pub const BILLED_OUTPUT: &str = "billed_output_tokens";
/// Cache-write tokens of the successful calls, five-minute and one-hour.
pub const BILLED_CACHE_WRITE_5M: &str = "billed_cache_write_5m_tokens";
pub const BILLED_CACHE_WRITE_1H: &str = "billed_cache_write_1h_tokens";
const FIGURES: [&str; 7] =
    [REQUESTS, USD, UNPRICED, BILLED_INPUT, BILLED_OUTPUT, BILLED_CACHE_WRITE_5M, BILLED_CACHE_WRITE_1H];

const BILLED: [&str; 5] = col::TOKENS;
const PRICE: [&str; 5] =
    ["_price_input", "_price_output", "_price_cache_read", "_price_cache_write", "_price_cache_write_1h"];
const OK_REQUESTS: &str = "_ok_requests";

/// The tier a record is billed in: global profiles have global prices, everything else regional.
pub fn tier_of(model_id_kind: &str) -> Tier {
    if model_id_kind == ModelIdKind::GlobalProfile.as_str() {
        Tier::Global
    } else {
        Tier::Regional
    }
}

/// One row per pricing key and model id, after the `by` columns (the day, the caller, ...):
/// requests, usd (priced part), unpriced requests, and the billed tokens. Input: `usage`,
/// `callers` or `metadata` (any table with the model id, model, kind, source region, error code,
/// requests and token sums).
pub fn priced(lf: LazyFrame, prices: &Prices, by: &[&str]) -> PolarsResult<LazyFrame> {
    // The base model and the id's kind follow from the model id, so two keys are enough
    // (fewer, shorter group keys keep the group-by's row encoding small).
    let mut keys = by.to_vec();
    keys.extend([col::MODEL_ID, col::SOURCE_REGION, col::SERVICE_TIER, col::CONTEXT]);
    let ok = col(col::ERROR_CODE).is_null();
    let mut aggs = vec![
        col(col::MODEL).first().alias(col::MODEL),
        col(col::MODEL_ID_KIND).first().alias(col::MODEL_ID_KIND),
        requests().alias(REQUESTS),
        requests_where(ok.clone()).alias(OK_REQUESTS),
    ];
    // Failed calls cost nothing: only successful calls' tokens are billed.
    aggs.extend(BILLED.map(|c| when(ok.clone()).then(col(c)).otherwise(lit(0i64)).sum().alias(c)));
    // Sorted, so that sums over these groups add up in the same order on every run and from
    // every source: float addition is not associative.
    let usage = lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>()).agg(aggs);
    let usage = usage.sort(keys.clone(), SortMultipleOptions::default()).collect()?;

    let mut cols: [Vec<Option<f64>>; 5] = Default::default();
    for r in rows(&usage) {
        let (m, region, kind) = (r.str(col::MODEL), r.str(col::SOURCE_REGION), r.str(col::MODEL_ID_KIND));
        let service = ServiceTier::parse(&r.str(col::SERVICE_TIER)).unwrap_or(ServiceTier::Other);
        let context = Context::parse(&r.str(col::CONTEXT)).unwrap_or(Context::Standard);
        let key = Key { source_region: &region, tier: tier_of(&kind), service, context };
        let p = prices.lookup(&m, key).map(|p| [p.input, p.output, p.cache_read, p.cache_write, p.cache_write_1h]);
        for (i, c) in cols.iter_mut().enumerate() {
            c.push(p.map(|p| p[i]));
        }
    }
    let mut usage = usage;
    for (name, values) in PRICE.iter().zip(cols) {
        usage.with_column(Column::new((*name).into(), values))?;
    }
    // Cache writes are five-minute ones but for the one-hour part, which has its own price.
    let tokens = |c: &str| col(c).cast(DataType::Float64);
    let five_minute = tokens(col::CACHE_WRITE_TOKENS) - tokens(col::CACHE_WRITE_1H_TOKENS);
    let billed = tokens(col::INPUT_TOKENS) * col(PRICE[0])
        + tokens(col::OUTPUT_TOKENS) * col(PRICE[1])
        + tokens(col::CACHE_READ_TOKENS) * col(PRICE[2])
        + five_minute * col(PRICE[3])
        + tokens(col::CACHE_WRITE_1H_TOKENS) * col(PRICE[4]);
    let priced = col(PRICE[0]).is_not_null();
    let mut out: Vec<Expr> = by.iter().map(|k| col(*k)).collect();
    out.extend([
        col(col::INPUT_TOKENS).alias(BILLED_INPUT),
        col(col::OUTPUT_TOKENS).alias(BILLED_OUTPUT),
        (col(col::CACHE_WRITE_TOKENS) - col(col::CACHE_WRITE_1H_TOKENS)).alias(BILLED_CACHE_WRITE_5M),
        col(col::CACHE_WRITE_1H_TOKENS).alias(BILLED_CACHE_WRITE_1H),
        col(col::MODEL_ID),
        col(col::MODEL),
        col(col::MODEL_ID_KIND),
        col(col::SOURCE_REGION),
        col(col::SERVICE_TIER),
        col(col::CONTEXT),
        col(REQUESTS),
        when(priced.clone()).then(billed / lit(1_000_000.0)).otherwise(lit(0.0)).alias(USD),
        when(priced).then(lit(0i64)).otherwise(col(OK_REQUESTS)).alias(UNPRICED),
    ]);
    Ok(usage.lazy().select(out))
}

/// `priced(table, prices, &[key])` for a table of many rows (callers: a row per identity ARN,
/// model id, region ...; metadata: per metadata text), with the same figures, bit for bit, and
/// in the same order (tested against it), but made in one pass over the row numbers sorted by
/// (key, pricing key) instead of polars' group-by: on 150,000 caller rows the group-by's row
/// encoding and hash tables cost ~60 MB, this 12 bytes a row. Each item is one key's value and
/// its groups' figures in order (so a caller is read once, and its groups add up in the same
/// order as before). With `logged_only`, rows recorded by CloudTrail are left out.
pub struct PricedGroups<'a> {
    key: StringChunked,
    model: StringChunked,
    kind: StringChunked,
    source: StringChunked,
    tier: StringChunked,
    context: StringChunked,
    failed: BooleanChunked,
    /// Requests, then `BILLED` (the token columns).
    sums: [Int64Chunked; 1 + BILLED.len()],
    /// (key rank, pricing-key rank, row), sorted.
    order: Vec<[u32; 3]>,
    at: usize,
    prices: &'a Prices,
    /// Per pricing-key rank, the row its price was looked up for and the price: a model and
    /// kind follow from the model id, so each is looked up about once.
    looked_up: Vec<Option<(usize, Option<Price>)>>,
}

impl<'a> PricedGroups<'a> {
    pub fn new(table: &DataFrame, prices: &'a Prices, key: &str, logged_only: bool) -> PolarsResult<PricedGroups<'a>> {
        let text = |c: &str| -> PolarsResult<StringChunked> { Ok(table.column(c)?.str()?.rechunk().into_owned()) };
        let ints = |c: &str| -> PolarsResult<Int64Chunked> {
            Ok(table.column(c)?.cast(&DataType::Int64)?.i64()?.rechunk().into_owned())
        };
        let (keys, model_id, source, tier, context) = (
            text(key)?,
            text(col::MODEL_ID)?,
            text(col::SOURCE_REGION)?,
            text(col::SERVICE_TIER)?,
            text(col::CONTEXT)?,
        );
        let logged = RecordedBy::InvocationLog.as_str();
        let recorded_by = text(col::RECORDED_BY)?;
        let (k, m, s, t, c, by) =
            [&keys, &model_id, &source, &tier, &context, &recorded_by].map(|c| c.downcast_as_array()).into();
        let rows = (0..table.height()).filter(|&i| !logged_only || by.get(i) == Some(logged));
        // Each row's key and pricing key as codes, then the codes as ranks in sorted order
        // (None first, as polars sorts nulls first by default): the rows sort on two integers.
        let (mut key_codes, mut pricing_codes) = (Codes::default(), Codes::default());
        let mut order: Vec<[u32; 3]> = rows
            .map(|i| [key_codes.code(k.get(i)), pricing_codes.code((m.get(i), s.get(i), t.get(i), c.get(i))), i as u32])
            .collect();
        let (key_rank, pricing_rank) = (key_codes.ranks(), pricing_codes.ranks());
        for o in order.iter_mut() {
            *o = [key_rank[o[0] as usize], pricing_rank[o[1] as usize], o[2]];
        }
        order.sort_unstable();
        let looked_up = vec![None; pricing_rank.len()];
        let mut sums = vec![ints(REQUESTS)?];
        for c in BILLED {
            sums.push(ints(c)?);
        }
        Ok(PricedGroups {
            key: keys.clone(),
            model: text(col::MODEL)?,
            kind: text(col::MODEL_ID_KIND)?,
            source: source.clone(),
            tier: tier.clone(),
            context: context.clone(),
            failed: table.column(col::ERROR_CODE)?.is_not_null().rechunk().into_owned(),
            sums: sums.try_into().map_err(|_| polars_err!(ComputeError: "token columns"))?,
            order,
            at: 0,
            prices,
            looked_up,
        })
    }

    /// The price of the group whose first row is `row`, as `priced` looks it up.
    fn price(&mut self, pricing: u32, row: usize) -> Option<Price> {
        let same = |a: usize, c: &StringChunked| str_at(c, a) == str_at(c, row);
        match self.looked_up[pricing as usize] {
            Some((at, price)) if same(at, &self.model) && same(at, &self.kind) => price,
            _ => {
                let text = |c| str_at(c, row).unwrap_or_default();
                let key = Key {
                    source_region: text(&self.source),
                    tier: tier_of(text(&self.kind)),
                    service: ServiceTier::parse(text(&self.tier)).unwrap_or(ServiceTier::Other),
                    context: Context::parse(text(&self.context)).unwrap_or(Context::Standard),
                };
                let price = self.prices.lookup(text(&self.model), key);
                self.looked_up[pricing as usize] = Some((row, price));
                price
            }
        }
    }

    /// The figures of the group at `self.at`, which it passes.
    fn group(&mut self) -> Attributed {
        let [key, pricing, first] = self.order[self.at];
        // Sums as polars makes them: Int64, wrapping, nulls left out; failed calls' tokens are
        // not billed.
        let (mut requests, mut ok_requests, mut billed) = (0i64, 0i64, [0i64; BILLED.len()]);
        while let Some(&[_, _, row]) = self.order.get(self.at).filter(|o| o[..2] == [key, pricing]) {
            let row = row as usize;
            let n = int_at(&self.sums[0], row);
            requests = requests.wrapping_add(n);
            if !self.failed.downcast_as_array().value(row) {
                ok_requests = ok_requests.wrapping_add(n);
                for (b, c) in billed.iter_mut().zip(&self.sums[1..]) {
                    *b = b.wrapping_add(int_at(c, row));
                }
            }
            self.at += 1;
        }
        let price = self.price(pricing, first as usize);
        // The same operations in the same order as `priced`'s expression, so the same bits
        // (polars divides a column by a scalar as a product with its reciprocal).
        let [input, output, cache_read, cache_write, cache_write_1h] = billed;
        let usd = price.map_or(0.0, |p| {
            let t = |v: i64| v as f64;
            (t(input) * p.input
                + t(output) * p.output
                + t(cache_read) * p.cache_read
                + (t(cache_write) - t(cache_write_1h)) * p.cache_write
                + t(cache_write_1h) * p.cache_write_1h)
                * (1.0 / 1_000_000.0)
        });
        let u = |v: i64| v.max(0) as u64;
        Attributed {
            requests: u(requests),
            input: u(input),
            output: u(output),
            cache_write_5m: u(cache_write.wrapping_sub(cache_write_1h)),
            cache_write_1h: u(cache_write_1h),
            usd,
            unpriced: if price.is_some() { 0 } else { u(ok_requests) },
        }
    }
}

impl Iterator for PricedGroups<'_> {
    /// A key's value and the figures of its groups, in pricing-key order.
    type Item = (Option<String>, Vec<Attributed>);

    fn next(&mut self) -> Option<Self::Item> {
        let [key, _, row] = *self.order.get(self.at)?;
        let mut groups = Vec::new();
        while self.order.get(self.at).is_some_and(|o| o[0] == key) {
            groups.push(self.group());
        }
        Some((str_at(&self.key, row as usize).map(str::to_string), groups))
    }
}

type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Distinct values, numbered as first met.
struct Codes<K>(Map<K, u32>);

impl<K> Default for Codes<K> {
    fn default() -> Self {
        Codes(Map::default())
    }
}

impl<K: Ord + std::hash::Hash> Codes<K> {
    fn code(&mut self, k: K) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(k).or_insert(next)
    }

    /// Code -> the value's rank in sorted order (only the distinct values are sorted).
    fn ranks(self) -> Vec<u32> {
        let mut distinct: Vec<(K, u32)> = self.0.into_iter().collect();
        distinct.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut ranks = vec![0; distinct.len()];
        for (rank, (_, code)) in distinct.into_iter().enumerate() {
            ranks[code as usize] = rank as u32;
        }
        ranks
    }
}

/// Row `i` of a one-chunk column, read from its array (a `ChunkedArray::get` costs more).
fn str_at(c: &StringChunked, i: usize) -> Option<&str> {
    c.downcast_as_array().get(i)
}

/// Row `i` of a one-chunk column; null is 0.
fn int_at(c: &Int64Chunked, i: usize) -> i64 {
    let a = c.downcast_as_array();
    match a.validity() {
        Some(v) if !v.get_bit(i) => 0,
        _ => a.value(i),
    }
}

fn cost_aggs() -> [Expr; FIGURES.len()] {
    FIGURES.map(|c| col(c).sum().alias(c))
}

/// The model ids the price table cannot price, with their successful calls (failed calls cost
/// nothing, so they need no price), by source region and tier. Input: `usage`, any kind of
/// record (a CloudTrail event names its model too).
pub fn unpriced(usage: LazyFrame, prices: &Prices) -> PolarsResult<LazyFrame> {
    let keys = [col::MODEL_ID, col::MODEL, col::MODEL_ID_KIND, col::SOURCE_REGION, col::SERVICE_TIER];
    let rows =
        priced(usage, prices, &[])?
            .filter(col(UNPRICED).gt(lit(0)))
            .group_by(keys.map(col))
            .agg([col(UNPRICED).sum().alias(UNPRICED)]);
    Ok(sort_by(rows, &keys))
}

/// Per base model (after the `by` columns, such as the day): requests, usd over priced
/// records, unpriced requests, billed tokens. Input: `priced`.
pub fn by_model(priced: LazyFrame, by: &[&str]) -> LazyFrame {
    let mut keys = by.to_vec();
    keys.push(col::MODEL);
    grouped(priced, &keys)
}

/// The same figures per any columns of `priced` (source region, model-id kind), sorted by them.
pub fn grouped(priced: LazyFrame, keys: &[&str]) -> LazyFrame {
    sort_by(priced.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>()).agg(cost_aggs()), keys)
}

/// Per application-profile tag key and value, after the `by` columns (contract: records without
/// the tag are `(untagged)` under every key that appears in the profiles file). Input: `priced`.
pub fn by_tag(priced: LazyFrame, profiles: &Profiles, by: &[&str]) -> PolarsResult<LazyFrame> {
    let group = |lf: LazyFrame, key: &str| {
        let mut keys: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        keys.push(col(TAG_VALUE));
        let mut out: Vec<Expr> = by.iter().map(|c| col(*c)).collect();
        out.extend([TAG_KEY, TAG_VALUE].map(col));
        out.extend(FIGURES.map(col));
        lf.group_by(keys).agg(cost_aggs()).with_column(lit(key).alias(TAG_KEY)).select(out)
    };
    let mut per_key = Vec::new();
    for key in profiles.tag_keys() {
        let (arns, values): (Vec<&str>, Vec<&str>) =
            profiles.iter().map(|p| (p.arn.as_str(), p.tags.get(key).map_or(UNTAGGED, String::as_str))).unzip();
        let tags = DataFrame::new(
            arns.len(),
            vec![Column::new(col::MODEL_ID.into(), arns), Column::new(TAG_VALUE.into(), values)],
        )?;
        let lf = priced
            .clone()
            .join(tags.lazy(), [col(col::MODEL_ID)], [col(col::MODEL_ID)], JoinArgs::new(JoinType::Left))
            .with_column(col(TAG_VALUE).fill_null(lit(UNTAGGED)));
        per_key.push(group(lf, key));
    }
    if per_key.is_empty() {
        // No tag keys: no rows, with the same columns.
        let none = priced.filter(lit(false)).with_column(lit(UNTAGGED).alias(TAG_VALUE));
        per_key.push(group(none, ""));
    }
    let mut order = by.to_vec();
    order.extend([TAG_KEY, TAG_VALUE]);
    Ok(sort_by(concat(per_key, UnionArgs::default())?, &order))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller table in no order: keys, pricing keys and failed calls repeat across rows,
    /// some models are unpriced, some values are null or huge.
    fn scrambled(rows: usize) -> (DataFrame, Prices) {
        let prices = Prices::default_table();
        let csv = prices.to_csv();
        let priced: Vec<&str> = csv.lines().filter_map(|l| l.split(',').next()).take(3).collect();
        let models = [
            (priced[0], "foundation-model"),
            (priced[1], "global-profile"),
            (priced[2], "geo-profile"),
            ("no-such-model", "other"),
        ];
        let mut x: u64 = 7;
        let mut next = |n: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut cols: [Vec<Option<String>>; 9] = Default::default();
        let mut ints: [Vec<i64>; 6] = Default::default();
        for _ in 0..rows {
            let (model, kind) = models[next(4) as usize];
            let id = format!("id-{model}");
            let text = [
                [
                    None,
                    Some("arn:aws:sts::1:assumed-role/r/s1"),
                    Some("arn:aws:iam::1:user/u"),
                    Some("arn:aws:sts::1:assumed-role/r/s2"),
                ][next(4) as usize],
                Some(id.as_str()),
                Some(model),
                Some(kind),
                [Some("us-east-1"), Some("eu-west-1"), None][next(3) as usize],
                [None, None, None, Some("ThrottlingException")][next(4) as usize],
                [Some("standard"), Some("priority"), None][next(3) as usize],
                [Some("standard"), Some("long")][next(2) as usize],
                [Some("invocation_log"), Some("invocation_log"), Some("cloudtrail")][next(3) as usize],
            ];
            for (c, v) in cols.iter_mut().zip(text) {
                c.push(v.map(str::to_string));
            }
            for (k, c) in ints.iter_mut().enumerate() {
                c.push(match (k, next(50)) {
                    (0, _) => 1 + next(3) as i64,
                    (_, 0) => i64::MAX / 3,
                    (_, v) => (v * 7919 + next(1000)) as i64,
                });
            }
        }
        let names: Vec<&str> = std::iter::once(col::IDENTITY_ARN).chain(col::PRICED).collect();
        let mut columns: Vec<Column> = names.iter().zip(cols).map(|(n, v)| Column::new((*n).into(), v)).collect();
        let int_names = [
            REQUESTS,
            col::INPUT_TOKENS,
            col::OUTPUT_TOKENS,
            col::CACHE_READ_TOKENS,
            col::CACHE_WRITE_TOKENS,
            col::CACHE_WRITE_1H_TOKENS,
        ];
        columns.extend(int_names.iter().zip(ints).map(|(n, v)| Column::new((*n).into(), v)));
        (DataFrame::new(rows, columns).unwrap(), prices)
    }

    #[test]
    fn priced_groups_are_priced_bit_for_bit() {
        use crate::tables::row::rows;
        let (table, prices) = scrambled(3000);
        for logged_only in [true, false] {
            let lf = match logged_only {
                true => table.clone().lazy().filter(col(col::RECORDED_BY).eq(lit("invocation_log"))),
                false => table.clone().lazy(),
            };
            let want = priced(lf, &prices, &[col::IDENTITY_ARN]).unwrap().collect().unwrap();
            let want: Vec<(Option<String>, Attributed)> =
                rows(&want).map(|r| (r.opt_str(col::IDENTITY_ARN), Attributed::from_row(&r))).collect();
            let got: Vec<(Option<String>, Attributed)> =
                PricedGroups::new(&table, &prices, col::IDENTITY_ARN, logged_only)
                    .unwrap()
                    .flat_map(|(key, groups)| groups.into_iter().map(move |g| (key.clone(), g)))
                    .collect();
            assert!(want.len() > 40 && want.iter().any(|w| w.1.unpriced > 0) && want.iter().any(|w| w.1.usd > 0.0));
            assert_eq!(got.len(), want.len(), "logged only: {logged_only}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "logged only: {logged_only}");
            }
        }
    }

    #[test]
    fn tier_table() {
        assert_eq!(tier_of("global-profile"), Tier::Global);
        for kind in ["foundation-model", "geo-profile", "application-profile", "other"] {
            assert_eq!(tier_of(kind), Tier::Regional, "{kind}");
        }
    }
}
