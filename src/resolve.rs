//! What a model id and an inference region say about a call (contract section 3): the id's kind,
//! the canonical model (through the profiles file for an application profile), the route, and
//! where the call ran. The parser keeps ids raw, as the store keeps them; records are resolved
//! here where they meet their unit's columns (`frame::Batch`), once per distinct (source region,
//! model id, logged inference region), for files and a store's day files alike.

use std::collections::HashMap;

use crate::frame::Interned;
use crate::given::profiles::Profiles;
use crate::record::model_id::{canonicalise, route};
use crate::record::{ModelIdKind, Route};

/// A call, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    pub kind: ModelIdKind,
    pub model: &'a str,
    pub route: Route,
    pub ran_in: Option<&'a str>,
}

/// Resolves one call. An inference region that is logged is where it ran; without one, a call
/// to a model that lives in one region (a foundation model, a provisioned model, an application
/// profile of the source region alone) ran where it was made; any other is unknown, never guessed.
pub fn resolve<'a>(
    source_region: &'a str,
    model_id: &'a str,
    inference_region: Option<&'a str>,
    profiles: &'a Profiles,
) -> Resolved<'a> {
    let canonical = canonicalise(model_id);
    let profile = match canonical.kind {
        ModelIdKind::ApplicationProfile => profiles.get(canonical.base),
        _ => None,
    };
    let model = match profile {
        Some(p) => canonicalise(&p.model).base,
        None => canonical.base,
    };
    let (route, ran_in) = route(source_region, inference_region, &canonical, profile.map(|p| p.regions.as_slice()));
    Resolved { kind: canonical.kind, model, route, ran_in }
}

/// The resolved columns of one row, as dictionary codes: kind, model, route, ran in.
pub type Codes = [u32; 4];

/// `resolve` for the rows of one unit, remembered per distinct (source region, model id, logged
/// inference region) by their dictionary codes: a unit of a million calls to three models
/// resolves three times.
#[derive(Default)]
pub struct Resolver {
    /// The logged inference regions seen, which are not a column of their own.
    logged: Interned,
    /// (source region, model id, logged inference region) -> codes. Hashed: a hostile unit may
    /// name a new model id on every line.
    known: HashMap<[u32; 3], Codes, foldhash::fast::RandomState>,
}

impl Resolver {
    /// The codes of a row whose source region and model id have the codes given, in `columns`
    /// (kind, model, route, ran in: the dictionaries the codes index).
    pub fn codes(
        &mut self,
        (source, source_code): (&str, u32),
        (model_id, model_id_code): (&str, u32),
        inference_region: Option<&str>,
        profiles: &Profiles,
        columns: [&mut Interned; 4],
    ) -> Codes {
        let key = [source_code, model_id_code, self.logged.code(inference_region)];
        *self.known.entry(key).or_insert_with(|| {
            let r = resolve(source, model_id, inference_region, profiles);
            let [kind, model, route, ran_in] = columns;
            [
                kind.code(Some(r.kind.as_str())),
                model.code(Some(r.model)),
                route.code(Some(r.route.as_str())),
                ran_in.code(r.ran_in),
            ]
        })
    }
}
