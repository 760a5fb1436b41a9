//! A minimal, read-only reader of the SQLite 3 file format, enough to read rpm's
//! `Packages` table (`hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL`).
//!
//! The core cannot link the SQLite C library (it is compiled to wasm and forbids
//! unsafe code), and it needs very little of it: the 100-byte file header (page
//! size, reserved bytes, database size, text encoding), the schema table on page 1
//! to find the `Packages` table's root page, a walk of a table b-tree (interior pages
//! `0x05`, leaf pages `0x0d`), varints, the record format and overflow page chains.
//!
//! rpm ≥ 4.16 opens the database in WAL mode, so the newest committed transactions
//! may only exist in `rpmdb.sqlite-wal`. [`package_blobs`] applies the WAL the way
//! SQLite does on open: frames are valid while their salts match the WAL header and
//! their cumulative checksums verify; of the valid frames, those up to the last commit
//! frame are used, the latest frame of each page wins, and the commit frame gives the
//! database size. A WAL with a bad header is ignored, as SQLite ignores it.
//!
//! Hostile input: page numbers are checked against the database size, b-tree descents
//! are limited in depth and never revisit a page, overflow chains must not loop and
//! must end exactly where the payload does, and payload sizes are checked against the
//! input size before anything is allocated.
use std::collections::{BTreeMap, BTreeSet};

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const FILE_HEADER_SIZE: usize = 100;
const WAL_HEADER_SIZE: usize = 32;
const WAL_FRAME_HEADER_SIZE: usize = 24;
const WAL_VERSION: u32 = 3_007_000;
/// SQLite's own b-trees never get deeper than about 20 levels; anything deeper is a
/// crafted cycle or corruption.
const MAX_DEPTH: usize = 40;
const INTERIOR_TABLE: u8 = 0x05;
const LEAF_TABLE: u8 = 0x0d;

fn be16(buf: &[u8], off: usize) -> Option<u16> {
    let b: [u8; 2] = buf.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

fn be32(buf: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = buf.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Decodes the page-size field (`1` means 65536) and checks it is a legal size.
fn page_size_of(raw: u32) -> Option<usize> {
    let ps = if raw == 1 { 65536 } else { raw as usize };
    ((512..=65536).contains(&ps) && ps.is_power_of_two()).then_some(ps)
}

/// Reads an SQLite varint at `off`: returns the value and the number of bytes used.
fn varint(buf: &[u8], off: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let b = *buf.get(off + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(b), 9));
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The pages of the database: the main file overlaid with committed WAL frames.
struct Pager<'a> {
    main: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: u32,
    wal: BTreeMap<u32, &'a [u8]>,
    /// Upper bound of any payload: everything the reader was given.
    input_len: usize,
}

impl<'a> Pager<'a> {
    fn page(&self, no: u32) -> Result<&'a [u8], String> {
        if no == 0 || no > self.pages {
            return Err(format!(
                "page {no} is outside the database's {} pages",
                self.pages
            ));
        }
        if let Some(p) = self.wal.get(&no) {
            return Ok(p);
        }
        let start = (no as usize - 1) * self.page_size;
        let main: &'a [u8] = self.main;
        main.get(start..start + self.page_size)
            .ok_or_else(|| format!("page {no} is missing: the file is truncated"))
    }
}

/// Committed WAL content: page size, latest committed frame of each page, and the
/// database size in pages after the last commit.
struct Wal<'a> {
    page_size: usize,
    frames: BTreeMap<u32, &'a [u8]>,
    pages: u32,
}

