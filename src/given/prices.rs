//! Prices (contract section 4): USD per million tokens by model, source region and tier.

use std::collections::HashMap;
use std::path::Path;

use super::{csv_line, invalid, read_to_string, InputError};
use crate::record::ServiceTier;

/// The bundled table and the day its prices were taken from the public Bedrock price list.
pub const DEFAULT_PRICES_CSV: &str = include_str!("default_prices.csv");
pub const DEFAULT_PRICES_DATE: &str = "2026-12-01";

/// Which price tier a record is billed in: global profiles have their own prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Global,
    Regional,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Global => "global",
            Tier::Regional => "regional",
        }
    }
}

/// Which rate a call's size takes: a long-context row prices the calls whose input is more than
/// `LONG_CONTEXT_TOKENS`; a model without one prices every call at its own rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Standard,
    Long,
}

/// Bedrock's long-context rates (Claude Sonnet 4 and 4.5 with the 1M window) apply to a request
/// whose input, counting cache reads and writes, is more than 200,000 tokens; all its tokens,
/// output too, are then billed at the long-context rows.
pub const LONG_CONTEXT_TOKENS: u64 = 200_000;

impl Context {
    pub const ALL: [Context; 2] = [Context::Standard, Context::Long];

    pub fn as_str(self) -> &'static str {
        match self {
            Context::Standard => "standard",
            Context::Long => "long",
        }
    }

    pub fn parse(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The context of a call with these input, cache-read and cache-write tokens.
    pub fn of(input: u64, cache_read: u64, cache_write: u64) -> Context {
        if input.saturating_add(cache_read).saturating_add(cache_write) > LONG_CONTEXT_TOKENS {
            Context::Long
        } else {
            Context::Standard
        }
    }
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    /// Cache writes kept five minutes (Anthropic's default).
    pub cache_write: f64,
    /// Cache writes kept one hour.
    pub cache_write_1h: f64,
}

/// Anthropic's published multiples of the input price, for empty cache cells.
pub const CACHE_READ_MULTIPLE: f64 = 0.1;
pub const CACHE_WRITE_MULTIPLE: f64 = 1.25;
pub const CACHE_WRITE_1H_MULTIPLE: f64 = 2.0;

/// The columns of a prices file. The last three may be left out (files from before them):
/// `cache_write_1h`, then `service_tier` (`standard` when absent or empty), then `context`
/// (empty: calls of any size; `long`: only calls past `LONG_CONTEXT_TOKENS`).
pub const COLUMNS: [&str; 10] = [
    "model",
    "region",
    "tier",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "service_tier",
    "context",
];

/// One price row of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// None for `*`, as are the tiers.
    pub region: Option<String>,
    pub tier: Option<Tier>,
    pub service: Option<ServiceTier>,
    /// A long-context row (`context` = `long`).
    pub long: bool,
    pub price: Price,
}

/// One line of a prices file (`COLUMNS`): `None` keys are `*`, `None` prices empty cells.
pub fn csv_row(
    model: &str,
    region: Option<&str>,
    tier: Option<Tier>,
    service: Option<ServiceTier>,
    long: bool,
    prices: [Option<f64>; 5],
) -> String {
    let cells: Vec<String> = prices.iter().map(|p| p.map(|v| v.to_string()).unwrap_or_default()).collect();
    format!(
        "{model},{},{},{},{},{}",
        region.unwrap_or("*"),
        tier.map_or("*", Tier::as_str),
        cells.join(","),
        service.map_or("*", ServiceTier::as_str),
        if long { "long" } else { "" }
    )
}

/// What a call is priced by besides its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    pub source_region: &'a str,
    pub tier: Tier,
    pub service: ServiceTier,
    pub context: Context,
}

#[derive(Debug, Clone)]
pub struct Prices {
    /// model -> its rows
    rows: HashMap<String, Vec<Row>>,
    /// "default table of 2026-11-01" or the file name.
    pub source: String,
}

