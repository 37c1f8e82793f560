//! What a run reads, as settings give it: `Scope` for every engine (the window, the profiles
//! that resolve model ids, now), `LocalSources` for the local engine and `ingest` only (the
//! sources or store, limits, progress). Plain values: no module below settings sees clap.

use crate::given::profiles::Profiles;
use crate::source::aws::AwsSettings;
use crate::source::SourceSpec;
use crate::store::StoreAt;
use crate::window::Window;

/// What every engine reads: which records count, and how their models resolve.
pub struct Scope {
    pub window: Window,
    pub profiles: Profiles,
    pub now_ms: i64,
}

/// What the local engine (and `ingest`) reads records from, and how.
pub struct LocalSources {
    /// In the order given; empty when reading a store.
    pub sources: Vec<SourceSpec>,
    pub store: Option<StoreAt>,
    pub aws: AwsSettings,
    /// Show a progress line (when standard error is a terminal).
    pub progress: bool,
    /// `--max-line-length`, in bytes.
    pub max_line: usize,
}
