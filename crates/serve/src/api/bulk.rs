//! The Elasticsearch-compatible subset log shippers' Elasticsearch outputs use, so
//! they can point at Rampart unchanged: `GET /` and `HEAD /` (cluster info with a
//! version), `GET /_license`, `GET /_xpack`, and `POST` or `PUT` `/_bulk` and `/{index}/_bulk`.
//!
//! `_bulk` takes action lines and documents (NDJSON). `index` and `create` documents
//! become events (the index name is kept as the event's source); `delete` and `update`
//! are answered with a per-item error (`update`'s document line is skipped). The answer
//! is Elasticsearch's: `took`, `errors`, and one item per action with its `status`
//! (201, or 400 with an `error`). As for `/api/v1/events`, the answer comes after the
//! alerts are committed; a full queue is 429, which shippers retry. Every answer
//! carries `X-Elastic-Product: Elasticsearch`, which official clients check.

use crate::api::body;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::time::Instant;

/// The Elasticsearch version reported to clients: recent enough for current clients
/// and shippers to accept, on the 8.x wire protocol.
pub const ES_VERSION: &str = "8.11.0";

/// The Elasticsearch-compatible routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(info).head(info_head))
        .route("/_license", get(license))
        .route("/_xpack", get(xpack))
        .route("/_bulk", post(bulk_default).put(bulk_default))
        .route("/{index}/_bulk", post(bulk_index).put(bulk_index))
}

/// Adds the header official Elasticsearch clients require on every answer.
fn elastic(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    response
}

async fn info(caller: Result<Caller, ApiError>) -> Response {
    if let Err(error) = caller {
        return elastic(error);
    }
    elastic(Json(json!({
        "name": "rampart",
        "cluster_name": "rampart",
        "cluster_uuid": "rampart",
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "rampart",
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    })))
}

async fn info_head(caller: Result<Caller, ApiError>) -> Response {
    match caller {
        Ok(_) => elastic(()),
        Err(error) => elastic(error.status()),
    }
}

async fn license(caller: Result<Caller, ApiError>) -> Response {
    if let Err(error) = caller {
        return elastic(error);
    }
    elastic(Json(json!({
        "license": { "status": "active", "type": "basic", "mode": "basic", "uid": "rampart" }
    })))
}

async fn xpack(caller: Result<Caller, ApiError>) -> Response {
    if let Err(error) = caller {
        return elastic(error);
    }
    elastic(Json(json!({
        "build": {},
        "license": { "status": "active", "type": "basic", "mode": "basic", "uid": "rampart" },
        "features": {}
    })))
}

async fn bulk_default(
    state: State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    elastic(bulk(state, caller, None, headers, body).await)
}

async fn bulk_index(
    state: State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(index): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    elastic(bulk(state, caller, Some(index), headers, body).await)
}

