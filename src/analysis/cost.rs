//! Cost: each record priced by (base model, source region, tier); failed calls cost nothing;
//! records with no matching price row stay unpriced (null), never silently zero.

use polars::prelude::*;

use super::{count_rows, count_where, sort_by};
use crate::frame::col;
use crate::inputs::prices::{Prices, Tier};
use crate::inputs::profiles::Profiles;
use crate::record::ModelIdKind;

pub const USD: &str = "usd";
pub const REQUESTS: &str = "requests";
pub const UNPRICED: &str = "unpriced_requests";
pub const TAG_KEY: &str = "key";
pub const TAG_VALUE: &str = "value";
pub const UNTAGGED: &str = "(untagged)";

const P_IN: &str = "_price_input";
const P_OUT: &str = "_price_output";
const P_CR: &str = "_price_cache_read";
const P_CW: &str = "_price_cache_write";

/// The tier a record is billed in: global profiles have global prices, everything else regional.
pub fn tier_of(model_id_kind: &str) -> Tier {
    if model_id_kind == ModelIdKind::GlobalProfile.as_str() {
        Tier::Global
    } else {
        Tier::Regional
    }
}

/// Adds `usd` to every record: 0 for failed calls, null where no price row matches.
pub fn priced(lf: LazyFrame, prices: &Prices) -> PolarsResult<LazyFrame> {
    let keys = [col::MODEL, col::SOURCE_REGION, col::MODEL_ID_KIND];
    // Price lookup runs once per distinct key, not per record.
    let distinct = lf.clone().select(keys.map(col)).unique(None, UniqueKeepStrategy::Any).collect()?;
    let models = super::read::strs(&distinct, col::MODEL)?;
    let regions = super::read::strs(&distinct, col::SOURCE_REGION)?;
    let kinds = super::read::strs(&distinct, col::MODEL_ID_KIND)?;
    let mut cols: [Vec<Option<f64>>; 4] = Default::default();
    for ((m, r), k) in models.iter().zip(&regions).zip(&kinds) {
        let (m, r, k) = (m.as_deref().unwrap_or(""), r.as_deref().unwrap_or(""), k.as_deref().unwrap_or(""));
        let p = prices.lookup(m, r, tier_of(k));
        for (c, v) in cols
            .iter_mut()
            .zip(p.map(|p| [p.input, p.output, p.cache_read, p.cache_write]).map_or([None; 4], |a| a.map(Some)))
        {
            c.push(v);
        }
    }
    let [pi, po, pcr, pcw] = cols;
    let table = DataFrame::new(
        distinct.height(),
        vec![
            Column::new(col::MODEL.into(), models),
            Column::new(col::SOURCE_REGION.into(), regions),
            Column::new(col::MODEL_ID_KIND.into(), kinds),
            Column::new(P_IN.into(), pi),
            Column::new(P_OUT.into(), po),
            Column::new(P_CR.into(), pcr),
            Column::new(P_CW.into(), pcw),
        ],
    )?;
    let on: Vec<Expr> = keys.map(col).to_vec();
    let joined = lf.join(table.lazy(), on.clone(), on, JoinArgs::new(JoinType::Left));
    let tokens = |c: &str, p: &str| col(c).cast(DataType::Float64) * col(p);
    let usd = (tokens(col::INPUT_TOKENS, P_IN)
        + tokens(col::OUTPUT_TOKENS, P_OUT)
        + tokens(col::CACHE_READ_TOKENS, P_CR)
        + tokens(col::CACHE_WRITE_TOKENS, P_CW))
        / lit(1_000_000.0);
    let usd = when(col(col::ERROR_CODE).is_not_null()).then(lit(0.0)).otherwise(usd).alias(USD);
    Ok(joined
        .with_column(usd)
        .drop(Selector::ByName { names: [P_IN, P_OUT, P_CR, P_CW].map(PlSmallStr::from).into(), strict: true }))
}

fn cost_aggs() -> [Expr; 3] {
    [count_rows().alias(REQUESTS), col(USD).sum().alias(USD), count_where(col(USD).is_null()).alias(UNPRICED)]
}

/// Per base model: requests, usd over priced records, unpriced requests. Input: `priced`.
pub fn by_model(priced: LazyFrame) -> LazyFrame {
    sort_by(priced.group_by([col(col::MODEL)]).agg(cost_aggs()), &[col::MODEL])
}

/// Per application-profile tag key and value (contract: records without the tag are
/// `(untagged)` under every key that appears in the profiles file). Input: `priced`.
pub fn by_tag(priced: LazyFrame, profiles: &Profiles) -> PolarsResult<LazyFrame> {
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
            .with_column(col(TAG_VALUE).fill_null(lit(UNTAGGED)))
            .group_by([col(TAG_VALUE)])
            .agg(cost_aggs())
            .with_column(lit(key).alias(TAG_KEY))
            .select([col(TAG_KEY), col(TAG_VALUE), col(REQUESTS), col(USD), col(UNPRICED)]);
        per_key.push(lf);
    }
    if per_key.is_empty() {
        let empty = DataFrame::new(
            0,
            vec![
                Column::new(TAG_KEY.into(), Vec::<String>::new()),
                Column::new(TAG_VALUE.into(), Vec::<String>::new()),
                Column::new(REQUESTS.into(), Vec::<i64>::new()),
                Column::new(USD.into(), Vec::<f64>::new()),
                Column::new(UNPRICED.into(), Vec::<i64>::new()),
            ],
        )?;
        return Ok(empty.lazy());
    }
    Ok(sort_by(concat(per_key, UnionArgs::default())?, &[TAG_KEY, TAG_VALUE]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_table() {
        assert_eq!(tier_of("global-profile"), Tier::Global);
        for kind in ["foundation-model", "geo-profile", "application-profile", "other"] {
            assert_eq!(tier_of(kind), Tier::Regional, "{kind}");
        }
    }
}
