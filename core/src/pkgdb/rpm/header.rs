//! The rpm header blob, as every rpmdb backend stores it.
//!
//! A stored header is the "header without lead": two big-endian `u32`s `il` (number of
//! index entries) and `dl` (size of the data store), then `il` index entries of 16
//! bytes (`tag`, `type`, `offset`, `count`, all big-endian `u32`), then `dl` bytes of
//! data. Each entry points into the data store; strings are NUL-terminated.
//!
//! The first entry is usually a *region* tag (`HEADERIMMUTABLE` 63, or
//! `HEADERSIGNATURES` 62 / `HEADERIMAGE` 61 in older headers). Its data is a 16-byte
//! trailer that repeats the entry with a negative offset giving the region's size.
//! Entries after the region ("dribbles", e.g. install-time tags) replace region entries
//! of the same tag, so lookups take the *last* entry of a tag. Region entries carry
//! no package data and are never returned by lookups.
//!
//! Every offset and count is checked against the blob before use: the header comes
//! from the image and is hostile.
use std::borrow::Cow;

pub const TAG_HEADERIMAGE: u32 = 61;
pub const TAG_HEADERSIGNATURES: u32 = 62;
pub const TAG_HEADERIMMUTABLE: u32 = 63;
pub const TAG_SIGMD5: u32 = 261;
pub const TAG_SHA256HEADER: u32 = 273;
pub const TAG_NAME: u32 = 1000;
pub const TAG_VERSION: u32 = 1001;
pub const TAG_RELEASE: u32 = 1002;
pub const TAG_EPOCH: u32 = 1003;
pub const TAG_VENDOR: u32 = 1011;
pub const TAG_LICENSE: u32 = 1014;
pub const TAG_ARCH: u32 = 1022;
pub const TAG_OLDFILENAMES: u32 = 1027;
pub const TAG_SOURCERPM: u32 = 1044;
pub const TAG_DIRINDEXES: u32 = 1116;
pub const TAG_BASENAMES: u32 = 1117;
pub const TAG_DIRNAMES: u32 = 1118;
pub const TAG_MODULARITYLABEL: u32 = 5096;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;
/// Types 0 (NULL) to 9 (I18NSTRING) exist; anything else is corruption.
const TYPE_MAX: u32 = 9;

