use super::*;
use crate::given::profiles::Profiles;

/// A day file written before `cache_write_1h_tokens`, `service_tier`, `recorded_by` and
/// `max_tokens` existed reads as one whose calls had none of them: no one-hour writes,
/// standard, logged, no most tokens known.
#[test]
fn an_old_day_file_reads_with_the_newer_columns_filled_in() {
    let profiles = Profiles::default();
    let line = br#"{"timestamp":"2026-11-10T08:00:00Z","requestId":"r1","region":"us-east-1","operation":"Converse","modelId":"amazon.nova-pro-v1:0","input":{"inputTokenCount":5,"cacheWriteInputTokenCount":7},"output":{"outputTokenCount":3,"outputBodyJson":{"serviceTier":{"type":"priority"}}}}"#;
    let record = crate::record::parse_line(line).unwrap();
    assert_eq!(record.service_tier, crate::record::ServiceTier::Priority);
    let mut batch = Batch::default();
    batch.push(&record, &profiles);
    let mut builder = FrameBuilder::default();
    builder.take(&batch, &[Seen::New]);
    let new = builder.finish().unwrap();
    let old = new.drop_many([
        col::CACHE_WRITE_1H_TOKENS,
        col::SERVICE_TIER,
        col::RECORDED_BY,
        col::MAX_TOKENS,
        col::BEARER_TOKEN,
    ]);
    let filled = with_all_columns(old).unwrap();
    let names: Vec<&str> = filled.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, col::ALL);
    let (batch, outside) = Batch::from_frame(&filled, crate::window::Window::default(), &profiles).unwrap();
    assert_eq!((batch.len(), outside), (1, 0));
    assert_eq!(batch.tokens.iter().map(|t| t[0]).collect::<Vec<_>>(), [5, 3, 0, 7, 0]);
    assert_eq!(batch.strings[s::TIER].value(batch.strings[s::TIER].codes[0]), Some("standard"));
    assert_eq!(batch.recorded_by, [RecordedBy::InvocationLog]);
    assert_eq!((batch.max_tokens, batch.bearer_token), (vec![None], vec![false]));
}

/// A projected read of a day file: the columns not read are nulls, the ones read keep their
/// values, and a column that was read for and is missing (a damaged file) is still an error.
#[test]
fn a_projected_day_file_has_nulls_only_where_it_was_not_read() {
    let profiles = Profiles::default();
    let line = br#"{"timestamp":"2026-11-10T08:00:00Z","requestId":"r1","region":"us-east-1","operation":"Converse","modelId":"amazon.nova-pro-v1:0","identity":{"arn":"arn:aws:iam::1:user/u"},"input":{"inputTokenCount":5},"output":{"outputTokenCount":3}}"#;
    let mut batch = Batch::default();
    batch.push(&crate::record::parse_line(line).unwrap(), &profiles);
    let mut builder = FrameBuilder::default();
    builder.take(&batch, &[Seen::New]);
    let full = builder.finish().unwrap();
    let read = read_for(&[col::OUTPUT_TOKENS, col::MODEL]);
    assert_eq!(
        read,
        [
            col::TIMESTAMP,
            col::REQUEST_ID,
            col::SOURCE_REGION,
            col::MODEL_ID,
            col::INFERENCE_REGION,
            col::OUTPUT_TOKENS,
            col::RECORDED_BY
        ]
    );
    let day = full.select(read.clone()).unwrap();
    let filled = with_all_columns(with_unread_columns(day, &read).unwrap()).unwrap();
    let (batch, _) = Batch::from_frame(&filled, crate::window::Window::default(), &profiles).unwrap();
    assert_eq!(batch.tokens.iter().map(|t| t[0]).collect::<Vec<_>>(), [0, 3, 0, 0, 0]);
    assert_eq!(batch.strings[s::MODEL].value(batch.strings[s::MODEL].codes[0]), Some("amazon.nova-pro-v1:0"));
    assert_eq!(batch.strings[s::IDENTITY].codes[0], NULL_CODE, "not read");

    let damaged = full.drop_many([col::OUTPUT_TOKENS]);
    assert!(with_all_columns(with_unread_columns(damaged, &read).unwrap()).is_err());
}

