//! The JSON query API. Filters use the same language as the CLI; a filter
//! that does not parse is a 400 naming the column.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::filter::{self, Field, Filter};
use crate::store::{Store, StoreError, UserSort, MAX_DAYS};

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
    /// `true` adds the number of matching traces (`total`, counted up to
    /// `offset` plus the count limit; `total_is_lower_bound` says when
    /// there are more) to a list.
    #[serde(default)]
    count: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DailyParams {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    top: Option<u32>,
    #[serde(default)]
    days: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KeysParams {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    values: Option<u32>,
}

fn bad_request(message: String, column: Option<usize>) -> Response {
    let mut body = json!({ "error": message });
    if let Some(column) = column {
        body["column"] = column.into();
    }
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The `filter` query parameter parsed (none matches every trace).
fn parse_filter(text: Option<&str>) -> Result<Filter, filter::FilterError> {
    filter::parse(text.unwrap_or(""))
}

/// The 400 for a filter that does not parse, naming the column.
fn filter_error(e: filter::FilterError) -> Response {
    bad_request(e.message, Some(e.column))
}

/// Runs a read on a free reader connection, off the async threads, under
/// the query time limit.
async fn read<T, F>(state: AppState, f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Store) -> Result<Option<T>, StoreError> + Send + 'static,
{
    let limit = state.query_time_limit;
    read_within(state, Some(limit), f).await
}

/// Runs a read on a free reader connection (waiting for one no longer
/// than the query time limit), off the async threads, stopped after
/// `limit` if one is given.
async fn read_within<T, F>(state: AppState, limit: Option<Duration>, f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Store) -> Result<Option<T>, StoreError> + Send + 'static,
{
    let wait = state.query_time_limit;
    let Some(mut reader) = state.readers.get(wait).await else {
        return busy(wait);
    };
    let result = tokio::task::spawn_blocking(move || match limit {
        Some(limit) => reader.with_time_limit(limit, f),
        None => f(&reader),
    })
    .await;
    match result {
        Ok(Ok(Some(value))) => Json(value).into_response(),
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such trace" })),
        )
            .into_response(),
        Ok(Err(e @ StoreError::AmbiguousTrace { .. })) => bad_request(e.to_string(), None),
        Ok(Err(e @ StoreError::TimeLimit { .. })) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "error": format!(
                    "{e}: narrow the filter (an end-user, a session or a workflow) and try \
                     again; the limit is neatlogs serve --query-timeout"
                ),
                "error_type": "timeout",
            })),
        )
            .into_response(),
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

/// The 503 for a query that found every reader connection busy for `waited`.
fn busy(waited: Duration) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        Json(json!({
            "error": format!(
                "every reader connection stayed busy for {waited:?} (other queries are \
                 running): try again shortly"
            ),
            "error_type": "busy",
        })),
    )
        .into_response()
}

/// `GET /api`: the routes, for people poking at the collector with curl.
pub(crate) async fn index() -> String {
    format!(
        "neatlogs collector\n\
         GET  /                          the traces page\n\
         POST {:<27}OTLP traces (protobuf or JSON, gzip or zstd)\n\
         POST /v1/trace                  browser simple-trace JSON\n\
         GET  /api/traces?filter=&limit=&offset=&count=true\n\
         GET  /api/traces/{{trace_id}}\n\
         GET  /api/end-users?filter=&sort=\n\
         GET  /api/end-users/daily?filter=&top=&days=\n\
         GET  /api/sessions?filter=&limit=\n\
         GET  /api/filter?filter=        parse a filter into clauses\n\
         GET  /api/metadata-keys         end-user metadata keys seen\n",
        neatlogs::wire::otlp::TRACES_PATH
    )
}

/// `GET /api/traces`
pub(crate) async fn traces(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let filter = match parse_filter(params.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let limit = params.limit.unwrap_or(50).min(MAX_LIMIT);
    let offset = params.offset.unwrap_or(0);
    let count_limit = params
        .count
        .unwrap_or(false)
        .then(|| u64::from(offset).saturating_add(state.count_limit));
    read(state, move |store| {
        let traces = store.list_traces(&filter, limit, offset)?;
        let mut body = json!({
            "filter": filter.to_string(),
            "limit": limit,
            "offset": offset,
            "traces": traces,
        });
        if let Some(count_limit) = count_limit {
            let total = store.count_traces_up_to(&filter, count_limit)?;
            body["total"] = total.count.into();
            body["total_is_lower_bound"] = total.is_lower_bound.into();
        }
        Ok(Some(body))
    })
    .await
}

/// `GET /api/traces/{trace_id}`. Not under the query time limit: its cost
/// is the size of the one trace asked for, which no filter narrows.
pub(crate) async fn trace(State(state): State<AppState>, Path(trace_id): Path<String>) -> Response {
    read_within(state, None, move |store| store.trace(&trace_id)).await
}

/// `GET /api/end-users`
pub(crate) async fn end_users(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let filter = match parse_filter(params.filter.as_deref()) {
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
    let filter = match parse_filter(params.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let limit = params.limit.unwrap_or(100).min(MAX_LIMIT);
    read(state, move |store| {
        Ok(Some(json!({ "sessions": store.sessions(&filter, limit)? })))
    })
    .await
}

/// `GET /api/end-users/daily`: traces per day of the top end-users.
pub(crate) async fn end_users_daily(
    State(state): State<AppState>,
    Query(params): Query<DailyParams>,
) -> Response {
    let filter = match parse_filter(params.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let top = params.top.unwrap_or(5).clamp(1, 50);
    let days = params.days.unwrap_or(14).clamp(1, MAX_DAYS);
    read(state, move |store| {
        store.traces_per_day(&filter, top, days).map(Some)
    })
    .await
}

/// `GET /api/metadata-keys`: the end-user metadata keys seen, with their
/// common values.
pub(crate) async fn metadata_keys(
    State(state): State<AppState>,
    Query(params): Query<KeysParams>,
) -> Response {
    let limit = params.limit.unwrap_or(200).clamp(1, MAX_LIMIT);
    let values = params.values.unwrap_or(20).min(100);
    read(state, move |store| {
        Ok(Some(json!({ "keys": store.metadata_keys(limit, values)? })))
    })
    .await
}

/// `GET /api/filter`: the filter parsed into its clauses, each with its
/// canonical text, so the page shows a typed filter as chips without a
/// second parser. A filter that does not parse is a 400 naming the column.
pub(crate) async fn parse(Query(params): Query<ListParams>) -> Response {
    let filter = match parse_filter(params.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let clauses: Vec<_> = filter
        .clauses
        .iter()
        .map(|clause| {
            let key = match &clause.field {
                Field::Metadata(key) => Some(key.as_str()),
                _ => None,
            };
            json!({
                "text": clause.to_string(),
                "field": clause.field.keyword(),
                "key": key,
                "op": clause.op.keyword(),
                "values": clause.op.values(),
            })
        })
        .collect();
    Json(json!({ "filter": filter.to_string(), "clauses": clauses })).into_response()
}
