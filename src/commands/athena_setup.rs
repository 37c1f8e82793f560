//! `mila athena setup`: declares the Athena table over a delivery prefix (or a store), or
//! prints what it would run.

use anyhow::Result;

use super::Status;
use crate::engine::athena;
use crate::{escape, tell};

pub fn run(p: athena::SetupPlan) -> Result<Status> {
    let done = athena::setup(&p)?;
    for folder in &done.ignored {
        tell::line(&format!("mila: warning: left out of the table: {}", escape::terminal(folder)));
    }
    if p.print {
        tell::stdout(athena::script(&done.statements).as_bytes())?;
    } else {
        tell::line(&escape::terminal(&athena::setup_message(&p, &done)));
    }
    Ok(Status::Ok)
}