/// A batch of log records (`l:ID`) and CloudTrail events (`t:ID`), parsed as `load` parses them.
fn batch(records: &[&str]) -> Batch {
    let profiles = Profiles::default();
    let mut batch = Batch::default();
    for r in records {
        let (kind, id) = r.split_once(':').unwrap();
        let text = match kind {
            "l" => format!(
                r#"{{"timestamp":"2026-11-10T08:00:00Z","requestId":"{id}","region":"us-east-1","operation":"Converse","modelId":"m.x"}}"#
            ),
            _ => format!(
                r#"{{"eventTime":"2026-11-10T08:00:00Z","eventSource":"bedrock.amazonaws.com","eventName":"Converse","awsRegion":"us-east-1","requestParameters":{{"modelId":"m.x"}},"requestID":"{id}"}}"#
            ),
        };
        let raw: Box<serde_json::value::RawValue>;
        let record = match kind {
            "l" => crate::record::parse_line(text.as_bytes()).unwrap(),
            _ => {
                raw = serde_json::from_str(&text).unwrap();
                crate::record::trail::parse_event(&raw).unwrap().unwrap()
            }
        };
        batch.push(&record, &profiles);
    }
    batch
}

/// Counts what a sink is handed: (log records counted, calls only in CloudTrail, CloudTrail
/// records of logged calls).
#[derive(Default)]
struct Counts(u64, u64, u64);

impl Sink for Counts {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        for (by, s) in batch.recorded_by.iter().zip(seen) {
            match (by, s) {
                (RecordedBy::InvocationLog, Seen::New) => self.0 += 1,
                (RecordedBy::CloudTrail, Seen::New) => self.1 += 1,
                (RecordedBy::CloudTrail, Seen::Logged) => self.2 += 1,
                _ => {}
            }
        }
    }
}

#[test]
fn the_order_of_reading_never_changes_a_count() {
    // Three calls: a logged in both, b only in CloudTrail, c only logged; a's event twice.
    let units = [&["t:a", "t:b"][..], &["l:a", "l:c"], &["t:a"]];
    let orders: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for order in orders {
        for seal_before in [None, Some(1), Some(2)] {
            let mut seen = Dedupe::default();
            let mut sink = Counts::default();
            for (i, u) in order.iter().enumerate() {
                if seal_before == Some(i) && order[i..].iter().all(|u| *u != 1) {
                    seen.seal(&mut sink);
                }
                seen.feed(batch(units[*u]), &mut sink);
            }
            seen.finish(&mut sink);
            assert_eq!((sink.0, sink.1, sink.2), (2, 1, 1), "{order:?} sealed before {seal_before:?}");
            assert_eq!((seen.duplicates, seen.logged), (1, 1), "{order:?}");
        }
    }
    // A store read a day at a time: the event on day 1, its log record on day 2.
    let mut seen = Dedupe::default();
    let mut sink = Counts::default();
    for day in [&["t:m"][..], &["l:m"]] {
        seen.feed(batch(day), &mut sink);
        seen.settle(1, &mut sink);
    }
    seen.finish(&mut sink);
    assert_eq!((sink.0, sink.1, sink.2), (1, 0, 1));
    // After the seal, a log record of a call counted from CloudTrail is not counted again.
    let mut seen = Dedupe::default();
    let mut sink = Counts::default();
    seen.seal(&mut sink);
    seen.feed(batch(&["t:z"]), &mut sink);
    seen.feed(batch(&["l:z"]), &mut sink);
    assert_eq!((sink.0, sink.1, seen.duplicates), (0, 1, 1));
}

/// Every id given twice is found, whatever else is given; of 200,000 ids given once, about 1%
/// (the filter's false positives at 10 bits an id) are kept too, and nothing else.
#[test]
fn may_repeat_finds_every_repeat_and_few_others() {
    let mut m = MayRepeat::new(200_000);
    for i in 0..200_000 {
        m.add(&format!("once-{i}"));
        if i % 1000 == 0 {
            m.add(&format!("twice-{i}"));
        }
    }
    for i in (0..200_000).step_by(1000) {
        m.add(&format!("twice-{i}"));
    }
    for i in (0..200_000).step_by(1000) {
        assert!(m.found.contains(&key(id_hash(&format!("twice-{i}")))), "twice-{i}");
    }
    let others = m.found.len() - 200;
    assert!(others < 4_000, "{others} false positives of 200,000");
    // Fewer ids expected than given: more false positives, never a repeat missed.
    let mut small = MayRepeat::new(10);
    for i in 0..100_000 {
        small.add(&format!("x{i}"));
    }
    small.add("x7");
    assert!(small.found.contains(&key(id_hash("x7"))));
}
