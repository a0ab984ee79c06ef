//! Sessions: a chat's turns grouped under one id, one trace per turn.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A new process-wide session id: `session_{unix_seconds}_{8 lowercase hex}`.
///
/// This is what `Config::auto_session(true)` uses.
///
/// ```
/// let id = neatlogs::generate_session_id();
/// assert!(id.starts_with("session_"));
/// ```
pub fn generate_session_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("session_{secs}_{:08x}", crate::id::next_u64() as u32)
}

/// The session a trace belongs to.
pub(crate) type SessionId = Arc<str>;

#[cfg(test)]
mod tests {
    #[test]
    fn auto_session_format() {
        let id = super::generate_session_id();
        let rest = id.strip_prefix("session_").unwrap();
        let (secs, hex) = rest.split_once('_').unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_700_000_000);
        assert_eq!(hex.len(), 8);
        assert!(hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