fn wal_checksum(big_endian: bool, data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    let rd = |c: &[u8]| {
        let b = [c[0], c[1], c[2], c[3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for c in data.chunks_exact(8) {
        s0 = s0.wrapping_add(rd(&c[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(rd(&c[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// Reads the committed frames of a WAL file. `None` when SQLite would ignore the WAL
/// (empty, bad magic, version or header checksum) or when nothing is committed.
fn read_wal(wal: &[u8]) -> Option<Wal<'_>> {
    let magic = be32(wal, 0)?;
    let big_endian = match magic {
        0x377f_0682 => false,
        0x377f_0683 => true,
        _ => return None,
    };
    if be32(wal, 4)? != WAL_VERSION {
        return None;
    }
    let page_size = page_size_of(be32(wal, 8)?)?;
    let (salt1, salt2) = (be32(wal, 16)?, be32(wal, 20)?);
    let mut sum = wal_checksum(big_endian, wal.get(..24)?, (0, 0));
    if sum != (be32(wal, 24)?, be32(wal, 28)?) {
        return None;
    }
    let mut committed = BTreeMap::new();
    let mut pending: Vec<(u32, &[u8])> = Vec::new();
    let mut pages = 0;
    let frame_size = WAL_FRAME_HEADER_SIZE + page_size;
    let mut at = WAL_HEADER_SIZE;
    while let Some(frame) = wal.get(at..at + frame_size) {
        at += frame_size;
        let (no, commit) = (be32(frame, 0)?, be32(frame, 4)?);
        if no == 0 || (be32(frame, 8)?, be32(frame, 12)?) != (salt1, salt2) {
            break;
        }
        sum = wal_checksum(big_endian, &frame[..8], sum);
        sum = wal_checksum(big_endian, &frame[WAL_FRAME_HEADER_SIZE..], sum);
        if sum != (be32(frame, 16)?, be32(frame, 20)?) {
            break;
        }
        pending.push((no, &frame[WAL_FRAME_HEADER_SIZE..]));
        if commit != 0 {
            committed.extend(pending.drain(..));
            pages = commit;
        }
    }
    (pages != 0).then_some(Wal {
        page_size,
        frames: committed,
        pages,
    })
}

fn open<'a>(main: &'a [u8], wal: Option<&'a [u8]>) -> Result<Pager<'a>, String> {
    let wal = wal.and_then(read_wal);
    let input_len = main.len() + wal.as_ref().map_or(0, |w| w.frames.len() * w.page_size);
    let (page_size, mut pages) = if main.is_empty() {
        // A database whose every page still lives in the WAL.
        let w = wal.as_ref().ok_or("empty database file")?;
        (w.page_size, w.pages)
    } else {
        if main.len() < FILE_HEADER_SIZE || &main[..16] != MAGIC {
            return Err("not an SQLite 3 database (bad header)".into());
        }
        let raw = u32::from(be16(main, 16).unwrap_or(0));
        let ps = page_size_of(raw).ok_or_else(|| format!("invalid page size {raw}"))?;
        // The in-header size is valid only when the change counter matches the
        // "version valid for" number; otherwise SQLite uses the file size.
        let in_header = be32(main, 28).unwrap_or(0);
        let valid = in_header != 0 && be32(main, 24) == be32(main, 92);
        let by_len = u32::try_from(main.len() / ps).unwrap_or(u32::MAX);
        (ps, if valid { in_header } else { by_len })
    };
    let mut frames = BTreeMap::new();
    if let Some(w) = wal {
        if w.page_size != page_size {
            return Err(format!(
                "WAL page size {} differs from the database page size {page_size}",
                w.page_size
            ));
        }
        pages = w.pages;
        frames = w.frames;
    }
    let mut pager = Pager {
        main,
        page_size,
        usable: page_size,
        pages,
        wal: frames,
        input_len,
    };
    // Page 1 (possibly from the WAL) holds the authoritative header fields.
    let p1 = pager.page(1)?;
    if &p1[..16] != MAGIC {
        return Err("page 1 does not start with the SQLite header".into());
    }
    let reserved = usize::from(p1[20]);
    pager.usable = page_size - reserved;
    if pager.usable < 480 {
        return Err(format!(
            "{reserved} reserved bytes leave too little of a {page_size}-byte page"
        ));
    }
    Ok(pager)
}

/// One column value of a record, borrowing the payload.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Null,
    Int(i64),
    Float,
    Blob(&'a [u8]),
    Text(&'a [u8]),
}

/// Splits a record (header of serial types, then bodies) into its columns.
fn record(payload: &[u8]) -> Result<Vec<Value<'_>>, String> {
    let (hsize, mut at) = varint(payload, 0).ok_or("record header truncated")?;
    let hsize = usize::try_from(hsize)
        .ok()
        .filter(|&h| h <= payload.len() && h >= at)
        .ok_or_else(|| {
            format!(
                "record header size {hsize} exceeds the {}-byte payload",
                payload.len()
            )
        })?;
    let mut body = hsize;
    let mut out = Vec::new();
    while at < hsize {
        let (ty, n) = varint(payload, at).ok_or("record header truncated")?;
        at += n;
        let len = match ty {
            0 | 8 | 9 => 0,
            1..=4 => ty as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("record uses reserved serial type {ty}")),
            _ => usize::try_from((ty - 12) / 2).unwrap_or(usize::MAX),
        };
        let bytes = body
            .checked_add(len)
            .and_then(|end| payload.get(body..end))
            .ok_or_else(|| format!("record column of {len} bytes runs past the payload"))?;
        body += len;
        out.push(match ty {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => {
                // Big-endian two's complement of 1–8 bytes, sign-extended.
                let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                Value::Int(v)
            }
            7 => Value::Float,
            t if t % 2 == 0 => Value::Blob(bytes),
            _ => Value::Text(bytes),
        });
    }
    Ok(out)
}

/// Decodes a TEXT value in the database's text encoding (header offset 56).
fn text(encoding: u32, bytes: &[u8]) -> String {
    match encoding {
        2 | 3 => {
            let units = bytes.chunks_exact(2).map(|c| {
                if encoding == 2 {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{fffd}'))
                .collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Walks the table b-tree rooted at `root` in rowid order, calling `row` with each
/// row's rowid and complete payload.
///
/// In a real database every byte of every page belongs to at most one cell, so the
/// payloads of a table add up to less than the input. Cells of a crafted file can
/// share one overflow chain (each chain is loop-checked only on its own), and would
/// then make a small file yield the same huge payload thousands of times over.
fn walk_table(
    pager: &Pager<'_>,
    root: u32,
    row: &mut dyn FnMut(i64, Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    let mut visited = BTreeSet::new();
    let mut total: usize = 0;
    let mut counted = |rowid: i64, payload: Vec<u8>| {
        total = total.saturating_add(payload.len());
        if total > pager.input_len {
            return Err(format!(
                "row {rowid}: payloads add up to more than the {}-byte input (shared overflow pages)",
                pager.input_len
            ));
        }
        row(rowid, payload)
    };
    walk(pager, root, 0, &mut visited, &mut counted)
}

fn walk(
    pager: &Pager<'_>,
    no: u32,
    depth: usize,
    visited: &mut BTreeSet<u32>,
    row: &mut dyn FnMut(i64, Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("page {no}: b-tree deeper than {MAX_DEPTH} levels"));
    }
    if !visited.insert(no) {
        return Err(format!("page {no}: b-tree refers to the page twice (loop)"));
    }
    let page = pager.page(no)?;
    let usable = &page[..pager.usable];
    let hdr = if no == 1 { FILE_HEADER_SIZE } else { 0 };
    let kind = usable[hdr];
    let header_len = match kind {
        INTERIOR_TABLE => 12,
        LEAF_TABLE => 8,
        other => {
            return Err(format!(
                "page {no}: type {other:#04x} is not a table b-tree page"
            ));
        }
    };
    let cells = usize::from(be16(usable, hdr + 3).unwrap_or(0));
    let ptrs = hdr + header_len;
    if ptrs + 2 * cells > usable.len() {
        return Err(format!(
            "page {no}: {cells} cell pointers do not fit in the page"
        ));
    }
    for i in 0..cells {
        let cell = usize::from(be16(usable, ptrs + 2 * i).unwrap_or(0));
        if cell < ptrs + 2 * cells || cell >= usable.len() {
            return Err(format!(
                "page {no}: cell {i} offset {cell} is outside the cell area"
            ));
        }
        if kind == INTERIOR_TABLE {
            let child =
                be32(usable, cell).ok_or_else(|| format!("page {no}: cell {i} truncated"))?;
            walk(pager, child, depth + 1, visited, row)?;
        } else {
            let (rowid, payload) = leaf_cell(pager, no, usable, cell)?;
            row(rowid, payload)?;
        }
    }
    if kind == INTERIOR_TABLE {
        let right = be32(usable, hdr + 8).unwrap_or(0);
        walk(pager, right, depth + 1, visited, row)?;
    }
    Ok(())
}

/// Reads a table leaf cell: rowid and the whole payload, following overflow pages.
fn leaf_cell(
    pager: &Pager<'_>,
    no: u32,
    page: &[u8],
    cell: usize,
) -> Result<(i64, Vec<u8>), String> {
    let truncated = || format!("page {no}: cell at {cell} is truncated");
    let (size, n1) = varint(page, cell).ok_or_else(truncated)?;
    let (rowid, n2) = varint(page, cell + n1).ok_or_else(truncated)?;
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= pager.input_len)
        .ok_or_else(|| format!("page {no}: payload of {size} bytes is larger than the database"))?;
    let start = cell + n1 + n2;
    // Local payload size, as defined by the file format for table leaf cells.
    let u = pager.usable;
    let max_local = u - 35;
    let local = if size <= max_local {
        size
    } else {
        let min_local = (u - 12) * 32 / 255 - 23;
        let k = min_local + (size - min_local) % (u - 4);
        if k <= max_local { k } else { min_local }
    };
    let local_bytes = page.get(start..start + local).ok_or_else(truncated)?;
    let mut payload = Vec::with_capacity(size);
    payload.extend_from_slice(local_bytes);
    if local < size {
        let mut next = be32(page, start + local).ok_or_else(truncated)?;
        let mut seen = BTreeSet::new();
        while payload.len() < size {
            if next == 0 {
                return Err(format!(
                    "page {no}: overflow chain ends before the {size}-byte payload"
                ));
            }
            if !seen.insert(next) {
                return Err(format!("page {next}: overflow chain loops"));
            }
            let ov = pager.page(next)?;
            let take = (size - payload.len()).min(u - 4);
            payload.extend_from_slice(&ov[4..4 + take]);
            next = be32(ov, 0).unwrap_or(0);
        }
    }
    Ok((rowid as i64, payload))
}

/// `(rowid, header blob)` of every row of rpm's `Packages` table, in rowid order.
pub fn package_blobs(main: &[u8], wal: Option<&[u8]>) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let pager = open(main, wal)?;
    let encoding = be32(pager.page(1)?, 56).unwrap_or(1);
    let mut root = None;
    walk_table(&pager, 1, &mut |_, payload| {
        let cols = record(&payload).map_err(|e| format!("schema: {e}"))?;
        let is = |i: usize, want: &str| matches!(cols.get(i), Some(Value::Text(t)) if text(encoding, t).eq_ignore_ascii_case(want));
        if root.is_none() && is(0, "table") && is(1, "Packages") {
            match cols.get(3) {
                Some(&Value::Int(r)) if r > 0 && r <= i64::from(u32::MAX) => root = Some(r as u32),
                other => return Err(format!("schema: Packages table has root page {other:?}")),
            }
        }
        Ok(())
    })?;
    let root = root.ok_or("no Packages table in the schema")?;
    let mut out = Vec::new();
    walk_table(&pager, root, &mut |rowid, payload| {
        let cols = record(&payload).map_err(|e| format!("Packages row {rowid}: {e}"))?;
        match cols.get(1) {
            Some(Value::Blob(b)) => {
                out.push((rowid, b.to_vec()));
                Ok(())
            }
            other => Err(format!("Packages row {rowid}: blob column holds {other:?}")),
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_varint(out: &mut Vec<u8>, v: u64) {
        assert!(v < 1 << 56);
        let mut groups = Vec::new();
        let mut v = v;
        loop {
            groups.push((v & 0x7f) as u8);
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            out.push(if i + 1 < groups.len() { g | 0x80 } else { *g });
        }
    }

    fn rec(cols: &[(u64, &[u8])]) -> Vec<u8> {
        let mut hdr = Vec::new();
        for (ty, _) in cols {
            put_varint(&mut hdr, *ty);
        }
        let mut out = vec![(hdr.len() + 1) as u8];
        out.extend(hdr);
        for (_, b) in cols {
            out.extend_from_slice(b);
        }
        out
    }

    const PS: usize = 512;

    /// Writes a leaf table page with the given `(rowid, payload)` cells (all local).
    fn leaf(page: &mut [u8], hdr: usize, cells: &[(u64, Vec<u8>)]) {
        page[hdr] = LEAF_TABLE;
        page[hdr + 3..hdr + 5].copy_from_slice(&(cells.len() as u16).to_be_bytes());
        let mut end = page.len();
        for (i, (rowid, payload)) in cells.iter().enumerate() {
            let mut c = Vec::new();
            put_varint(&mut c, payload.len() as u64);
            put_varint(&mut c, *rowid);
            c.extend_from_slice(payload);
            end -= c.len();
            page[end..end + c.len()].copy_from_slice(&c);
            let p = hdr + 8 + 2 * i;
            page[p..p + 2].copy_from_slice(&(end as u16).to_be_bytes());
        }
    }

    /// A 2-page database: schema on page 1, a Packages leaf on page 2.
    fn db(rows: &[(u64, &[u8])]) -> Vec<u8> {
        let mut f = vec![0u8; 2 * PS];
        f[..16].copy_from_slice(MAGIC);
        f[16..18].copy_from_slice(&(PS as u16).to_be_bytes());
        f[28..32].copy_from_slice(&2u32.to_be_bytes());
        f[56..60].copy_from_slice(&1u32.to_be_bytes());
        let schema = rec(&[
            (23, b"table"),
            (29, b"Packages"),
            (29, b"Packages"),
            (1, &[2]),
            (13, b""),
        ]);
        leaf(&mut f[..PS], 100, &[(1, schema)]);
        let cells: Vec<(u64, Vec<u8>)> = rows
            .iter()
            .map(|(id, b)| (*id, rec(&[(0, b""), (12 + 2 * b.len() as u64, b)])))
            .collect();
        leaf(&mut f[PS..], 0, &cells);
        f
    }

    #[test]
    fn varints_and_records() {
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x80], 0), None);
        let r = rec(&[(0, b""), (1, &[0xfe]), (16, b"ab"), (15, b"x"), (9, b"")]);
        assert_eq!(
            record(&r).unwrap(),
            vec![
                Value::Null,
                Value::Int(-2),
                Value::Blob(b"ab"),
                Value::Text(b"x"),
                Value::Int(1)
            ]
        );
        assert!(record(&[5, 30]).is_err());
        assert!(record(&[2, 10]).unwrap_err().contains("reserved"));
    }

    #[test]
    fn reads_rows() {
        let f = db(&[(1, b"one"), (5, b"five")]);
        let rows = package_blobs(&f, None).unwrap();
        assert_eq!(rows, vec![(1, b"one".to_vec()), (5, b"five".to_vec())]);
    }

    #[test]
    fn rejects_corruption() {
        let f = db(&[(1, b"one")]);
        assert!(
            package_blobs(&f[..PS], None)
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            package_blobs(&f[..50], None)
                .unwrap_err()
                .contains("header")
        );
        // Root page pointing to itself through an interior page: a loop.
        let mut g = f.clone();
        g[PS] = INTERIOR_TABLE;
        g[PS + 3..PS + 5].copy_from_slice(&0u16.to_be_bytes());
        g[PS + 8..PS + 12].copy_from_slice(&2u32.to_be_bytes());
        assert!(package_blobs(&g, None).unwrap_err().contains("loop"));
        // Absurd cell count.
        let mut g = f.clone();
        g[PS + 3..PS + 5].copy_from_slice(&u16::MAX.to_be_bytes());
        assert!(
            package_blobs(&g, None)
                .unwrap_err()
                .contains("cell pointers")
        );
        // Root page beyond the database.
        let mut g = f.clone();
        g[28..32].copy_from_slice(&1u32.to_be_bytes());
        assert!(package_blobs(&g, None).unwrap_err().contains("outside"));
    }

    #[test]
    fn overflow_chain_loop_is_detected() {
        // One row with a payload bigger than a page: local part + overflow on page 3
        // whose "next" pointer is itself.
        let mut f = db(&[]);
        f.resize(3 * PS, 0);
        f[28..32].copy_from_slice(&3u32.to_be_bytes());
        let big = vec![7u8; 1200];
        let payload = rec(&[(0, b""), (12 + 2 * big.len() as u64, &big)]);
        let u = PS;
        let min_local = (u - 12) * 32 / 255 - 23;
        let k = min_local + (payload.len() - min_local) % (u - 4);
        let local = if k <= u - 35 { k } else { min_local };
        let mut cell = Vec::new();
        put_varint(&mut cell, payload.len() as u64);
        put_varint(&mut cell, 1);
        cell.extend_from_slice(&payload[..local]);
        cell.extend_from_slice(&3u32.to_be_bytes());
        let at = PS - cell.len();
        let page = &mut f[PS..2 * PS];
        page[3..5].copy_from_slice(&1u16.to_be_bytes());
        page[8..10].copy_from_slice(&(at as u16).to_be_bytes());
        page[at..].copy_from_slice(&cell);
        f[2 * PS..2 * PS + 4].copy_from_slice(&3u32.to_be_bytes());
        assert!(package_blobs(&f, None).unwrap_err().contains("loops"));
        // Ending the chain early is an error too.
        f[2 * PS..2 * PS + 4].copy_from_slice(&0u32.to_be_bytes());
        assert!(package_blobs(&f, None).unwrap_err().contains("ends before"));
    }

    #[test]
    fn cells_sharing_an_overflow_chain_are_rejected() {
        // Three rows whose payloads all continue on overflow pages 3..=4: the chain is
        // fine for one row, together they claim more bytes than the file holds. (Repeated
        // over thousands of cells, a few-megabyte file would expand to gigabytes.)
        let mut f = db(&[]);
        f.resize(4 * PS, 0);
        f[28..32].copy_from_slice(&4u32.to_be_bytes());
        let big = vec![7u8; 1000];
        let payload = rec(&[(0, b""), (12 + 2 * big.len() as u64, &big)]);
        let u = PS;
        let min_local = (u - 12) * 32 / 255 - 23;
        let k = min_local + (payload.len() - min_local) % (u - 4);
        let local = if k <= u - 35 { k } else { min_local };
        let page = &mut f[PS..2 * PS];
        let mut at = PS;
        for (i, rowid) in [1u64, 2, 3].into_iter().enumerate() {
            let mut cell = Vec::new();
            put_varint(&mut cell, payload.len() as u64);
            put_varint(&mut cell, rowid);
            cell.extend_from_slice(&payload[..local]);
            cell.extend_from_slice(&3u32.to_be_bytes());
            at -= cell.len();
            page[8 + 2 * i..10 + 2 * i].copy_from_slice(&(at as u16).to_be_bytes());
            page[at..at + cell.len()].copy_from_slice(&cell);
        }
        page[3..5].copy_from_slice(&3u16.to_be_bytes());
        // The chain: page 3 -> page 4 -> end, holding the rest of the payload.
        let rest = &payload[local..];
        let first = (u - 4).min(rest.len());
        f[2 * PS..2 * PS + 4].copy_from_slice(&4u32.to_be_bytes());
        f[2 * PS + 4..2 * PS + 4 + first].copy_from_slice(&rest[..first]);
        f[3 * PS + 4..3 * PS + 4 + rest.len() - first].copy_from_slice(&rest[first..]);
        // One row alone reads fine: the chain itself is valid.
        let mut one = f.clone();
        one[PS + 3..PS + 5].copy_from_slice(&1u16.to_be_bytes());
        assert_eq!(package_blobs(&one, None).unwrap(), vec![(1, big.clone())]);
        let err = package_blobs(&f, None).unwrap_err();
        assert!(err.contains("payloads add up"), "{err}");
    }

    /// Builds a WAL holding frames `(page number, commit size, page)`.
    fn wal(frames: &[(u32, u32, &[u8])], corrupt_last: bool) -> Vec<u8> {
        let mut w = Vec::new();
        for v in [0x377f_0682u32, WAL_VERSION, PS as u32, 0, 11, 22] {
            w.extend_from_slice(&v.to_be_bytes());
        }
        let mut sum = wal_checksum(false, &w, (0, 0));
        w.extend_from_slice(&sum.0.to_be_bytes());
        w.extend_from_slice(&sum.1.to_be_bytes());
        for (i, (no, commit, page)) in frames.iter().enumerate() {
            let mut h = Vec::new();
            for v in [*no, *commit, 11, 22] {
                h.extend_from_slice(&v.to_be_bytes());
            }
            sum = wal_checksum(false, &h[..8], sum);
            sum = wal_checksum(false, page, sum);
            let bad = corrupt_last && i + 1 == frames.len();
            h.extend_from_slice(&(sum.0 ^ u32::from(bad)).to_be_bytes());
            h.extend_from_slice(&sum.1.to_be_bytes());
            w.extend_from_slice(&h);
            w.extend_from_slice(page);
        }
        w
    }

    #[test]
    fn applies_committed_wal_frames_only() {
        let old = db(&[(1, b"one")]);
        let new = db(&[(1, b"one"), (2, b"two")]);
        let newer = db(&[(3, b"three")]);
        let w = wal(&[(2, 2, &new[PS..])], false);
        let rows = package_blobs(&old, Some(&w)).unwrap();
        assert_eq!(rows.len(), 2);
        // An uncommitted trailing frame is ignored.
        let w = wal(&[(2, 2, &new[PS..]), (2, 0, &newer[PS..])], false);
        assert_eq!(package_blobs(&old, Some(&w)).unwrap().len(), 2);
        // A frame with a bad checksum ends the valid log.
        let w = wal(&[(2, 2, &new[PS..]), (2, 2, &newer[PS..])], true);
        assert_eq!(package_blobs(&old, Some(&w)).unwrap().len(), 2);
        let w = wal(&[(2, 2, &new[PS..]), (2, 2, &newer[PS..])], false);
        assert_eq!(
            package_blobs(&old, Some(&w)).unwrap(),
            vec![(3, b"three".to_vec())]
        );
        // A WAL with a broken header is ignored, as SQLite ignores it.
        let mut w = wal(&[(2, 2, &new[PS..])], false);
        w[24] ^= 1;
        assert_eq!(package_blobs(&old, Some(&w)).unwrap().len(), 1);
        assert_eq!(package_blobs(&old, Some(b"")).unwrap().len(), 1);
        // Everything in the WAL, empty main file.
        let w = wal(&[(1, 0, &new[..PS]), (2, 2, &new[PS..])], false);
        assert_eq!(package_blobs(b"", Some(&w)).unwrap().len(), 2);
    }
}