const ENTRY_SIZE: usize = 16;
/// A region trailer is one index entry's worth of bytes.
const REGION_TRAILER_SIZE: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: its index and a borrowed view of its data store.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(buf: &[u8], off: usize) -> Option<u32> {
    let b = buf.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Header<'a> {
    /// Parses and validates the index of a stored header blob. Bytes after the data
    /// store are tolerated (BerkeleyDB and NDB pad records), but the declared index and
    /// data store must fit in `blob`.
    pub fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let il = be32(blob, 0).ok_or("header shorter than 8 bytes")? as usize;
        let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")? as usize;
        let index_len = il
            .checked_mul(ENTRY_SIZE)
            .ok_or_else(|| format!("header index count {il} overflows"))?;
        let data_start = index_len
            .checked_add(8)
            .ok_or_else(|| format!("header index count {il} overflows"))?;
        let data_end = data_start
            .checked_add(dl)
            .ok_or_else(|| format!("header data size {dl} overflows"))?;
        if data_end > blob.len() {
            return Err(format!(
                "header declares {il} entries and {dl} data bytes but the blob has {} bytes",
                blob.len()
            ));
        }
        if il == 0 {
            return Err("header has no index entries".into());
        }
        let data = &blob[data_start..data_end];
        // `il` is bounded by the blob length checked above, so this allocation is too.
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * ENTRY_SIZE;
            // In bounds: `at + 16 <= data_start <= blob.len()`.
            let (tag, ty, offset, count) = (
                be32(blob, at).unwrap_or(0),
                be32(blob, at + 4).unwrap_or(0),
                be32(blob, at + 8).unwrap_or(0),
                be32(blob, at + 12).unwrap_or(0),
            );
            if ty > TYPE_MAX {
                return Err(format!(
                    "header entry {i} (tag {tag}) has unknown type {ty}"
                ));
            }
            let (offset, count) = (offset as usize, count as usize);
            if offset > data.len() {
                return Err(format!(
                    "header entry {i} (tag {tag}) offset {offset} is beyond the {}-byte data store",
                    data.len()
                ));
            }
            entries.push(Entry {
                tag,
                ty,
                offset,
                count,
            });
        }
        let header = Header { entries, data };
        header.check_region()?;
        Ok(header)
    }

    /// Validates the region trailer of a leading region tag: it must lie inside the
    /// data store and describe a region no larger than the index. A header whose
    /// region bookkeeping is broken was not written by rpm.
    fn check_region(&self) -> Result<(), String> {
        let first = self.entries[0];
        if !matches!(
            first.tag,
            TAG_HEADERIMAGE | TAG_HEADERSIGNATURES | TAG_HEADERIMMUTABLE
        ) {
            return Ok(());
        }
        if first.ty != TYPE_BIN || first.count != REGION_TRAILER_SIZE {
            return Err(format!(
                "region tag {} has type {} and count {}, expected a 16-byte binary trailer",
                first.tag, first.ty, first.count
            ));
        }
        let trailer = first
            .offset
            .checked_add(REGION_TRAILER_SIZE)
            .and_then(|end| self.data.get(first.offset..end))
            .ok_or_else(|| format!("region tag {} trailer is out of bounds", first.tag))?;
        let region_offset = be32(trailer, 8).unwrap_or(0) as i32;
        // The trailer stores -(number of region entries * 16).
        let region_entries = region_offset
            .checked_neg()
            .map(|n| n as i64 / ENTRY_SIZE as i64);
        match region_entries {
            Some(n) if n >= 1 && n as usize <= self.entries.len() => Ok(()),
            _ => Err(format!(
                "region tag {} trailer offset {region_offset} does not describe the index",
                first.tag
            )),
        }
    }

    /// The last non-region entry with `tag` (dribbles override the region).
    fn find(&self, tag: u32) -> Option<Entry> {
        if matches!(
            tag,
            TAG_HEADERIMAGE | TAG_HEADERSIGNATURES | TAG_HEADERIMMUTABLE
        ) {
            return None;
        }
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    /// Reads `count` NUL-terminated strings starting at `offset`.
    fn strings_at(&self, e: Entry) -> Result<Vec<Cow<'a, str>>, String> {
        let data: &'a [u8] = self.data;
        // Every string takes at least one byte, so a larger count cannot be real.
        if e.count > data.len() - e.offset {
            return Err(format!(
                "tag {} claims {} strings in {} bytes",
                e.tag,
                e.count,
                data.len() - e.offset
            ));
        }
        let mut out = Vec::with_capacity(e.count);
        let mut at = e.offset;
        for _ in 0..e.count {
            let rest = &data[at..];
            let len = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| format!("tag {} string runs past the data store", e.tag))?;
            out.push(String::from_utf8_lossy(&rest[..len]));
            at += len + 1;
        }
        Ok(out)
    }

    /// A string tag (`STRING`, or the first of an `I18NSTRING`/`STRING_ARRAY`).
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => {
                if e.count == 0 {
                    return Ok(None);
                }
                let first = Entry { count: 1, ..e };
                Ok(self.strings_at(first)?.pop().map(Cow::into_owned))
            }
            ty => Err(format!("tag {tag} has type {ty}, expected a string")),
        }
    }

    /// A `STRING_ARRAY` tag (a single `STRING` is accepted as a one-element array).
    pub fn string_array(&self, tag: u32) -> Result<Vec<Cow<'a, str>>, String> {
        let Some(e) = self.find(tag) else {
            return Ok(Vec::new());
        };
        match e.ty {
            TYPE_STRING_ARRAY | TYPE_I18NSTRING => self.strings_at(e),
            TYPE_STRING => self.strings_at(Entry { count: 1, ..e }),
            ty => Err(format!("tag {tag} has type {ty}, expected a string array")),
        }
    }

    /// An `INT32` array tag.
    pub fn int32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, String> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_INT32 {
            return Err(format!("tag {tag} has type {}, expected int32", e.ty));
        }
        let bytes = e
            .count
            .checked_mul(4)
            .and_then(|n| e.offset.checked_add(n))
            .and_then(|end| self.data.get(e.offset..end))
            .ok_or_else(|| {
                format!(
                    "tag {tag}: {} int32 values run past the data store",
                    e.count
                )
            })?;
        Ok(Some(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// A `BIN` tag's bytes.
    pub fn bin(&self, tag: u32) -> Result<Option<&'a [u8]>, String> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        if e.ty != TYPE_BIN {
            return Err(format!("tag {tag} has type {}, expected binary", e.ty));
        }
        let data: &'a [u8] = self.data;
        e.offset
            .checked_add(e.count)
            .and_then(|end| data.get(e.offset..end))
            .map(Some)
            .ok_or_else(|| format!("tag {tag}: {} bytes run past the data store", e.count))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from `(tag, type, count, data)` entries; data is laid out
    /// in order. When `region` is set, a HEADERIMMUTABLE entry and trailer are added.
    pub(crate) fn build(entries: &[(u32, u32, u32, Vec<u8>)], region: bool) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        let il = entries.len() + usize::from(region);
        for (tag, ty, count, bytes) in entries {
            if *ty == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            index.push((*tag, *ty, data.len() as u32, *count));
            data.extend_from_slice(bytes);
        }
        let mut blob = Vec::new();
        if region {
            let off = data.len() as u32;
            let neg = (-(il as i32 * 16)) as u32;
            for v in [TAG_HEADERIMMUTABLE, TYPE_BIN, neg, 16] {
                data.extend_from_slice(&v.to_be_bytes());
            }
            index.insert(0, (TAG_HEADERIMMUTABLE, TYPE_BIN, off, 16));
        }
        blob.extend_from_slice(&(il as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (t, ty, o, c) in index {
            for v in [t, ty, o, c] {
                blob.extend_from_slice(&v.to_be_bytes());
            }
        }
        blob.extend_from_slice(&data);
        blob
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    #[test]
    fn reads_strings_ints_and_region() {
        let blob = build(
            &[
                (TAG_NAME, TYPE_STRING, 1, s("hello")),
                (TAG_EPOCH, TYPE_INT32, 1, 7u32.to_be_bytes().to_vec()),
                (
                    TAG_BASENAMES,
                    TYPE_STRING_ARRAY,
                    2,
                    [s("a"), s("b")].concat(),
                ),
            ],
            true,
        );
        let h = Header::parse(&blob).unwrap();
        assert_eq!(h.string(TAG_NAME).unwrap().as_deref(), Some("hello"));
        assert_eq!(h.int32_array(TAG_EPOCH).unwrap(), Some(vec![7]));
        assert_eq!(h.string_array(TAG_BASENAMES).unwrap(), vec!["a", "b"]);
        assert_eq!(h.string(TAG_VERSION).unwrap(), None);
        // Region tags are not data.
        assert_eq!(h.bin(TAG_HEADERIMMUTABLE).unwrap(), None);
    }

    #[test]
    fn later_entry_overrides_region_entry() {
        let blob = build(
            &[
                (TAG_NAME, TYPE_STRING, 1, s("old")),
                (TAG_NAME, TYPE_STRING, 1, s("new")),
            ],
            true,
        );
        let h = Header::parse(&blob).unwrap();
        assert_eq!(h.string(TAG_NAME).unwrap().as_deref(), Some("new"));
    }

    #[test]
    fn rejects_truncation_and_absurd_counts() {
        let blob = build(&[(TAG_NAME, TYPE_STRING, 1, s("hello"))], false);
        for cut in 0..blob.len() {
            // Every proper prefix either fails to parse or fails to read the name.
            let ok = Header::parse(&blob[..cut]).and_then(|h| h.string(TAG_NAME));
            assert!(ok.is_err(), "prefix of {cut} bytes accepted");
        }
        // il = 0xffffffff with a tiny blob.
        let mut bad = blob.clone();
        bad[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Header::parse(&bad).unwrap_err().contains("entries"));
        // A string array that claims a billion strings.
        let blob = build(
            &[(TAG_BASENAMES, TYPE_STRING_ARRAY, 1_000_000_000, s("a"))],
            false,
        );
        let h = Header::parse(&blob).unwrap();
        assert!(
            h.string_array(TAG_BASENAMES)
                .unwrap_err()
                .contains("claims")
        );
        // An int32 array that runs past the data store.
        let blob = build(&[(TAG_DIRINDEXES, TYPE_INT32, u32::MAX, vec![0; 4])], false);
        let h = Header::parse(&blob).unwrap();
        assert!(h.int32_array(TAG_DIRINDEXES).is_err());
        // Unterminated string.
        let blob = build(&[(TAG_NAME, TYPE_STRING, 1, b"abc".to_vec())], false);
        assert!(Header::parse(&blob).unwrap().string(TAG_NAME).is_err());
    }

    #[test]
    fn rejects_broken_region_trailer() {
        let mut blob = build(&[(TAG_NAME, TYPE_STRING, 1, s("x"))], true);
        // The trailer is the last 16 bytes; make its offset claim 100 entries.
        let n = blob.len();
        blob[n - 8..n - 4].copy_from_slice(&((-1600i32) as u32).to_be_bytes());
        assert!(Header::parse(&blob).unwrap_err().contains("region"));
    }
}