/// The highest price a table may give, in USD per million tokens: a thousand times today's
/// dearest. Past it a cell is a typo (or `1e308`), and costs would stop being finite numbers.
pub const MAX_PRICE: f64 = 100_000.0;

impl Prices {
    pub fn default_table() -> Prices {
        let mut p = Prices::parse(DEFAULT_PRICES_CSV, Path::new("default prices"))
            .expect("the bundled price table parses (unit-tested)");
        p.source = format!("bundled price table of {DEFAULT_PRICES_DATE}");
        p
    }

    pub fn load(path: &Path) -> Result<Prices, InputError> {
        Prices::parse(&read_to_string(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Prices, InputError> {
        let mut reader =
            csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| invalid(path, e.to_string()))?.clone();
        let got: Vec<&str> = headers.iter().collect();
        if ![7, 8, 9, 10].iter().any(|n| got == COLUMNS[..*n]) {
            return Err(invalid(
                path,
                format!("header must be `{}` (the last three, two or one may be left out)", COLUMNS.join(",")),
            ));
        }
        let mut rows: HashMap<String, Vec<Row>> = HashMap::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| invalid(path, e.to_string()))?;
            let line = csv_line(text, &rec);
            let num = |idx: usize, name: &str| -> Result<Option<f64>, InputError> {
                let cell = rec.get(idx).unwrap_or("");
                if cell.is_empty() {
                    return Ok(None);
                }
                match cell.parse::<f64>() {
                    Ok(v) if (0.0..=MAX_PRICE).contains(&v) => Ok(Some(v)),
                    _ => Err(invalid(
                        path,
                        format!(
                            "line {line}: `{name}` must be a number from 0 to {MAX_PRICE} (USD per million tokens)"
                        ),
                    )),
                }
            };
            let model = rec.get(0).unwrap_or("").to_string();
            if model.is_empty() {
                return Err(invalid(path, format!("line {line}: empty model")));
            }
            let region = match rec.get(1).unwrap_or("") {
                "*" => None,
                "" => return Err(invalid(path, format!("line {line}: region must be a region or `*`"))),
                r => Some(r.to_string()),
            };
            let tier = match rec.get(2).unwrap_or("") {
                "*" => None,
                "global" => Some(Tier::Global),
                "regional" => Some(Tier::Regional),
                _ => return Err(invalid(path, format!("line {line}: tier must be global, regional or `*`"))),
            };
            let input =
                num(3, "input")?.ok_or_else(|| invalid(path, format!("line {line}: input price is required")))?;
            let output =
                num(4, "output")?.ok_or_else(|| invalid(path, format!("line {line}: output price is required")))?;
            // Empty cache cells: Anthropic's published multiples of the input price.
            let price = Price {
                input,
                output,
                cache_read: num(5, "cache_read")?.unwrap_or(input * CACHE_READ_MULTIPLE),
                cache_write: num(6, "cache_write")?.unwrap_or(input * CACHE_WRITE_MULTIPLE),
                cache_write_1h: num(7, "cache_write_1h")?.unwrap_or(input * CACHE_WRITE_1H_MULTIPLE),
            };
            // A price for priority, flex or latency-optimized calls is never the standard one
            // unless a row says `*`: a row without a service tier is the standard price.
            let service = match rec.get(8).unwrap_or("") {
                "" => Some(ServiceTier::Standard),
                "*" => None,
                s => match ServiceTier::parse(s).filter(|t| *t != ServiceTier::Other) {
                    Some(t) => Some(t),
                    None => {
                        let names: Vec<&str> =
                            ServiceTier::ALL.iter().filter(|t| **t != ServiceTier::Other).map(|t| t.as_str()).collect();
                        return Err(invalid(
                            path,
                            format!("line {line}: service_tier must be {} or `*`", names.join(", ")),
                        ));
                    }
                },
            };
            let long = match rec.get(9).unwrap_or("") {
                "" => false,
                "long" => true,
                _ => return Err(invalid(path, format!("line {line}: context must be `long` or empty"))),
            };
            let entry = rows.entry(model.clone()).or_default();
            if entry.iter().any(|r| r.region == region && r.tier == tier && r.service == service && r.long == long) {
                return Err(invalid(
                    path,
                    format!(
                        "line {line}: a second row for {model} with the same region, tier, service tier and context"
                    ),
                ));
            }
            entry.push(Row { region, tier, service, long, price });
        }
        Ok(Prices { rows, source: path.display().to_string() })
    }

