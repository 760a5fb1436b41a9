//! BerkeleyDB hash databases: the classic rpmdb `Packages` file.
//!
//! Only what rpm writes is read: a hash database whose values are header blobs.
//! Page 0 is the hash metadata page (magic `0x061561`, page size, last page number).
//! The data pages are scanned in file order, like go-rpmdb does, rather than
//! following the hash buckets: every hash page (`P_HASH` 13, `P_HASH_UNSORTED` 2)
//! holds an index of 16-bit item offsets in key/value pairs, and rpm's header blobs
//! are always large enough to be stored off-page (`H_OFFPAGE` items), as a chain of
//! `P_OVERFLOW` pages. Small inline values (`H_KEYDATA`) are not headers — record 0
//! of rpm's `Packages` is a 4-byte instance counter — and are skipped.
//!
//! BerkeleyDB writes in the byte order of the machine that created the file, so the
//! byte order is taken from the magic number. Every page is used by at most one
//! overflow chain, which bounds both the work and the memory to the file size and
//! turns a looping chain into an error.

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER_SIZE: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_OFFPAGE: u8 = 3;
/// `H_OFFPAGE` item: type, 3 unused bytes, first page number, total length.
const OFFPAGE_ITEM_SIZE: usize = 12;

#[derive(Clone, Copy)]
struct Db<'a> {
    content: &'a [u8],
    big_endian: bool,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn u16(&self, buf: &[u8], off: usize) -> Option<u16> {
        let b: [u8; 2] = buf.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, buf: &[u8], off: usize) -> Option<u32> {
        let b: [u8; 4] = buf.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn page(&self, no: usize) -> Result<&'a [u8], String> {
        if no >= self.pages {
            return Err(format!(
                "page {no} is beyond the last page {}",
                self.pages - 1
            ));
        }
        let content: &'a [u8] = self.content;
        Ok(&content[no * self.page_size..(no + 1) * self.page_size])
    }
}

/// Reads the metadata page: byte order, page size and page count.
fn open(content: &[u8]) -> Result<Db<'_>, String> {
    if content.len() < 512 {
        return Err(format!(
            "{} bytes is too short for a BerkeleyDB metadata page",
            content.len()
        ));
    }
    let magic = [content[12], content[13], content[14], content[15]];
    let big_endian = if u32::from_le_bytes(magic) == HASH_MAGIC {
        false
    } else if u32::from_be_bytes(magic) == HASH_MAGIC {
        true
    } else {
        return Err(format!(
            "not a BerkeleyDB hash database (magic {:02x?})",
            magic
        ));
    };
    let mut db = Db {
        content,
        big_endian,
        page_size: 0,
        pages: 0,
    };
    let page_size = db.u32(content, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("invalid page size {page_size}"));
    }
    if content[24] != 0 {
        return Err("encrypted BerkeleyDB databases are not supported".into());
    }
    if content[25] != P_HASHMETA {
        return Err(format!(
            "page 0 has type {}, expected hash metadata",
            content[25]
        ));
    }
    let last_page = db.u32(content, 32).unwrap_or(0) as usize;
    let pages = last_page + 1;
    if pages
        .checked_mul(page_size)
        .is_none_or(|n| n > content.len())
    {
        return Err(format!(
            "metadata says {pages} pages of {page_size} bytes but the file has {} bytes",
            content.len()
        ));
    }
    db.page_size = page_size;
    db.pages = pages;
    Ok(db)
}

/// All off-page values (rpm header blobs) of the database, in file order.
pub fn package_blobs(content: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let db = open(content)?;
    // One flag per page: a page may be consumed by only one overflow chain.
    let mut claimed = vec![false; db.pages];
    let mut out = Vec::new();
    for no in 1..db.pages {
        let page = db.page(no)?;
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16(page, 20).unwrap_or(0) as usize;
        if !entries.is_multiple_of(2) {
            return Err(format!(
                "page {no}: odd number {entries} of hash items (keys and values come in pairs)"
            ));
        }
        if PAGE_HEADER_SIZE + 2 * entries > db.page_size {
            return Err(format!(
                "page {no}: {entries} hash items do not fit in the page"
            ));
        }
        // Items alternate key, value; only values can hold a header.
        for item in (1..entries).step_by(2) {
            let off = db.u16(page, PAGE_HEADER_SIZE + 2 * item).unwrap_or(0) as usize;
            if off < PAGE_HEADER_SIZE || off >= db.page_size {
                return Err(format!(
                    "page {no}: item {item} offset {off} is outside the page"
                ));
            }
            if page[off] != H_OFFPAGE {
                continue;
            }
            let Some(item_bytes) = page.get(off..off + OFFPAGE_ITEM_SIZE) else {
                return Err(format!("page {no}: off-page item {item} is truncated"));
            };
            let first = db.u32(item_bytes, 4).unwrap_or(0) as usize;
            let total = db.u32(item_bytes, 8).unwrap_or(0) as usize;
            out.push(read_chain(&db, &mut claimed, no, first, total)?);
        }
    }
    Ok(out)
}

