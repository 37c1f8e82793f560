//! `athena setup`: the DDL of the table over the delivery prefix, and of the table over a store.

use super::*;

// ---------------------------------------------------------------------------------------------
// The table over the delivery prefix.

/// What `athena setup` declares.
pub struct Setup<'a> {
    pub table: &'a TableRef,
    /// `s3://bucket/prefix/AWSLogs/` with a trailing slash.
    pub logs_root: String,
    pub accounts: &'a [String],
    pub regions: &'a [String],
    /// First hour folder the projection covers, `yyyy/MM/dd/HH`.
    pub first_hour: String,
}

/// The fields mila reads, as the JSON SerDe declares them: every one as text, so that no value
/// of a wrong type can fail the query (the SerDe hands a nested object or array on as its JSON
/// text; a string column cannot fail). The nested ones are read with JSON functions in `Scan`'s
/// chain, where a value of the wrong type costs its record, as in the local parser. Bodies are
/// read only for the metrics Bedrock logs inside them (Converse latency, stream metrics).
pub(super) const COLUMNS: &str = "  `schematype` string,
  `timestamp` string,
  `accountid` string,
  `region` string,
  `requestid` string,
  `operation` string,
  `modelid` string,
  `inferenceregion` string,
  `errorcode` string,
  `identity` string,
  `input` string,
  `output` string,
  `requestmetadata` string";

/// The statements of `athena setup`: the database, then the table (declared afresh). A location
/// or folder name Hive's DDL cannot hold is refused (`quote::ddl_string`).
pub fn setup(s: &Setup) -> Result<Vec<Statement>, quote::Refused> {
    let ddl = quote::ddl_string;
    let enumerated = |what: &str, values: &[String]| match values.iter().find(|v| v.contains(',')) {
        Some(v) => Err(quote::Refused {
            what: what.into(),
            value: v.clone(),
            why: "holds a comma, which would split it in the projection's list",
        }),
        None => ddl(what, &values.join(",")),
    };
    let table = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (
{COLUMNS}
)
PARTITIONED BY (`account` string, `source_region` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION {location}
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = {accounts},
  'projection.source_region.type' = 'enum',
  'projection.source_region.values' = {regions},
  'projection.hour.type' = 'date',
  'projection.hour.format' = 'yyyy/MM/dd/HH',
  'projection.hour.range' = {range},
  'projection.hour.interval' = '1',
  'projection.hour.interval.unit' = 'HOURS',
  'storage.location.template' = {template},
  'mila.layout' = 'bedrock-invocation-logs'
)",
        table = s.table.ddl(),
        location = ddl("the logs' S3 location", &s.logs_root)?,
        accounts = enumerated("account", s.accounts)?,
        regions = enumerated("region", s.regions)?,
        range = ddl("--since", &format!("{},NOW", s.first_hour))?,
        template = ddl(
            "the logs' S3 location",
            &format!("{}${{account}}/BedrockModelInvocationLogs/${{source_region}}/${{hour}}/", s.logs_root)
        )?,
    );
    // Dropping an external table drops only its definition: a second setup (a new region, say)
    // declares it again over the same objects.
    Ok(declare(s.table, table))
}

/// The database, a drop of the table's old definition, and the new one.
pub(super) fn declare(table: &TableRef, ddl: String) -> Vec<Statement> {
    vec![
        Statement {
            name: "database",
            sql: format!("CREATE DATABASE IF NOT EXISTS {}", quote::ddl_ident(&table.database)),
        },
        Statement { name: "drop", sql: format!("DROP TABLE IF EXISTS {}", table.ddl()) },
        Statement { name: "table", sql: ddl },
    ]
}

/// The Parquet types of a store's columns (`frame::FrameBuilder::finish`), in file order.
pub(super) fn store_type(column: &str) -> &'static str {
    use crate::frame::col;
    match column {
        col::TIMESTAMP => "timestamp",
        col::BODY_IN_S3 | col::BEARER_TOKEN => "boolean",
        c if col::TOKENS.contains(&c) || [col::LATENCY_MS, col::FIRST_BYTE_MS, col::MAX_TOKENS].contains(&c) => {
            "bigint"
        }
        _ => "string",
    }
}

/// The statements of `athena setup --store`: a Parquet table over a store's day files, with
/// the day projected (`records/day=YYYY-MM-DD/`), so Athena reads only the columns it needs.
pub fn setup_store(table: &TableRef, records_root: &str, first_day: &str) -> Result<Vec<Statement>, quote::Refused> {
    let ddl = quote::ddl_string;
    let columns: Vec<String> = crate::frame::col::ALL.iter().map(|c| format!("  `{c}` {}", store_type(c))).collect();
    let ddl = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (
{columns}
)
PARTITIONED BY (`day` string)
STORED AS PARQUET
LOCATION {location}
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy-MM-dd',
  'projection.day.range' = {range},
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = {template},
  'mila.layout' = 'mila-store'
)",
        table = table.ddl(),
        columns = columns.join(",\n"),
        location = ddl("the store's S3 location", records_root)?,
        range = ddl("--since", &format!("{first_day},NOW"))?,
        template = ddl("the store's S3 location", &format!("{records_root}day=${{day}}/"))?,
    );
    Ok(declare(table, ddl))
}
