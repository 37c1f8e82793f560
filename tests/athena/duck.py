"""Runs the statements mila would send to Athena over a local corpus, and queues their rows in moto.

moto serves Athena's API but runs no SQL. This script stands in for Athena's engine: every
statement of `mila ... --engine athena --dry-run` (each ends with a line holding only `;`) is
parsed as Athena SQL by sqlglot, transpiled to DuckDB and run over a DuckDB view with the
Athena table's columns over the same NDJSON files. The rows are queued, in the dry-run order,
at moto's `/moto-api/static/athena/query-results`, which hands them to the queries in the order
they start. DDL is only parsed (DuckDB has no partition projection to run it against).

usage: duck.py STATEMENTS DIR BUCKET PREFIX MOTO_URL [--store] [--trail DB.TABLE] [--no-inject] [--dump FILE]

DIR is the corpus in the delivery layout, or with --store a mila store (the same files as the
store on S3 at s3://BUCKET/PREFIX), read as the Parquet table `mila.store`. With --trail, the
CloudTrail files under DIR (CloudTrail's layout) are also the table DB.TABLE, with the columns of
the table in Athena's documentation: JSON-text `requestparameters` and `additionaleventdata`,
a `useridentity` struct and the `yyyy/MM/dd` partition `timestamp`.
"""

import json
import os
import sys
import urllib.request

import duckdb
import sqlglot

# The table `athena setup` declares: every field a string column. Each is read here as JSON and
# handed on as the OpenX JSON SerDe hands a string column on: a JSON string as its text, any other
# value (number, object, array) as its JSON text, null as NULL. Keys are matched ignoring case,
# as the SerDe's case.insensitive (the default) does.
COLUMNS = [
    "schemaType",
    "timestamp",
    "accountId",
    "region",
    "requestId",
    "operation",
    "modelId",
    "inferenceRegion",
    "errorCode",
    "identity",
    "input",
    "output",
    "requestMetadata",
]


def as_serde_text(column):
    v = f'"{column}"'
    return (
        f"CASE WHEN {v} IS NULL OR json_type({v}) = 'NULL' THEN NULL "
        f"WHEN json_type({v}) = 'VARCHAR' THEN {v} ->> '$' ELSE CAST({v} AS VARCHAR) END"
    )


def statements(path):
    out, current = [], []
    for line in open(path, encoding="utf-8"):
        if line.rstrip("\n") == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(line)
    if "".join(current).strip():
        sys.exit("duck.py: text after the last `;` line: every statement must end with one")
    return out


def store_view(con, store, bucket, prefix):
    """The Parquet table over a store: its columns, `day` from the folder, `$path` on S3."""
    files = os.path.join(store, "records", "*", "*.parquet")
    root = os.path.abspath(store) + "/"
    key_prefix = prefix if prefix == "" or prefix.endswith("/") else prefix + "/"
    con.execute('CREATE SCHEMA IF NOT EXISTS "mila"')
    con.execute(
        f"""
CREATE OR REPLACE VIEW "mila"."store" AS
SELECT * EXCLUDE (filename, day), CAST(day AS VARCHAR) AS day,
  's3://{bucket}/{key_prefix}' || replace(filename, '{root}', '') AS "$path"
FROM read_parquet('{files}', filename = true, hive_partitioning = true, hive_types_autocast = false)
"""
    )


