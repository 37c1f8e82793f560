-- Requests per hour (UTC) and inference region; unknown routes show as NULL.
SELECT
    STRFTIME(timestamp, '%Y-%m-%d %H:00') AS hour,
    inference_region,
    COUNT(*) AS requests,
    SUM(CASE WHEN route = 'rerouted' THEN 1 ELSE 0 END) AS rerouted
FROM invocations
GROUP BY hour, inference_region
ORDER BY hour, inference_region
