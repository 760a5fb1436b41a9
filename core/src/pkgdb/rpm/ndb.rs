//! rpm's native NDB database, `Packages.db` (SUSE since SLE 15 SP3 / openSUSE).
//!
//! Layout (all little-endian `u32`s):
//!
//! * a 32-byte header: magic `RpmP`, format version 0, generation, and the number
//!   of 4096-byte *slot pages* at the start of the file;
//! * the rest of the slot pages is an array of 16-byte slots: magic `Slot`, package
//!   index (0 = free slot), offset and length of the package's blob in 16-byte blocks;
//!   the header occupies the first two slots;
//! * each blob starts with a 16-byte head (magic `BlbS`, package index, checksum,
//!   length) followed by the header blob.
//!
//! The blob checksum is not verified (rpm only uses it to detect torn writes, and
//! a tampered image can recompute it anyway); every offset and length is checked
//! against the file instead.

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const SLOT_PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLOCK_SIZE: usize = 16;
const BLOB_HEAD_SIZE: usize = 16;
/// rpm never grows the slot area this far (2048 pages = 524 286 packages); the same
/// limit as go-rpmdb.
const MAX_SLOT_PAGES: usize = 2048;

fn le32(buf: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = buf.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// `(package index, header blob)` of every used slot, in slot order.
pub fn package_blobs(content: &[u8]) -> Result<Vec<(u32, &[u8])>, String> {
    let magic = le32(content, 0).ok_or("file shorter than the NDB header")?;
    if magic != HEADER_MAGIC {
        return Err(format!("not an NDB database (magic {magic:#010x})"));
    }
    let version = le32(content, 4).ok_or("file shorter than the NDB header")?;
    if version != 0 {
        return Err(format!("unsupported NDB version {version}"));
    }
    let slot_pages = le32(content, 12).ok_or("file shorter than the NDB header")? as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(format!("invalid slot page count {slot_pages}"));
    }
    let slots_end = slot_pages * SLOT_PAGE_SIZE;
    if slots_end > content.len() {
        return Err(format!(
            "{slot_pages} slot pages need {slots_end} bytes but the file has {}",
            content.len()
        ));
    }
    let mut out = Vec::new();
    // Bytes of blob areas seen so far. rpm gives every package its own blocks, so
    // they cannot add up to more than the file; slots that share one blob could
    // otherwise make a small file yield the same large header half a million times.
    let mut claimed: usize = 0;
    // The 32-byte file header takes the place of the first two slots.
    for (i, at) in (2 * SLOT_SIZE..slots_end).step_by(SLOT_SIZE).enumerate() {
        let slot = i + 2;
        let field = |n: usize| le32(content, at + 4 * n).unwrap_or(0);
        if field(0) != SLOT_MAGIC {
            return Err(format!("slot {slot}: bad magic {:#010x}", field(0)));
        }
        let (index, block, blocks) = (field(1), field(2) as usize, field(3) as usize);
        if index == 0 {
            continue;
        }
        let start = block.checked_mul(BLOCK_SIZE).filter(|&s| s >= slots_end);
        let end = blocks
            .checked_mul(BLOCK_SIZE)
            .and_then(|len| start?.checked_add(len))
            .filter(|&e| e <= content.len());
        let (Some(start), Some(end)) = (start, end) else {
            return Err(format!(
                "slot {slot} (package {index}): blob at block {block} of {blocks} blocks is outside the data area"
            ));
        };
        claimed += end - start;
        if claimed > content.len() - slots_end {
            return Err(format!(
                "slot {slot} (package {index}): blobs overlap (their blocks add up to more than the data area)"
            ));
        }
        let area = &content[start..end];
        let head = |n: usize| le32(area, 4 * n);
        if head(0) != Some(BLOB_MAGIC) {
            return Err(format!("package {index}: bad blob magic at offset {start}"));
        }
        if head(1) != Some(index) {
            return Err(format!(
                "package {index}: blob at offset {start} belongs to package {}",
                head(1).unwrap_or(0)
            ));
        }
        let len = head(3).unwrap_or(0) as usize;
        let blob = BLOB_HEAD_SIZE
            .checked_add(len)
            .and_then(|e| area.get(BLOB_HEAD_SIZE..e))
            .ok_or_else(|| {
                format!("package {index}: blob of {len} bytes exceeds its {blocks} blocks")
            })?;
        out.push((index, blob));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One slot page, one package (index 7) whose blob is `data`.
    fn db(data: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; SLOT_PAGE_SIZE];
        f[0..4].copy_from_slice(b"RpmP");
        f[12..16].copy_from_slice(&1u32.to_le_bytes());
        for at in (32..SLOT_PAGE_SIZE).step_by(16) {
            f[at..at + 4].copy_from_slice(b"Slot");
        }
        let blocks = (BLOB_HEAD_SIZE + data.len()).div_ceil(BLOCK_SIZE);
        f[36..40].copy_from_slice(&7u32.to_le_bytes());
        f[40..44].copy_from_slice(&((SLOT_PAGE_SIZE / BLOCK_SIZE) as u32).to_le_bytes());
        f[44..48].copy_from_slice(&(blocks as u32).to_le_bytes());
        f.extend_from_slice(b"BlbS");
        f.extend_from_slice(&7u32.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(data);
        f.resize(SLOT_PAGE_SIZE + blocks * BLOCK_SIZE, 0);
        f
    }

    #[test]
    fn reads_slots() {
        let f = db(b"header!");
        assert_eq!(package_blobs(&f).unwrap(), vec![(7, &b"header!"[..])]);
    }

    #[test]
    fn rejects_corruption() {
        let f = db(b"header!");
        assert!(package_blobs(&f[..100]).unwrap_err().contains("slot pages"));
        assert!(
            package_blobs(&f[..f.len() - 1])
                .unwrap_err()
                .contains("outside")
        );
        let mut g = f.clone();
        g[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(package_blobs(&g).unwrap_err().contains("slot page count"));
        let mut g = f.clone();
        g[SLOT_PAGE_SIZE + 12..SLOT_PAGE_SIZE + 16].copy_from_slice(&1000u32.to_le_bytes());
        assert!(package_blobs(&g).unwrap_err().contains("exceeds"));
        let mut g = f.clone();
        g[SLOT_PAGE_SIZE + 4] = 8;
        assert!(package_blobs(&g).unwrap_err().contains("belongs"));
        let mut g = f.clone();
        g[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(package_blobs(&g).is_err());
        let mut g = f.clone();
        g[48] = b'X';
        assert!(package_blobs(&g).unwrap_err().contains("bad magic"));
        assert!(package_blobs(b"").is_err());
    }

    #[test]
    fn rejects_slots_sharing_a_blob() {
        // A second slot of package 7 pointing at the same blob.
        let mut f = db(b"header!");
        let (slot1, slot2) = (32..48, 48..64);
        let copy = f[slot1].to_vec();
        f[slot2].copy_from_slice(&copy);
        assert!(package_blobs(&f).unwrap_err().contains("overlap"));
    }
}