    /// The most specific row: for a long-context call a long-context row first; then an exact
    /// region beats `*`, then an exact tier, then an exact service tier.
    pub fn lookup(&self, model: &str, key: Key) -> Option<Price> {
        let rows = self.rows.get(model)?;
        let long = key.context == Context::Long;
        rows.iter()
            .filter(|r| {
                r.region.as_deref().is_none_or(|r| r == key.source_region)
                    && r.tier.is_none_or(|t| t == key.tier)
                    && r.service.is_none_or(|s| s == key.service)
                    && (!r.long || long)
            })
            .max_by_key(|r| {
                8 * u8::from(r.long)
                    + 4 * u8::from(r.region.is_some())
                    + 2 * u8::from(r.tier.is_some())
                    + u8::from(r.service.is_some())
            })
            .map(|r| r.price)
    }

    /// The table as CSV, sorted, with the empty-cell defaults filled in: what is in force.
    pub fn to_csv(&self) -> String {
        let mut rows: Vec<String> = self
            .rows
            .iter()
            .flat_map(|(model, rows)| {
                rows.iter().map(move |r| {
                    let p = r.price;
                    let cells = [p.input, p.output, p.cache_read, p.cache_write, p.cache_write_1h].map(Some);
                    csv_row(model, r.region.as_deref(), r.tier, r.service, r.long, cells)
                })
            })
            .collect();
        rows.sort();
        format!("{}\n{}\n", COLUMNS.join(","), rows.join("\n"))
    }

    /// Every row, with its model (empty cache cells filled in), in no order.
    pub fn all_rows(&self) -> impl Iterator<Item = (&str, &Row)> {
        self.rows.iter().flat_map(|(m, rows)| rows.iter().map(move |r| (m.as_str(), r)))
    }

    pub fn len(&self) -> usize {
        self.rows.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(source_region: &str, tier: Tier, service: ServiceTier) -> Key<'_> {
        Key { source_region, tier, service, context: Context::Standard }
    }

    const TABLE: &str = "model,region,tier,input,output,cache_read,cache_write
m,*,*,3.0,15.0,0.3,3.75
m,*,regional,3.3,16.5,,
m,eu-west-1,*,4.0,20.0,0.4,5.0
m,eu-west-1,global,3.5,17.0,0.35,4.5
";

    #[test]
    fn most_specific_row_wins() {
        let p = Prices::parse(TABLE, Path::new("p.csv")).unwrap();
        let cases = [
            ("us-east-1", Tier::Global, 3.0),
            ("us-east-1", Tier::Regional, 3.3),
            ("eu-west-1", Tier::Regional, 4.0),
            ("eu-west-1", Tier::Global, 3.5),
        ];
        for (region, tier, want) in cases {
            assert_eq!(
                p.lookup("m", key(region, tier, ServiceTier::Standard)).unwrap().input,
                want,
                "{region} {tier:?}"
            );
        }
        assert_eq!(p.lookup("other", key("us-east-1", Tier::Regional, ServiceTier::Standard)), None);
    }

