"""A bench corpus written apart from `mila sample` (scripts/bench, issue 24), shaped like the
unseen logs mila was slow on:

- ordinary Converse / ConverseStream / InvokeModel / InvokeModelWithResponseStream bodies whose
  text mixes ASCII with CJK, accents, escaped quotes, backslashes, markup and line breaks,
  ~5.5 KB a record; a third of the objects escape non-ASCII as \\uXXXX, as ensure_ascii writers do;
- key order that varies (schemaType/schemaVersion first or last, inferenceRegion after identity);
- ~150 records an object, one gzip object per region and run of records, hourly folders;
- ~4,000 identity ARNs (session names), requestMetadata with two keys on 10% of records;
- traffic spread over a week of minutes; failed calls; a few records delivered twice.

  python3 scripts/bench_corpus.py OUT_DIR RECORDS [SEED]
"""

import gzip
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
ACCOUNT = "210987654321"
START = datetime(2026, 3, 2, tzinfo=timezone.utc)
WEEK_S = 7 * 86400

REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2"]
# (model id, the regions a profile may route to; empty: in region)
MODELS = [
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", ["us-east-1", "us-east-2", "us-west-2"]),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", ["us-east-1", "eu-west-1", "ap-northeast-1", "us-west-2"]),
    ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"]),
    ("apac.anthropic.claude-3-5-sonnet-20241022-v2:0", ["ap-northeast-1", "ap-southeast-2", "ap-south-1"]),
    ("anthropic.claude-3-haiku-20240307-v1:0", []),
    ("us.amazon.nova-pro-v1:0", ["us-east-1", "us-west-2", "us-east-2"]),
    ("amazon.nova-lite-v1:0", []),
    ("us.meta.llama3-3-70b-instruct-v1:0", ["us-east-1", "us-west-2"]),
    ("mistral.mistral-large-2407-v1:0", []),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", ["us-east-1", "eu-central-1", "ap-southeast-2"]),
]
ROLES = ["SupportBot", "CodingAgent", "Translator", "ReportWriter", "Indexer", "Analyst"]
SESSIONS = [f"arn:aws:sts::{ACCOUNT}:assumed-role/{rng.choice(ROLES)}/s-{i:04d}-{rng.randrange(16**6):06x}"
            for i in range(4000)]
ERRORS = ["ThrottlingException", "ModelTimeoutException", "ValidationException", "ServiceUnavailableException"]

PIECES = [
    "数据驻留合规性检查需要知道每个请求实际在哪个区域运行。", "推論プロファイルはリクエストを別のリージョンへ送ることがあります。",
    "요청이 실제로 처리된 리전을 확인하세요.", "Le modèle a répondu en français : « déjà vu », naïveté, œuvre, façade.",
    "Größenänderung der Übersetzung für Österreich und die Schweiz.", "¿Dónde se ejecutó la petición? Año, señal, pingüino.",
    'She said "the invoice is overdue" and then "please escalate".', "Path: C:\\Users\\ops\\logs\\bedrock\\2026\\03\\",
    "regex: ^\\d{3}-\\d{4}$ and \\bword\\b", '<div class="answer"><p>Result: <b>42</b></p><br/></div>',
    "```json\n{\"key\": \"value\", \"n\": 1}\n```\n", "Line one.\nLine two.\n\tIndented \"quote\".\r\n",
    "Summarise the customer's ticket and propose a refund if the SLA was missed.", "Emoji: 🚀✅🔥 and math: ∑ x² ≤ ∞.",
    "SELECT region, count(*) FROM logs WHERE model LIKE 'anthropic.%' GROUP BY 1;",
    "The quick brown fox jumps over the lazy dog while the build runs on two cores.",
]


def text(size):
    parts, got = [], 0
    while got < size:
        # A phrase, then words no other record has (random CJK, a number, an id): text that
        # compresses like real text rather than like one phrase repeated.
        p = rng.choice(PIECES) + " " + "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 9)))
        p += f" #{rng.randrange(10**6)} {rng.choice(['ok', 'réf', 'id'])}-{rng.randrange(16**5):05x}"
        parts.append(p)
        got += len(p.encode())
    return " ".join(parts)


