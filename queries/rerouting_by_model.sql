-- For cross-region ids: how often each model ran outside the region that was called.
SELECT
    model,
    model_id_kind,
    COUNT(*) AS requests,
    SUM(CASE WHEN route = 'rerouted' THEN 1 ELSE 0 END) AS rerouted,
    SUM(CASE WHEN route = 'unknown' THEN 1 ELSE 0 END) AS unknown
FROM invocations
WHERE model_id_kind IN ('geo-profile', 'global-profile', 'application-profile')
GROUP BY model, model_id_kind
ORDER BY requests DESC, model
