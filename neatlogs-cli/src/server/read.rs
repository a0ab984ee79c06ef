//! The read path: a pool of reader connections, one per running query.
//! SQLite in WAL mode lets them read side by side and beside the writer, so
//! a slow query holds one connection, not every read: a cheap
//! `/api/traces` still gets one of the others. Each query runs under the
//! time limit of [`Store::with_time_limit`], and waits no longer than that
//! for a free connection.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::time::Duration;

use deadpool::unmanaged::{Object, Pool};

use crate::store::{Store, StoreError};

/// Reader connections to one store, handed out one per query. Clones share
/// the same connections.
#[derive(Clone, Debug)]
pub struct Readers {
    pool: Pool<Store>,
}

/// One reader connection, returned to its [`Readers`] when dropped.
#[derive(Debug)]
pub struct Reader {
    store: Object<Store>,
}

impl Readers {
    /// `n` reader connections (at least one) to the store at `db`.
    pub fn open(db: &Path, n: usize) -> Result<Readers, StoreError> {
        let stores = (0..n.max(1))
            .map(|_| Store::open(db))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Readers::from_stores(stores))
    }

    /// Readers over connections already open to one store. An empty list
    /// makes a pool whose every query waits and then reports it busy.
    pub fn from_stores(stores: Vec<Store>) -> Readers {
        Readers {
            pool: Pool::from(stores),
        }
    }

    /// A free connection, waiting up to `wait` for one; `None` when every
    /// connection stayed busy that long.
    pub async fn get(&self, wait: Duration) -> Option<Reader> {
        match tokio::time::timeout(wait, self.pool.get()).await {
            Ok(Ok(store)) => Some(Reader { store }),
            // The pool is never closed; a closed one has nothing to give.
            Ok(Err(_)) | Err(_) => None,
        }
    }

    /// How many connections are free right now.
    pub fn available(&self) -> usize {
        self.pool.status().available
    }
}

impl Deref for Reader {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_reader_leaves_the_others_free_and_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let readers = Readers::open(&dir.path().join("db"), 2).unwrap();
        assert_eq!(readers.available(), 2);
        let held = readers.get(Duration::from_secs(5)).await.unwrap();
        assert_eq!(readers.available(), 1);
        let other = readers.get(Duration::ZERO).await;
        assert!(other.is_some(), "the second connection is free");
        assert!(
            readers.get(Duration::ZERO).await.is_none(),
            "both are held: none left"
        );
        drop(other);
        drop(held);
        assert_eq!(readers.available(), 2);
    }
}
