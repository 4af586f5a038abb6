//! `GET /api/v1/rules`: the running rule set — what the last (re)load reported, a page
//! of its rules (`offset`, `limit`; `kept_version` says why a rule runs an older
//! version than its file), its filters with how many matches each
//! suppressed since that load.

use crate::api::triage::page;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rampart_sigma::filter::today;
use serde::Deserialize;
use serde_json::{json, Value};

/// The rule listing route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/rules", get(list))
}

/// `GET /api/v1/rules` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    offset: Option<usize>,
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Params>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let (offset, limit) = page(params.offset, params.limit)?;
    let rules = state.rules.load();
    let set = &rules.set;
    // Rules whose new version was broken at the last reload: why they run an older one.
    let kept: std::collections::HashMap<&str, &Vec<String>> = rules
        .report
        .kept
        .iter()
        .map(|kept| (kept.id.as_str(), &kept.why))
        .collect();
    let page: Vec<Value> = set
        .rules
        .iter()
        .skip(offset)
        .take(limit)
        .map(|rule| {
            json!({
                "id": rule.alert_id(),
                "title": rule.title,
                "level": rule.level,
                "status": rule.status,
                "techniques": rule.attack.techniques,
                "path": rule.path.display().to_string(),
                "kept_version": kept.get(rule.alert_id().as_str()),
            })
        })
        .collect();
    let today = today();
    let counts = rules.engine.suppressed();
    let filters: Vec<Value> = set
        .filters
        .iter()
        .map(|filter| {
            let suppressed: u64 = counts
                .iter()
                .filter(|c| c.filter_path == filter.path && c.filter_id == filter.id)
                .map(|c| c.count)
                .sum();
            json!({
                "id": filter.id,
                "title": filter.title,
                "rules": filter.rules,
                "active": filter.active_on(today),
                "expires": filter.expires,
                "path": filter.path.display().to_string(),
                "suppressed": suppressed,
            })
        })
        .collect();
    Ok(Json(json!({
        "report": rules.report,
        "total": set.rules.len(),
        "offset": offset,
        "limit": limit,
        "rules": page,
        "filters": filters,
    })))
}
