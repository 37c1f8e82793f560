"""What a report costs on Athena, measured on the benchmark corpora (issue 13). Not a test.

Athena bills the bytes it reads from S3. A statement over the JSON delivery table reads every
log object of the window's partitions whole (gzip is not splittable and JSON is not columnar);
over Parquet it reads only the column chunks the statement names. So the bytes a report scans
are the compressed log objects of its window, once per statement, and this script measures them
per record on each corpus, then scales to 100 million records at 5 USD per TB (2^40 bytes).

usage: python scripts/bench_athena.py CORPUS_DIR... [--store STORE_DIR] [--statements N]
(run with the venv of scripts/bench or scripts/moto, which has duckdb)
"""

import gzip
import os
import sys

STATEMENTS = 6  # records, usage, callers, minutes, latency by region, latency by route
SCALE = 100_000_000
USD_PER_TB = 5.0
TB = 1 << 40
# The record columns the report's statements read, by their names in the store's Parquet files.
READ = [
    "timestamp", "request_id", "identity_arn", "source_region", "operation", "model_id",
    "inference_region", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "latency_ms", "first_byte_ms", "error_code",
]


def corpus(path):
    objects = records = size = 0
    for root, _, names in os.walk(path):
        if os.path.basename(root) == "data":
            continue  # sidecar bodies: excluded by every statement's "$path" filter
        for n in names:
            if n.endswith(".json.gz"):
                p = os.path.join(root, n)
                objects += 1
                size += os.path.getsize(p)
                with gzip.open(p, "rb") as f:
                    records += sum(1 for line in f if line.strip())
    return objects, records, size


def store(path):
    import duckdb

    con = duckdb.connect()
    files = os.path.join(path, "records", "*", "*.parquet")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{files}')").fetchone()[0]
    by_column = dict(
        con.execute(
            f"SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata('{files}') GROUP BY 1"
        ).fetchall()
    )
    read = sum(v for k, v in by_column.items() if k in READ)
    return rows, read, sum(by_column.values())


def line(label, per_record, statements):
    scanned = per_record * SCALE * statements
    print(
        f"| {label} | {per_record:,.0f} | {per_record * SCALE / 1e9:,.1f} GB | "
        f"{scanned / 1e9:,.0f} GB | {scanned / TB * USD_PER_TB:,.2f} USD |"
    )


def main():
    args = sys.argv[1:]
    statements = STATEMENTS
    if "--statements" in args:
        i = args.index("--statements")
        statements = int(args[i + 1])
        del args[i : i + 2]
    store_dir = None
    if "--store" in args:
        i = args.index("--store")
        store_dir = args[i + 1]
        del args[i : i + 2]
    print(f"{statements} statements a report; figures per {SCALE:,} records in the window\n")
    print("| table | bytes a record | one statement | a report | USD a report |")
    print("|---|---:|---:|---:|---:|")
    for c in args:
        objects, records, size = corpus(c)
        line(f"JSON, {os.path.basename(c.rstrip('/'))} ({records:,} records, {objects:,} objects)", size / records, statements)
    if store_dir:
        rows, read, total = store(store_dir)
        line(f"Parquet store, columns read ({rows:,} records; all columns {total / rows:,.0f} B a record)", read / rows, statements)


if __name__ == "__main__":
    main()
