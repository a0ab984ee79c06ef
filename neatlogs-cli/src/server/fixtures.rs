//! `--dev-fixtures DIR`: serves the files under DIR at `/__test/`, so a
//! browser test can load a fixture page and the built browser SDK from the
//! collector's own origin. Off unless the flag is given, loopback only, and
//! never a way out of DIR.

use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The routes under `/__test/`, serving `dir`.
pub(crate) fn router<S>(dir: PathBuf) -> Router<S> {
    Router::new()
        .route("/__test/{*path}", get(file))
        .with_state(Arc::new(dir))
}

fn content_type(path: &FsPath) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}

/// The file under `dir` that `relative` names, if it names one without
/// leaving `dir` (no `..`, no absolute paths, no symlinks pointing out).
fn resolve(dir: &FsPath, relative: &str) -> Option<PathBuf> {
    let relative = FsPath::new(relative);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let root = dir.canonicalize().ok()?;
    let path = root.join(relative).canonicalize().ok()?;
    (path.starts_with(&root) && path.is_file()).then_some(path)
}

async fn file(State(dir): State<Arc<PathBuf>>, Path(relative): Path<String>) -> Response {
    let Some(path) = resolve(&dir, &relative) else {
        return (StatusCode::NOT_FOUND, "no such fixture\n").into_response();
    };
    let read = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || std::fs::read(path)).await
    };
    match read.unwrap_or_else(|e| Err(std::io::Error::other(e))) {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&path)),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read fixture: {e}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dir.path().join("dist/sdk.js"), "export {}").unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();

        assert!(resolve(dir.path(), "dist/sdk.js").is_some());
        assert!(
            resolve(dir.path(), "dist").is_none(),
            "folders are not files"
        );
        assert!(resolve(dir.path(), "dist/../dist/sdk.js").is_none());
        assert!(resolve(dir.path(), "../etc/passwd").is_none());
        let absolute = outside.path().to_str().unwrap();
        assert!(resolve(dir.path(), absolute).is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
            assert!(resolve(dir.path(), "link").is_none(), "symlink out of DIR");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(
            content_type(FsPath::new("a/b.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(FsPath::new("page.html")),
            "text/html; charset=utf-8"
        );
    }
}
