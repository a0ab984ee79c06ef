//! Ingest handlers: receive the body within the memory budget and the body
//! deadline, then decode, convert and store in one transaction on a
//! blocking thread, and acknowledge.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use prost::Message;

use super::budget::{Reservation, Shortfall, RETRY_AFTER_SECONDS};
use super::{lock, AppState};
use crate::ingest::{self as decode, Batch, Encoding, IngestError, MAX_BODY_BYTES};

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
        IngestError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A 503 (the budget is taken) tells the sender when to try again.
fn with_retry_after(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

/// An OTLP error response in the request's encoding.
fn otlp_error(status: StatusCode, message: String, encoding: Option<Encoding>) -> Response {
    with_retry_after(match encoding {
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
    })
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why an ingest request failed: the status to answer and the reason.
type Failure = (StatusCode, String);

fn refused(error: IngestError) -> Failure {
    (status_of(&error), error.to_string())
}

/// The answer to a reservation that could not grow: 503 while others hold
/// the budget, 413 for a request larger than all of it.
fn short(shortfall: Shortfall) -> Failure {
    const MIB: f64 = 1024.0 * 1024.0;
    refused(match shortfall {
        Shortfall::Busy => IngestError::Overloaded(
            "the collector is busy with other requests (its ingest memory budget is taken); \
             retry later"
                .to_owned(),
        ),
        Shortfall::Never { needed, budget } => IngestError::TooLarge(format!(
            "this request needs about {:.1} MiB to decode and store, more than the whole ingest \
             memory budget ({:.0} MiB, `neatlogs serve --ingest-memory`); send smaller batches",
            needed as f64 / MIB,
            budget as f64 / MIB
        )),
    })
}

fn too_large() -> Failure {
    refused(IngestError::TooLarge(format!(
        "body is over {} MiB",
        MAX_BODY_BYTES / (1024 * 1024)
    )))
}

/// Reads a request body within the body deadline, reserving its bytes (and,
/// for a body that is not compressed, `decode_cost` of it) from the memory
/// budget first. A body the budget cannot take now is answered 503, one
/// over the size limit 413; either is read and discarded first, up to the
/// size limit (unless the client waits for `100 Continue`), so that a
/// client still sending reads the answer rather than a reset connection.
async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    mut body: Body,
    decode_cost: impl Fn(usize) -> usize,
) -> Result<(Bytes, Reservation), Failure> {
    let declared =
        header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    let compressed = header_str(headers, header::CONTENT_ENCODING)
        .is_some_and(|e| !matches!(e.trim(), "" | "identity"));
    // A client waiting for `100 Continue` has sent no body yet.
    let expects_continue =
        header_str(headers, header::EXPECT).is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    // An uncompressed body's decoding cost is known up front; a compressed
    // one's once it is inflated.
    let upfront = |len: usize| {
        if compressed {
            len
        } else {
            len + decode_cost(len)
        }
    };
    let mut reservation = state.ingest.budget.reservation();
    let deadline = state.ingest.body_timeout;
    let read = async {
        let admitted = if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            Err(too_large())
        } else {
            reservation
                .grow_to(upfront(declared.unwrap_or(0)))
                .map_err(short)
        };
        if let Err(refusal) = admitted {
            if !expects_continue {
                discard(&mut body).await;
            }
            return Err(refusal);
        }
        let mut received = Vec::with_capacity(declared.unwrap_or(0));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("could not read the body: {e}"),
                )
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let len = received.len() + data.len();
            let admitted = if len > MAX_BODY_BYTES {
                Err(too_large())
            } else if len > received.capacity() {
                let capacity = len.max(received.capacity() * 2).min(MAX_BODY_BYTES);
                reservation
                    .grow_to(upfront(capacity))
                    .map(|()| received.reserve_exact(capacity - received.len()))
                    .map_err(short)
            } else {
                Ok(())
            };
            if let Err(refusal) = admitted {
                discard(&mut body).await;
                return Err(refusal);
            }
            received.extend_from_slice(&data);
        }
        Ok(Bytes::from(received))
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => Ok((bytes, reservation)),
        Ok(Err(failure)) => Err(failure),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {} s; send it faster or in smaller batches",
                deadline.as_secs_f64()
            ),
        )),
    }
}

