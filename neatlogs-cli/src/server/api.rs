//! The JSON query API. Filters use the same language as the CLI; a filter
//! that does not parse is a 400 naming the column.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{lock, AppState};
use crate::filter::{self, Filter};
use crate::store::{Store, StoreError, UserSort};

/// Most rows one request returns.
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    offset: Option<u32>,
    #[serde(default)]
    sort: Option<String>,
}

fn bad_request(message: String, column: Option<usize>) -> Response {
    let mut body = json!({ "error": message });
    if let Some(column) = column {
        body["column"] = column.into();
    }
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn parse_filter(params: &ListParams) -> Result<Filter, filter::FilterError> {
    filter::parse(params.filter.as_deref().unwrap_or(""))
}

fn filter_error(e: filter::FilterError) -> Response {
    bad_request(e.message, Some(e.column))
}

/// Runs a read on the reader connection, off the async threads.
async fn read<T, F>(state: AppState, f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Store) -> Result<Option<T>, StoreError> + Send + 'static,
{
    let result = tokio::task::spawn_blocking(move || f(&lock(&state.reader))).await;
    match result {
        Ok(Ok(Some(value))) => Json(value).into_response(),
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such trace" })),
        )
            .into_response(),
        Ok(Err(e @ StoreError::AmbiguousTrace { .. })) => bad_request(e.to_string(), None),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": format!("query task failed: {e}") })),
        )
            .into_response(),
    }
}

/// `GET /`
pub(crate) async fn index() -> &'static str {
    "neatlogs collector\n\
     POST /v1/traces                 OTLP traces (protobuf or JSON, gzip)\n\
     POST /v1/trace                  browser simple-trace JSON\n\
     GET  /api/traces?filter=&limit=&offset=\n\
     GET  /api/traces/{trace_id}\n\
     GET  /api/end-users?filter=&sort=\n\
     GET  /api/sessions?filter=&limit=\n"
}

/// `GET /api/traces`
pub(crate) async fn traces(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let filter = match parse_filter(&params) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let limit = params.limit.unwrap_or(50).min(MAX_LIMIT);
    let offset = params.offset.unwrap_or(0);
    read(state, move |store| {
        let traces = store.list_traces(&filter, limit, offset)?;
        Ok(Some(json!({
            "filter": filter.to_string(),
            "limit": limit,
            "offset": offset,
            "traces": traces,
        })))
    })
    .await
}

/// `GET /api/traces/{trace_id}`
pub(crate) async fn trace(State(state): State<AppState>, Path(trace_id): Path<String>) -> Response {
    read(state, move |store| store.trace(&trace_id)).await
}

/// `GET /api/end-users`
pub(crate) async fn end_users(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let filter = match parse_filter(&params) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let sort = match params
        .sort
        .as_deref()
        .map(str::parse::<UserSort>)
        .transpose()
    {
        Ok(sort) => sort.unwrap_or_default(),
        Err(message) => return bad_request(message, None),
    };
    read(state, move |store| store.users(&filter, sort).map(Some)).await
}

/// `GET /api/sessions`
pub(crate) async fn sessions(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let filter = match parse_filter(&params) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let limit = params.limit.unwrap_or(100).min(MAX_LIMIT);
    read(state, move |store| {
        Ok(Some(json!({ "sessions": store.sessions(&filter, limit)? })))
    })
    .await
}
