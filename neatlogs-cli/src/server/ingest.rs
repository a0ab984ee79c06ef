//! Ingest handlers: decode, convert and store in one transaction on a
//! blocking thread, then acknowledge.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;

use super::{lock, AppState};
use crate::ingest::{self as decode, Batch, Encoding, IngestError};

/// google.rpc.Status, the body OTLP/HTTP specifies for protobuf errors.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// gRPC code INVALID_ARGUMENT, carried in error bodies.
const INVALID_ARGUMENT: i32 = 3;

fn status_of(error: &IngestError) -> StatusCode {
    match error {
        IngestError::Malformed(_) => StatusCode::BAD_REQUEST,
        IngestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
    }
}

/// An OTLP error response in the request's encoding.
fn otlp_error(status: StatusCode, message: String, encoding: Option<Encoding>) -> Response {
    match encoding {
        Some(Encoding::Protobuf) => (
            status,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            RpcStatus {
                code: INVALID_ARGUMENT,
                message,
            }
            .encode_to_vec(),
        )
            .into_response(),
        _ => (
            status,
            axum::Json(serde_json::json!({ "code": INVALID_ARGUMENT, "message": message })),
        )
            .into_response(),
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why an ingest request failed: the status to answer and the reason.
type Failure = (StatusCode, String);

fn refused(error: IngestError) -> Failure {
    (status_of(&error), error.to_string())
}

/// Runs `work` (decode, convert, store) on a blocking thread.
async fn off_the_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("ingest task failed: {e}"),
        ))
    })
}

/// Writes a batch through the writer connection, in one transaction.
fn store(state: &AppState, batch: &Batch) -> Result<(), Failure> {
    lock(&state.writer)
        .write(batch)
        .map(drop)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// `POST /v1/traces`
pub(crate) async fn otlp(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let encoding = match Encoding::from_content_type(header_str(&headers, header::CONTENT_TYPE)) {
        Ok(e) => e,
        Err(e) => return otlp_error(status_of(&e), e.to_string(), None),
    };
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let result = off_the_async_threads(move || {
        let request =
            decode::decode_otlp(&body, encoding, content_encoding.as_deref()).map_err(refused)?;
        store(&state, &decode::batch_from_otlp(&request).map_err(refused)?)
    })
    .await;
    match result {
        Ok(()) => match encoding {
            // An empty ExportTraceServiceResponse: full success.
            Encoding::Protobuf => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                Vec::<u8>::new(),
            )
                .into_response(),
            Encoding::Json => (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response(),
        },
        Err((status, message)) => otlp_error(status, message, Some(encoding)),
    }
}

/// CORS for the browser SDK, layered on `/v1/trace` only (every answer
/// there, the API key's 401 and the body limit's 413 included, so a page
/// on another origin can read why it was refused): the query API stays
/// unreadable to other origins.
pub(crate) async fn cors(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, x-api-key"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    response
}

/// `OPTIONS /v1/trace` (CORS preflight; never needs the key).
pub(crate) async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `POST /v1/trace`
pub(crate) async fn simple_trace(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Only JSON: a `text/plain` (or form) POST is a CORS "simple request"
    // that any web page could send here without a preflight.
    if Encoding::from_content_type(header_str(&headers, header::CONTENT_TYPE)).ok()
        != Some(Encoding::Json)
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            axum::Json(serde_json::json!({
                "error": "send the simple trace as `content-type: application/json`"
            })),
        )
            .into_response();
    }
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let result = off_the_async_threads(move || {
        let raw = decode::decompress(&body, content_encoding.as_deref()).map_err(refused)?;
        let (batch, trace_id) = decode::batch_from_simple_trace(&raw).map_err(refused)?;
        store(&state, &batch)?;
        Ok(trace_id)
    })
    .await;
    match result {
        Ok(trace_id) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "trace_id": trace_id })),
        )
            .into_response(),
        Err((status, message)) => {
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
        }
    }
}
