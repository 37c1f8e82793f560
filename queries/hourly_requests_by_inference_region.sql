-- Requests per hour (UTC) and inference region; unknown routes show as NULL.
-- Kept to SQL that both engines read (polars locally, Trino on Athena).
SELECT
    CAST(timestamp AS DATE) AS day,
    EXTRACT(HOUR FROM timestamp) AS hour,
    inference_region,
    COUNT(*) AS requests,
    SUM(CASE WHEN route = 'rerouted' THEN 1 ELSE 0 END) AS rerouted
FROM invocations
GROUP BY 1, 2, inference_region
ORDER BY day, hour, inference_region