def table_view(con, corpus, bucket, prefix, database, table):
    """The Athena table as DuckDB sees it: lowercase names, partition columns from the path."""
    # The table's location is the invocation-log layout: trail files beside it are not in it.
    files = os.path.join(corpus, "AWSLogs", "*", "BedrockModelInvocationLogs", "**", "*.json*")
    columns = "{" + ", ".join(f"'{k}': 'JSON'" for k in COLUMNS) + "}"
    fields = ",\n  ".join(f"{as_serde_text(k)} AS {k.lower()}" for k in COLUMNS)
    root = os.path.abspath(corpus) + "/"
    key_prefix = prefix if prefix == "" or prefix.endswith("/") else prefix + "/"
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
    con.execute(
        f"""
CREATE OR REPLACE VIEW "{database}"."{table}" AS
SELECT
  {fields},
  regexp_extract(filename, 'AWSLogs/([^/]+)/', 1) AS account,
  regexp_extract(filename, 'BedrockModelInvocationLogs/([^/]+)/', 1) AS source_region,
  regexp_extract(filename, 'BedrockModelInvocationLogs/[^/]+/([0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}}/[0-9]{{2}})/', 1) AS hour,
  's3://{bucket}/{key_prefix}' || replace(filename, '{root}', '') AS "$path"
FROM read_json('{files}', format = 'newline_delimited', filename = true, columns = {columns})
"""
    )


def trail_view(con, corpus, bucket, prefix, name):
    """A CloudTrail table over the trail files: one row per element of each file's `Records`."""
    database, table = name.split(".")
    # AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE (DuckDB takes one `**` a path).
    files = os.path.join(corpus, "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json*")
    root = os.path.abspath(corpus) + "/"
    key_prefix = prefix if prefix == "" or prefix.endswith("/") else prefix + "/"
    s = lambda path: f"json_extract_string(e, '{path}')"
    text = lambda path: f"CAST(json_extract(e, '{path}') AS VARCHAR)"
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
    con.execute(
        f"""
CREATE OR REPLACE VIEW "{database}"."{table}" AS
SELECT
  {s('$.eventVersion')} AS eventversion,
  struct_pack(type := {s('$.userIdentity.type')}, principalid := {s('$.userIdentity.principalId')},
    arn := {s('$.userIdentity.arn')}, accountid := {s('$.userIdentity.accountId')},
    invokedby := {s('$.userIdentity.invokedBy')}) AS useridentity,
  {s('$.eventTime')} AS eventtime, {s('$.eventSource')} AS eventsource, {s('$.eventName')} AS eventname,
  {s('$.awsRegion')} AS awsregion, {s('$.sourceIPAddress')} AS sourceipaddress, {s('$.userAgent')} AS useragent,
  {s('$.errorCode')} AS errorcode, {s('$.errorMessage')} AS errormessage,
  {text('$.requestParameters')} AS requestparameters, {text('$.responseElements')} AS responseelements,
  {text('$.additionalEventData')} AS additionaleventdata, {s('$.requestID')} AS requestid,
  {s('$.eventID')} AS eventid, {s('$.readOnly')} AS readonly, {s('$.eventType')} AS eventtype,
  {s('$.recipientAccountId')} AS recipientaccountid, {s('$.eventCategory')} AS eventcategory,
  regexp_extract(filename, 'CloudTrail/[^/]+/([0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}})/', 1) AS "timestamp",
  's3://{bucket}/{key_prefix}' || replace(filename, '{root}', '') AS "$path"
FROM (
  SELECT unnest(Records) AS e, filename
  FROM read_json('{files}', filename = true, columns = {{'Records': 'JSON[]'}}, format = 'unstructured')
)
"""
    )


ATHENA_TYPES = {
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double",
    "FLOAT": "real",
    "VARCHAR": "varchar",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "TIMESTAMP": "timestamp",
}


def cell(value):
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"VarCharValue": "true" if value else "false"}
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        # Athena prints a whole double as `12.0`, as Python does.
        return {"VarCharValue": repr(value)}
    return {"VarCharValue": str(value)}


def decimal_literal(node):
    return isinstance(node, sqlglot.exp.Literal) and not node.is_string and "." in node.this and "e" not in node.this.lower()