def tokens(s):
    return max(1, len(s.encode()) // 4)


def converse_body(prompt, answer, latency, stream):
    inp = {"messages": [{"role": "user", "content": [{"text": prompt}]}],
           "system": [{"text": text(200)}], "inferenceConfig": {"maxTokens": 2048, "temperature": 0.2}}
    out = {"output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
           "stopReason": rng.choice(["end_turn", "end_turn", "max_tokens"]), "metrics": {"latencyMs": latency},
           "usage": {"inputTokens": tokens(prompt), "outputTokens": tokens(answer), "totalTokens": tokens(prompt) + tokens(answer)}}
    return inp, out


def invoke_body(prompt, answer, latency, stream, it, ot):
    inp = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 2048,
           "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]}
    if not stream:
        return inp, {"id": f"msg_bdrk_{rng.randrange(16**10):010x}", "type": "message", "role": "assistant",
                     "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
                     "usage": {"input_tokens": it, "output_tokens": ot}}
    chunks = [{"type": "message_start", "message": {"role": "assistant", "usage": {"input_tokens": it, "output_tokens": 1}}}]
    step = max(1, len(answer) // 8)
    for i in range(0, len(answer), step):
        chunks.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": answer[i:i + step]}})
    chunks.append({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": ot}})
    chunks.append({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": it, "outputTokenCount": ot, "invocationLatency": latency, "firstByteLatency": latency // 7}})
    return inp, chunks


def record(ts, region):
    model, targets = rng.choice(MODELS)
    op = rng.choices(["Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"], [35, 25, 20, 20])[0]
    prompt, answer = text(rng.randint(1500, 3300)), text(rng.randint(600, 2400))
    it, ot, latency = tokens(prompt), tokens(answer), rng.randint(200, 30000)
    r = {"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "accountId": ACCOUNT, "region": region,
         "requestId": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "operation": op, "modelId": model}
    failed = rng.random() < 0.04
    if op.startswith("Converse"):
        inp, out = converse_body(prompt, answer, latency, op == "ConverseStream")
    else:
        inp, out = invoke_body(prompt, answer, latency, op.endswith("Stream"), it, ot)
    if failed:
        r["errorCode"] = rng.choice(ERRORS)
        r["input"] = {"inputContentType": "application/json", "inputBodyJson": inp}
    else:
        r["input"] = {"inputContentType": "application/json", "inputBodyJson": inp, "inputTokenCount": it,
                      "cacheReadInputTokenCount": rng.choice([0, 0, 0, rng.randint(100, 20000)]), "cacheWriteInputTokenCount": 0}
        r["output"] = {"outputContentType": "application/json", "outputBodyJson": out, "outputTokenCount": ot}
    if rng.random() < 0.10:
        r["requestMetadata"] = {"application_name": rng.choice(["helpdesk", "translate", "ide"]),
                                "cost_center": f"CC-{rng.randint(1, 40)}"}
    identity = {"arn": rng.choice(SESSIONS)}
    # Where the request ran: a profile's pick (most records), absent on some old profile records.
    ran = rng.choice(targets) if targets and rng.random() < 0.97 else None
    order = rng.randrange(3)
    if order == 0:
        r = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", **r, "identity": identity}
        if ran:
            r["inferenceRegion"] = ran
    else:
        r["identity"] = identity
        if ran:
            r["inferenceRegion"] = ran
        r["schemaType"] = "ModelInvocationLog"
        r["schemaVersion"] = "1.0"
        if order == 2:  # keys in another order again: identity and metadata first
            r = dict(sorted(r.items(), key=lambda kv: kv[0] not in ("identity", "requestMetadata")))
    return r


def main():
    per_region = {reg: [] for reg in REGIONS}
    for _ in range(n):
        reg = rng.choices(REGIONS, [30, 25, 15, 12, 10, 8])[0]
        per_region[reg].append(START + timedelta(seconds=rng.randrange(WEEK_S)))
    objects = written = 0
    for reg, times in per_region.items():
        times.sort()
        i = 0
        while i < len(times):
            size = rng.randint(120, 180)
            batch = times[i:i + size]
            i += size
            ascii_only = rng.random() < 0.33
            lines = [json.dumps(record(t, reg), ensure_ascii=ascii_only, separators=(",", ":")) for t in batch]
            if rng.random() < 0.05:  # a record delivered twice, as a retried delivery would
                lines.append(lines[rng.randrange(len(lines))])
            t0 = batch[0]
            path = (f"{out}/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{reg}/{t0:%Y/%m/%d/%H}/"
                    f"{ACCOUNT}_BedrockModelInvocationLogs_{reg}_{t0:%Y%m%dT%H%MZ}_{rng.randrange(16**8):08x}.json.gz")
            import os
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with gzip.open(path, "wb", compresslevel=6) as f:
                f.write(("\n".join(lines) + "\n").encode())
            objects += 1
            written += len(lines)
    print(f"{written} lines in {objects} objects under {out}", file=sys.stderr)


main()