    #[test]
    fn empty_cache_cells_default_to_ratios_of_input() {
        let p = Prices::parse(TABLE, Path::new("p.csv")).unwrap();
        let got = p.lookup("m", key("us-east-1", Tier::Regional, ServiceTier::Standard)).unwrap();
        assert!((got.cache_read - 0.33).abs() < 1e-12);
        assert!((got.cache_write - 4.125).abs() < 1e-12);
        // One-hour writes: twice the input price, or the cell's own price.
        assert!((got.cache_write_1h - 6.6).abs() < 1e-12);
        let with_1h = "model,region,tier,input,output,cache_read,cache_write,cache_write_1h\nm,*,*,3,15,0.3,3.75,7\nn,*,*,1,2,,,\n";
        let p = Prices::parse(with_1h, Path::new("p.csv")).unwrap();
        assert_eq!(p.lookup("m", key("r", Tier::Regional, ServiceTier::Standard)).unwrap().cache_write_1h, 7.0);
        assert_eq!(p.lookup("n", key("r", Tier::Regional, ServiceTier::Standard)).unwrap().cache_write_1h, 2.0);
    }

    #[test]
    fn service_tiers_are_priced_by_their_own_rows() {
        let text = "model,region,tier,input,output,cache_read,cache_write,cache_write_1h,service_tier
m,*,*,1,2,,,,
m,*,*,1.75,3.5,,,,priority
m,*,*,0.5,1,,,,flex
n,*,*,1,2,,,,*
n,*,*,9,9,,,,latency-optimized
";
        let p = Prices::parse(text, Path::new("p.csv")).unwrap();
        let input = |model: &str, t| p.lookup(model, key("r", Tier::Regional, t)).map(|p| p.input);
        let cases = [
            ("m", ServiceTier::Standard, Some(1.0)),
            ("m", ServiceTier::Priority, Some(1.75)),
            ("m", ServiceTier::Flex, Some(0.5)),
            // No row for it and no `*` row: unpriced, never the standard price.
            ("m", ServiceTier::LatencyOptimized, None),
            ("m", ServiceTier::Other, None),
            ("n", ServiceTier::Priority, Some(1.0)),
            ("n", ServiceTier::LatencyOptimized, Some(9.0)),
            ("n", ServiceTier::Other, Some(1.0)),
        ];
        for (model, tier, want) in cases {
            assert_eq!(input(model, tier), want, "{model} {tier:?}");
        }
        // A file without the column prices standard calls only.
        let old = Prices::parse(TABLE, Path::new("p.csv")).unwrap();
        assert!(old.lookup("m", key("r", Tier::Regional, ServiceTier::Priority)).is_none());
        let bad =
            "model,region,tier,input,output,cache_read,cache_write,cache_write_1h,service_tier\nm,*,*,1,2,,,,turbo\n";
        let err = Prices::parse(bad, Path::new("p.csv")).unwrap_err().to_string();
        assert!(
            err.contains(
                "line 2: service_tier must be standard, priority, flex, reserved, latency-optimized, batch or `*`"
            ),
            "{err}"
        );
    }