def as_trino(parsed):
    """Where DuckDB computes otherwise than Trino (Athena engine v3), the harness models Trino.

    - `86400000.0` is a DECIMAL literal in Trino, and a BIGINT divided by it is rounded half up to
      the literal's scale (DuckDB divides in floating point): a statement that divides by, or
      divides, a decimal literal is refused, since no bucket computed that way is exact.
    - `regexp_extract` with no match is NULL in Trino, `''` in DuckDB.
    Everything else (failed casts and out-of-range timestamps failing the query, JSON type errors)
    fails in DuckDB as in Trino, so a statement that relies on them fails here too.
    """
    for div in parsed.find_all(sqlglot.exp.Div):
        if decimal_literal(div.this) or decimal_literal(div.expression):
            raise ValueError(f"Trino divides by a DECIMAL literal here, rounding to its scale: {div.sql(dialect='athena')}")

    def no_match_is_null(node):
        if isinstance(node, sqlglot.exp.RegexpExtract) and not node.meta.get("trino"):
            node.meta["trino"] = True
            matched = sqlglot.exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
            return sqlglot.exp.Case(ifs=[sqlglot.exp.If(this=matched, true=node)])
        return node

    return parsed.transform(no_match_is_null, copy=False)


def run(con, sql):
    """Athena SQL -> rows as Athena returns them: the header row, then the data."""
    parsed = sqlglot.parse_one(sql, read="athena")
    kind = parsed.key
    if kind in ("create", "drop"):
        return None
    duck = as_trino(parsed).sql(dialect="duckdb")
    result = con.execute(duck)
    names = [d[0] for d in result.description]
    types = [str(d[1]) for d in result.description]
    rows = result.fetchall()
    info = []
    for n, t in zip(names, types):
        base = t.split("(")[0].upper()
        athena = ATHENA_TYPES.get(t.upper(), ATHENA_TYPES.get(base, "decimal" if base == "DECIMAL" else "varchar"))
        info.append({"Name": n, "Label": n, "Type": athena, "Nullable": "UNKNOWN", "CaseSensitive": True})
    out = [{"Data": [{"VarCharValue": n} for n in names]}]
    out += [{"Data": [cell(v) for v in row]} for row in rows]
    return {"rows": out, "column_info": info}


def main():
    args = sys.argv[1:]
    inject = "--no-inject" not in args
    store = "--store" in args
    args = [a for a in args if a != "--store"]
    trail = None
    if "--trail" in args:
        trail = args[args.index("--trail") + 1]
        args = [a for i, a in enumerate(args) if a != "--trail" and (i == 0 or args[i - 1] != "--trail")]
    dump = None
    if "--dump" in args:
        dump = args[args.index("--dump") + 1]
        args = [a for i, a in enumerate(args) if a != "--dump" and (i == 0 or args[i - 1] != "--dump")]
    args = [a for a in args if a != "--no-inject"]
    path, corpus, bucket, prefix, moto = args[:5]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    results = []
    viewed = False
    for sql in statements(path):
        try:
            if not viewed and sqlglot.parse_one(sql, read="athena").key not in ("create", "drop"):
                if store:
                    store_view(con, corpus, bucket, prefix)
                else:
                    table_view(con, corpus, bucket, prefix, "mila", "invocation_logs")
                if trail:
                    trail_view(con, corpus, bucket, prefix, trail)
                viewed = True
            r = run(con, sql)
        except Exception as e:  # noqa: BLE001 - the statement is named with the error
            sys.exit(f"duck.py: {e}\n--- statement ---\n{sql}")
        if r is None:
            # DDL: Athena answers with no rows; moto needs a result queued all the same.
            r = {"rows": [], "column_info": []}
        results.append(r)
    if dump:
        json.dump(results, open(dump, "w"), indent=1)
    if inject:
        body = json.dumps({"region": "us-east-1", "results": results}).encode()
        req = urllib.request.Request(
            moto + "/moto-api/static/athena/query-results",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(req).read()
    print(f"duck.py: {len(results)} statements run and queued", file=sys.stderr)


if __name__ == "__main__":
    main()
