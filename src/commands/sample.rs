//! `mila sample`: a synthetic corpus of invocation logs (and a CloudTrail trail), no AWS needed.

use anyhow::Result;

use super::Status;
use crate::settings::Sample;
use crate::tell;

pub fn run(s: Sample) -> Result<Status> {
    let written = crate::sample::write_corpus(&s.out, s.records, s.seed, s.start_ms, s.bodies, s.cloudtrail)?;
    tell::line(&format!(
        "mila: wrote {} records in {} objects under {}",
        written.records,
        written.objects,
        s.out.display()
    ));
    if let Some(t) = &written.trail {
        tell::line(&format!(
            "mila: wrote a CloudTrail trail of {} Bedrock calls ({} of them in no invocation log) in {} files",
            t.calls, t.only_in_cloudtrail, t.files
        ));
    }
    Ok(Status::Ok)
}