    #[test]
    fn long_context_rows_price_only_long_calls() {
        let text = "model,region,tier,input,output,cache_read,cache_write,cache_write_1h,service_tier,context
m,*,*,3,15,,,,,
m,*,*,6,22.5,,,,,long
m,eu-west-1,*,4,20,,,,,
n,*,*,1,2,,,,,
";
        let p = Prices::parse(text, Path::new("p.csv")).unwrap();
        let input = |model: &str, region: &str, context| {
            let key = Key { source_region: region, tier: Tier::Regional, service: ServiceTier::Standard, context };
            p.lookup(model, key).map(|p| p.input)
        };
        let cases = [
            ("m", "us-east-1", Context::Standard, Some(3.0)),
            ("m", "us-east-1", Context::Long, Some(6.0)),
            // A long call takes the long row over a region's standard one.
            ("m", "eu-west-1", Context::Long, Some(6.0)),
            ("m", "eu-west-1", Context::Standard, Some(4.0)),
            // No long row: every call at the model's own rate.
            ("n", "us-east-1", Context::Long, Some(1.0)),
        ];
        for (model, region, context, want) in cases {
            assert_eq!(input(model, region, context), want, "{model} {region} {context:?}");
        }
        // The threshold counts cache reads and writes, and is "more than".
        let sizes = [
            ((200_000, 0, 0), Context::Standard),
            ((200_001, 0, 0), Context::Long),
            ((0, 150_000, 50_000), Context::Standard),
            ((1, 150_000, 50_000), Context::Long),
            ((u64::MAX, u64::MAX, 1), Context::Long),
        ];
        for ((i, r, w), want) in sizes {
            assert_eq!(Context::of(i, r, w), want, "{i} {r} {w}");
        }
        let again = Prices::parse(&p.to_csv(), Path::new("again.csv")).unwrap();
        assert_eq!(again.to_csv(), p.to_csv());
        assert!(p.to_csv().contains("m,*,*,6,22.5,0.6000000000000001,7.5,12,standard,long\n"), "{}", p.to_csv());
        let bad = "model,region,tier,input,output,cache_read,cache_write,cache_write_1h,service_tier,context\nm,*,*,1,2,,,,,huge\n";
        let err = Prices::parse(bad, Path::new("p.csv")).unwrap_err().to_string();
        assert!(err.contains("line 2: context must be `long` or empty"), "{err}");
    }

    #[test]
    fn bad_tables_name_file_and_line() {
        let cases = [
            "model,region,tier,input,output\nm,*,*,1,2",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,cheap,1,2,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,-1,2,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,1,2,,\nm,*,*,1,2,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,,2,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,1e308,2,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,1,inf,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,1,NaN,,",
            "model,region,tier,input,output,cache_read,cache_write\nm,*,*,1,2,100001,",
            "model,region,tier,input,output,cache_read,cache_write,cache_write_1h\nm,*,*,1,2,,,-2",
            "model,region,tier,input,output,cache_read,cache_write,cache_write_one_hour\nm,*,*,1,2,,,",
        ];
        for text in cases {
            let err = Prices::parse(text, Path::new("p.csv")).unwrap_err().to_string();
            assert!(err.starts_with("p.csv: "), "{err}");
        }
    }

    #[test]
    fn errors_name_the_line_an_editor_shows() {
        let header = "model,region,tier,input,output,cache_read,cache_write";
        let cases = [
            (format!("{header}\nm,*,cheap,1,2,,"), "line 2: tier"),
            (format!("# prices\n{header}\n\n# Claude\nm,*,*,1,2,,\nn,*,cheap,1,2,,"), "line 6: tier"),
            (format!("{header}\r\n# a comment\r\nm,*,*,1,2,,\r\nm,*,*,1,2,,\r\n"), "line 4: a second row"),
        ];
        for (text, want) in cases {
            let err = Prices::parse(&text, Path::new("p.csv")).unwrap_err().to_string();
            assert!(err.starts_with(&format!("p.csv: {want}")), "{text:?}: {err}");
        }
    }

    #[test]
    fn to_csv_round_trips() {
        let p = Prices::parse(TABLE, Path::new("p.csv")).unwrap();
        let again = Prices::parse(&p.to_csv(), Path::new("again.csv")).unwrap();
        assert_eq!(again.to_csv(), p.to_csv());
        assert!(p.to_csv().contains("m,*,regional,3.3,16.5,0.33,4.125,6.6,standard,\n"), "{}", p.to_csv());
    }

    #[test]
    fn bundled_table_parses() {
        let p = Prices::default_table();
        assert!(p.len() > 20);
        let sonnet = p
            .lookup("anthropic.claude-sonnet-4-20250514-v1:0", key("us-east-1", Tier::Regional, ServiceTier::Standard))
            .unwrap();
        assert_eq!((sonnet.input, sonnet.output), (3.0, 15.0));
    }
}
