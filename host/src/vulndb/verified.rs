//! Remembers that the live database passed SQLite's full structural check
//! (`PRAGMA quick_check`), so that a scan of the same, unchanged file can skip it.
//!
//! Why: the check reads every page. On a database holding Debian's and Alpine's full
//! exports it costs ~190 ms, about half of a warm vulnerability scan, and it finds the
//! same answer every time until the file changes.
//!
//! What "unchanged" means here: the same device, inode, size, modification time and
//! status-change time (nanoseconds) as when the check passed. Any write through the
//! kernel moves the modification and change times; no user program can set the change
//! time back (`touch -d` moves it forward); an update replaces the file by rename, which
//! gives it another inode. File systems with whole-second timestamps could hide a
//! rewrite within the same second, so where both times have no sub-second part the
//! memo is never trusted.
//!
//! What the memo does not cover: bits that rot on the medium under an unchanged inode.
//! Those still fail loudly: record blobs carry a zstd checksum verified on every read,
//! and SQLite reports a malformed page it walks into. `customs db status` always runs
//! the full check.
//!
//! The memo is `<db>.verified`, one line, replaced atomically. A memo that is missing,
//! unreadable or of another format means "not verified"; failing to write one (a
//! read-only cache, say) only costs the next scan the check again.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// First word of the memo; a later format gets another one.
const FORMAT: &str = "customs-db-verified-v1";

/// The file facts the memo pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

/// `<db>.verified`.
pub(crate) fn memo_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".verified");
    db.with_file_name(name)
}

#[cfg(unix)]
fn identity(db: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(db).ok()?;
    if !m.is_file() || (m.mtime_nsec() == 0 && m.ctime_nsec() == 0) {
        return None;
    }
    let ns = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
    Some(Identity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime_ns: ns(m.mtime(), m.mtime_nsec()),
        ctime_ns: ns(m.ctime(), m.ctime_nsec()),
    })
}

/// Without inode and change time there is nothing trustworthy to pin: always check.
#[cfg(not(unix))]
fn identity(_db: &Path) -> Option<Identity> {
    None
}

fn render(id: &Identity) -> String {
    format!(
        "{FORMAT} {} {} {} {} {}\n",
        id.dev, id.ino, id.size, id.mtime_ns, id.ctime_ns
    )
}

fn parse(text: &str) -> Option<Identity> {
    let mut words = text.split_ascii_whitespace();
    if words.next()? != FORMAT {
        return None;
    }
    let id = Identity {
        dev: words.next()?.parse().ok()?,
        ino: words.next()?.parse().ok()?,
        size: words.next()?.parse().ok()?,
        mtime_ns: words.next()?.parse().ok()?,
        ctime_ns: words.next()?.parse().ok()?,
    };
    words.next().is_none().then_some(id)
}

/// Whether `db` is, as far as the file system can tell, the very file that last passed
/// the full check.
pub(crate) fn is_remembered(db: &Path) -> bool {
    let Some(now) = identity(db) else {
        return false;
    };
    // A memo is a few dozen bytes; refuse to read anything large in its place.
    let Ok(meta) = fs::metadata(memo_path(db)) else {
        return false;
    };
    if !meta.is_file() || meta.len() > 512 {
        return false;
    }
    fs::read_to_string(memo_path(db))
        .ok()
        .and_then(|t| parse(&t))
        .is_some_and(|then| then == now)
}

/// Records that `db`, as it is now, passed the full check. Best effort: see the module
/// documentation.
pub(crate) fn remember(db: &Path) {
    let Some(id) = identity(db) else {
        return;
    };
    let memo = memo_path(db);
    let Some(dir) = memo.parent() else {
        return;
    };
    let written = tempfile::Builder::new()
        // The update's prefix: a scan killed mid-write leaves a file the next update sweeps.
        .prefix(".osv.db.tmp-verified-")
        .tempfile_in(dir)
        .and_then(|mut tmp| {
            tmp.write_all(render(&id).as_bytes())?;
            tmp.persist(&memo).map_err(|e| e.error)?;
            Ok(())
        });
    if let Err(e) = written {
        tracing::debug!("not remembering the check of {}: {e}", db.display());
    }
}

/// Forgets any memo of `db` (after it was found damaged).
pub(crate) fn forget(db: &Path) {
    let _ = fs::remove_file(memo_path(db));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_round_trips_and_rejects_other_shapes() {
        let id = Identity {
            dev: 2049,
            ino: 77,
            size: 4096,
            mtime_ns: 1_700_000_000_123_456_789,
            ctime_ns: 1_700_000_000_223_456_789,
        };
        assert_eq!(parse(&render(&id)), Some(id));
        assert_eq!(parse(""), None);
        assert_eq!(parse("customs-db-verified-v0 1 2 3 4 5"), None);
        assert_eq!(parse("customs-db-verified-v1 1 2 3 4"), None);
        assert_eq!(parse("customs-db-verified-v1 1 2 3 4 5 6"), None);
        assert_eq!(parse("customs-db-verified-v1 1 2 x 4 5"), None);
    }

    #[test]
    fn memo_sits_beside_the_database() {
        assert_eq!(
            memo_path(Path::new("/c/vulndb/osv.db")),
            PathBuf::from("/c/vulndb/osv.db.verified")
        );
    }
}
