-- Failed invocations by model and error code.
SELECT
    model,
    error_code,
    COUNT(*) AS requests
FROM invocations
WHERE error_code IS NOT NULL
GROUP BY model, error_code
ORDER BY requests DESC, model, error_code