/// Reads and drops the rest of a body, up to the size limit.
async fn discard(body: &mut Body) {
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        seen += frame.data_ref().map_or(0, |d| d.len());
        if seen > MAX_BODY_BYTES {
            break;
        }
    }
}

/// Inflates `body` if it is compressed and reserves the cost of decoding
/// it, before anything is decoded.
fn inflate_within<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    reservation: &mut Reservation,
    decode_cost: impl Fn(usize) -> usize,
) -> Result<std::borrow::Cow<'a, [u8]>, Failure> {
    let mut shortfall = None;
    let raw = decode::decompress_within(body, content_encoding, &mut |n| {
        reservation
            .grow_to(body.len() + n)
            .map_err(|s| shortfall = Some(s))
            .is_ok()
    });
    let raw = match (raw, shortfall) {
        (_, Some(s)) => return Err(short(s)),
        (raw, None) => raw.map_err(refused)?,
    };
    let inflated = match &raw {
        std::borrow::Cow::Owned(v) => v.capacity(),
        std::borrow::Cow::Borrowed(_) => 0,
    };
    reservation
        .grow_to(body.len() + inflated + decode_cost(raw.len()))
        .map_err(short)?;
    Ok(raw)
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
pub(crate) async fn otlp(state: State<AppState>, headers: HeaderMap, body: Body) -> Response {
    otlp_request(state, headers, body, |raw, encoding, state| {
        let request = decode::decode_otlp(raw, encoding, None).map_err(refused)?;
        store(state, &decode::batch_from_otlp(&request).map_err(refused)?)
    })
    .await
}

/// `POST /v1/metrics`: the usage totals per end-user (other metrics are
/// accepted and not stored).
pub(crate) async fn otlp_metrics(
    state: State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    otlp_request(state, headers, body, |raw, encoding, state| {
        let request = decode::metrics::decode_metrics(raw, encoding).map_err(refused)?;
        let rows = decode::metrics::usage_from_metrics(&request);
        lock(&state.writer)
            .write_usage(&rows)
            .map(drop)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    })
    .await
}

/// An OTLP/HTTP request: the body received within the budget and inflated,
/// `store` run on it off the async threads, and the OTLP answer in the
/// request's encoding (an empty export response: full success).
async fn otlp_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
    store: fn(&[u8], Encoding, &AppState) -> Result<(), Failure>,
) -> Response {
    let encoding = match Encoding::from_content_type(header_str(&headers, header::CONTENT_TYPE)) {
        Ok(e) => e,
        Err(e) => return otlp_error(status_of(&e), e.to_string(), None),
    };
    let cost = move |len| decode::decode_cost(len, encoding);
    let (body, mut reservation) = match receive(&state, &headers, body, cost).await {
        Ok(received) => received,
        Err((status, message)) => return otlp_error(status, message, Some(encoding)),
    };
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let result = off_the_async_threads(move || {
        let raw = inflate_within(&body, content_encoding.as_deref(), &mut reservation, cost)?;
        store(&raw, encoding, &state)
    })
    .await;
    match result {
        Ok(()) => match encoding {
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
    body: Body,
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
    let cost = |len| decode::decode_cost(len, Encoding::Json);
    let (body, mut reservation) = match receive(&state, &headers, body, cost).await {
        Ok(received) => received,
        Err((status, message)) => return simple_error(status, message),
    };
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let result = off_the_async_threads(move || {
        let raw = inflate_within(&body, content_encoding.as_deref(), &mut reservation, cost)?;
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
        Err((status, message)) => simple_error(status, message),
    }
}

fn simple_error(status: StatusCode, message: String) -> Response {
    with_retry_after((status, axum::Json(serde_json::json!({ "error": message }))).into_response())
}