/// Concatenates an overflow chain starting at page `first`, expecting `total` bytes.
fn read_chain(
    db: &Db<'_>,
    claimed: &mut [bool],
    from: usize,
    first: usize,
    total: usize,
) -> Result<Vec<u8>, String> {
    // The chain cannot hold more than the file; reject absurd lengths before allocating.
    if total > db.content.len() {
        return Err(format!(
            "page {from}: off-page item of {total} bytes is larger than the file"
        ));
    }
    let mut value = Vec::with_capacity(total);
    let mut no = first;
    while no != 0 {
        let page = db
            .page(no)
            .map_err(|e| format!("page {from}: overflow chain: {e}"))?;
        if std::mem::replace(&mut claimed[no], true) {
            return Err(format!("page {no}: overflow chain loops or is shared"));
        }
        if page[25] != P_OVERFLOW {
            return Err(format!(
                "page {no}: expected an overflow page, found type {}",
                page[25]
            ));
        }
        // For overflow pages the free-area field holds the bytes used on the page.
        let used = db.u16(page, 22).unwrap_or(0) as usize;
        let data = page
            .get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + used)
            .ok_or_else(|| format!("page {no}: overflow data length {used} exceeds the page"))?;
        if value.len() + data.len() > total {
            return Err(format!(
                "page {no}: overflow chain is longer than its declared {total} bytes"
            ));
        }
        value.extend_from_slice(data);
        no = db.u32(page, 16).unwrap_or(0) as usize;
    }
    if value.len() != total {
        return Err(format!(
            "page {from}: overflow chain holds {} bytes, declared {total}",
            value.len()
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: usize = 512;

    /// A little-endian database: metadata, one hash page with one key/value pair whose
    /// value lives on overflow pages 2.. with the given `(next, data)`.
    fn db(chain: &[(u32, &[u8])], total: u32) -> Vec<u8> {
        let pages = 2 + chain.len();
        let mut f = vec![0u8; pages * PS];
        f[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        f[20..24].copy_from_slice(&(PS as u32).to_le_bytes());
        f[25] = P_HASHMETA;
        f[32..36].copy_from_slice(&((pages - 1) as u32).to_le_bytes());
        let p = &mut f[PS..2 * PS];
        p[25] = P_HASH;
        p[20..22].copy_from_slice(&2u16.to_le_bytes());
        // key at 500 (inline), value item at 480 (off-page)
        p[26..28].copy_from_slice(&500u16.to_le_bytes());
        p[28..30].copy_from_slice(&480u16.to_le_bytes());
        p[500] = 1;
        p[480] = H_OFFPAGE;
        p[484..488].copy_from_slice(&2u32.to_le_bytes());
        p[488..492].copy_from_slice(&total.to_le_bytes());
        for (i, (next, data)) in chain.iter().enumerate() {
            let p = &mut f[(2 + i) * PS..(3 + i) * PS];
            p[25] = P_OVERFLOW;
            p[16..20].copy_from_slice(&next.to_le_bytes());
            p[22..24].copy_from_slice(&(data.len() as u16).to_le_bytes());
            p[26..26 + data.len()].copy_from_slice(data);
        }
        f
    }

    #[test]
    fn reads_overflow_chain() {
        let f = db(&[(3, b"hello "), (0, b"world")], 11);
        assert_eq!(package_blobs(&f).unwrap(), vec![b"hello world".to_vec()]);
    }

    #[test]
    fn rejects_loops_truncation_and_lies() {
        let f = db(&[(3, b"ab"), (2, b"cd")], 1000);
        assert!(package_blobs(&f).unwrap_err().contains("loops"));
        let f = db(&[(0, b"ab")], 5);
        assert!(package_blobs(&f).unwrap_err().contains("declared"));
        let f = db(&[(0, b"ab")], u32::MAX);
        assert!(
            package_blobs(&f)
                .unwrap_err()
                .contains("larger than the file")
        );
        let f = db(&[(9, b"ab")], 4);
        assert!(package_blobs(&f).unwrap_err().contains("beyond"));
        let f = db(&[(0, b"ab")], 2);
        assert!(
            package_blobs(&f[..f.len() - 1])
                .unwrap_err()
                .contains("pages")
        );
        assert!(package_blobs(&f[..100]).is_err());
        let mut g = f.clone();
        g[PS + 20] = 3; // odd item count
        assert!(package_blobs(&g).unwrap_err().contains("pairs"));
        let mut g = f.clone();
        g[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(package_blobs(&g).is_err());
    }
}
