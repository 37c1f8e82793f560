-- Who uses the most tokens: callers (IAM identity ARNs) ranked by input + output tokens.
SELECT
    identity_arn,
    COUNT(*) AS requests,
    SUM(input_tokens) AS input_tokens,
    SUM(output_tokens) AS output_tokens,
    SUM(cache_read_tokens) AS cache_read_tokens,
    SUM(input_tokens + output_tokens) AS total_tokens
FROM invocations
GROUP BY identity_arn
ORDER BY total_tokens DESC, identity_arn
LIMIT 20
