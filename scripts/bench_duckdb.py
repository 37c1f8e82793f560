"""DuckDB's side of scripts/bench: read the same gzip objects with read_json and compute the
aggregates mila report computes (dedupe by requestId, routes by source region, flows, latency
percentiles by inference region, tokens and cost by model, errors by code).

Prints one JSON line of figures used to check that both tools counted the same thing."""

import json
import sys
import time

import duckdb

started = time.perf_counter()

root, prices = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads TO 2")
# Hourly delivery objects only: sidecars sit one level deeper, under data/.
glob = f"{root}/AWSLogs/*/BedrockModelInvocationLogs/*/*/*/*/*/*.json.gz"
con.execute(f"""
CREATE TEMP TABLE raw AS
SELECT * FROM read_json('{glob}', format = 'newline_delimited', compression = 'gzip', columns = {{
    timestamp: 'VARCHAR', requestId: 'VARCHAR', region: 'VARCHAR', operation: 'VARCHAR',
    modelId: 'VARCHAR', inferenceRegion: 'VARCHAR', errorCode: 'VARCHAR',
    input: 'STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)',
    output: 'STRUCT(outputTokenCount BIGINT, outputBodyJson JSON)'
}})
""")
con.execute("""
CREATE TEMP TABLE rec AS
WITH d AS (SELECT DISTINCT ON (requestId) * FROM raw),
m AS (
  SELECT *,
    regexp_replace(regexp_replace(modelId, '^arn:[^:]+:bedrock:[^:]*:[^:]*:(inference-profile|foundation-model)/', ''),
                   '^(us|eu|apac|jp|au|ca|us-gov|in|global)\\.', '') AS model,
    CASE WHEN inferenceRegion IS NOT NULL THEN inferenceRegion
         WHEN modelId NOT LIKE 'arn:%' AND NOT regexp_matches(modelId, '^(us|eu|apac|jp|au|ca|us-gov|in|global)\\.') THEN region
         WHEN modelId LIKE '%:foundation-model/%' THEN region
         WHEN regexp_matches(modelId, ':(provisioned-model|custom-model-deployment|imported-model|custom-model)/.') THEN region
         END AS inference_region,
    CASE WHEN operation IN ('Converse', 'ConverseStream')
           THEN CAST(json_extract(output.outputBodyJson, '$.metrics.latencyMs') AS BIGINT)
         WHEN operation = 'InvokeModelWithResponseStream'
           THEN CAST(list_filter(json_extract(output.outputBodyJson, '$[*]."amazon-bedrock-invocationMetrics".invocationLatency'), lambda x: x IS NOT NULL)[1] AS BIGINT)
    END AS latency_ms
  FROM d)
SELECT *, CASE WHEN inference_region IS NULL THEN 'unknown' WHEN inference_region = region THEN 'local' ELSE 'rerouted' END AS route
FROM m
""")
con.execute(f"CREATE TEMP TABLE prices AS SELECT * FROM read_csv('{prices}', comment = '#', header = true)")
routes = con.execute("SELECT region, count(*), count(*) FILTER (route = 'local'), count(*) FILTER (route = 'rerouted'), count(*) FILTER (route = 'unknown') FROM rec GROUP BY region").fetchall()
flows = con.execute("SELECT region, inference_region, count(*) FROM rec GROUP BY ALL").fetchall()
latency = con.execute("""SELECT inference_region, count(latency_ms), quantile_disc(latency_ms, 0.5), quantile_disc(latency_ms, 0.9),
    quantile_disc(latency_ms, 0.99), avg(latency_ms) FROM rec WHERE errorCode IS NULL AND inference_region IS NOT NULL GROUP BY ALL""").fetchall()
tokens = con.execute("""SELECT model, count(*), sum(coalesce(input.inputTokenCount, 0)), sum(coalesce(output.outputTokenCount, 0)),
    sum(coalesce(input.cacheReadInputTokenCount, 0)), sum(coalesce(input.cacheWriteInputTokenCount, 0)) FROM rec GROUP BY model""").fetchall()
cost = con.execute("""SELECT r.model, sum(CASE WHEN errorCode IS NULL THEN (coalesce(r.input.inputTokenCount, 0) * p.input
    + coalesce(r.output.outputTokenCount, 0) * p.output) / 1e6 ELSE 0 END) FROM rec r LEFT JOIN prices p ON p.model = r.model GROUP BY r.model""").fetchall()
errors = con.execute("SELECT errorCode, count(*) FROM rec WHERE errorCode IS NOT NULL GROUP BY ALL").fetchall()
lines = con.execute("SELECT count(*) FROM raw").fetchone()[0]
print(json.dumps({
    "lines": lines,
    "requests": sum(r[1] for r in routes),
    "rerouted": sum(r[3] for r in routes),
    "latency_known": sum(r[1] for r in latency),
    "invocation_errors": sum(e[1] for e in errors),
}))
# Query time alone (no interpreter start-up or import), on standard error, for the bench's notes.
print(f"{time.perf_counter() - started:.3f}", file=sys.stderr)