async fn bulk(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    index: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller?.require(Permission::Ingest)?;
    let started = Instant::now();
    let limits = state.config.limits.clone();
    let (plan, parsed) = tokio::task::spawn_blocking(move || {
        let text = body::decode(&headers, &body, limits.max_decoded_bytes)?;
        let plan = plan(&text, index.as_deref(), limits.max_line_bytes);
        let parsed = body::parse(
            &plan.documents,
            "_bulk",
            limits.max_line_bytes,
            limits.queue_events.max(1),
        )?;
        Ok::<_, ApiError>((plan, parsed))
    })
    .await
    .map_err(|error| ApiError::Internal(format!("parsing task failed: {error}")))??;
    state.metrics.events_rejected.fetch_add(
        parsed.rejected_count + plan.refused as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    // Which documents the reader refused, by their line in the document text.
    let refused_lines: std::collections::HashMap<u64, String> = parsed
        .rejected
        .iter()
        .map(|rejected| (rejected.line, rejected.reason.clone()))
        .collect();
    state.detection.process(parsed.events).await?;
    let mut errors = false;
    let items: Vec<Value> = plan
        .items
        .into_iter()
        .map(|item| {
            let error = match (&item.outcome, item.document_line) {
                (Outcome::Refused(reason), _) => Some(reason.clone()),
                (Outcome::Document, Some(line)) => refused_lines.get(&line).cloned(),
                (Outcome::Document, None) => None,
            };
            let mut answer = json!({ "_index": item.index, "_id": item.id });
            match error {
                Some(reason) => {
                    errors = true;
                    answer["status"] = json!(400);
                    answer["error"] = json!({ "type": item.error_type, "reason": reason });
                }
                None => {
                    answer["status"] = json!(201);
                    answer["result"] = json!("created");
                    answer["_version"] = json!(1);
                    answer["_seq_no"] = json!(0);
                    answer["_primary_term"] = json!(1);
                    answer["_shards"] = json!({ "total": 1, "successful": 1, "failed": 0 });
                }
            }
            json!({ item.action: answer })
        })
        .collect();
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(Json(
        json!({ "took": took, "errors": errors, "items": items }),
    ))
}

/// The actions of a `_bulk` body and the documents to read, one per line.
pub(crate) struct Plan {
    items: Vec<Item>,
    /// The `index`/`create` documents, one per line, for the JSON-lines reader.
    pub(crate) documents: Vec<u8>,
    /// Items refused before reading.
    refused: usize,
}

struct Item {
    action: String,
    index: String,
    id: String,
    outcome: Outcome,
    /// The document's line in [`Plan::documents`] (from 1).
    document_line: Option<u64>,
    error_type: &'static str,
}

enum Outcome {
    Document,
    Refused(String),
}

/// Reads the action lines; documents of `index`/`create` go to the document text.
pub(crate) fn plan(text: &[u8], default_index: Option<&str>, max_line_bytes: usize) -> Plan {
    let mut plan = Plan {
        items: Vec::new(),
        documents: Vec::new(),
        refused: 0,
    };
    let mut lines = text
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace));
    let mut next_id: u64 = 0;
    let mut document_lines: u64 = 0;
    while let Some(line) = lines.next() {
        let action: Option<(String, Value)> =
            serde_json::from_slice::<Value>(line)
                .ok()
                .and_then(|value| match value {
                    Value::Object(map) if map.len() == 1 => map.into_iter().next(),
                    _ => None,
                });
        let Some((action, meta)) = action else {
            plan.refused += 1;
            plan.items.push(Item {
                action: "index".into(),
                index: default_index.unwrap_or_default().to_string(),
                id: String::new(),
                outcome: Outcome::Refused("malformed action line".into()),
                document_line: None,
                error_type: "illegal_argument_exception",
            });
            continue;
        };
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .or(default_index)
            .unwrap_or("rampart")
            .to_string();
        let id = match meta.get("_id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                next_id += 1;
                format!("rampart-{next_id}")
            }
        };
        let mut item = Item {
            action: action.clone(),
            index,
            id,
            outcome: Outcome::Document,
            document_line: None,
            error_type: "mapper_parsing_exception",
        };
        match action.as_str() {
            "index" | "create" => match lines.next() {
                Some(document) if document.len() > max_line_bytes => {
                    item.outcome =
                        Outcome::Refused(format!("document longer than {max_line_bytes} bytes"));
                }
                Some(document) if starts_object(document) => {
                    document_lines += 1;
                    plan.documents.extend_from_slice(document);
                    plan.documents.push(b'\n');
                    item.document_line = Some(document_lines);
                }
                Some(_) => {
                    item.outcome = Outcome::Refused("the document is not a JSON object".into());
                }
                None => {
                    item.outcome = Outcome::Refused("the action has no document".into());
                }
            },
            "update" | "delete" => {
                if action == "update" {
                    lines.next();
                }
                item.error_type = "illegal_argument_exception";
                item.outcome = Outcome::Refused(format!(
                    "rampart takes events: `{action}` is not supported (only index and create)"
                ));
            }
            other => {
                item.error_type = "illegal_argument_exception";
                item.outcome = Outcome::Refused(format!(
                    "unknown action `{}`",
                    other.chars().take(32).collect::<String>()
                ));
            }
        }
        if matches!(item.outcome, Outcome::Refused(_)) {
            plan.refused += 1;
        }
        plan.items.push(item);
    }
    plan
}

/// Whether a document line is a JSON object that parses (checked here so one bad
/// document cannot change how the reader takes the others).
fn starts_object(line: &[u8]) -> bool {
    line.iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|&byte| byte == b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_pairs_actions_with_documents_and_refuses_the_rest() {
        let body = b"{\"index\":{\"_index\":\"logs\",\"_id\":\"a\"}}\n{\"EventID\":1}\n\
{\"delete\":{\"_id\":\"b\"}}\n\
{\"update\":{\"_id\":\"c\"}}\n{\"doc\":{}}\n\
{\"create\":{}}\n[1]\n\
{\"create\":{}}\n{\"EventID\":2}\n\
garbage\n";
        let plan = plan(body, Some("default"), 1 << 20);
        let summary: Vec<(&str, &str, bool)> = plan
            .items
            .iter()
            .map(|item| {
                (
                    item.action.as_str(),
                    item.index.as_str(),
                    matches!(item.outcome, Outcome::Document),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("index", "logs", true),
                ("delete", "default", false),
                ("update", "default", false),
                ("create", "default", false),
                ("create", "default", true),
                ("index", "default", false),
            ]
        );
        assert_eq!(plan.documents, b"{\"EventID\":1}\n{\"EventID\":2}\n");
        assert_eq!(plan.items[4].document_line, Some(2));
        assert_eq!(plan.refused, 4);
    }
}
