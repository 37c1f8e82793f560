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
    /// `metrics:REGION` sources: CloudWatch metrics read beside the records (`fetch::metrics`).
    pub metrics: MetricsSources,
    /// `batch:` sources: batch inference jobs read beside the records (`fetch::batch`), through
    /// `metrics.aws`.
    pub batch: Vec<crate::fetch::batch::BatchSource>,
}

/// The `metrics:REGION` sources, and how AWS is reached for them (and for `batch:` sources).
#[derive(Debug, Clone, Default)]
pub struct MetricsSources {
    pub regions: Vec<crate::fetch::metrics::MetricsRegion>,
    pub aws: crate::source::aws::AwsSettings,
}

impl MetricsSources {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
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
