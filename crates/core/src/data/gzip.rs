//! gzip (RFC 1952) decoding: the header is parsed here, the deflate stream is
//! inflated by `miniz_oxide`, and the trailer's CRC-32 and length are checked,
//! so a truncated or corrupted download is an error, never bad data.

use crate::error::{Error, Result};
use alloc::format;
use alloc::vec::Vec;

/// Refuse to inflate past this many bytes (the MNIST images are 7.8 MB).
pub const MAX_OUTPUT: usize = 64 << 20;

pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let err = |m: &str| Error::Decode(format!("gzip: {m}"));
    if bytes.len() < 18 {
        return Err(err("file too short to be gzip (truncated?)"));
    }
    if bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(err("not a gzip file (wrong magic bytes)"));
    }
    if bytes[2] != 8 {
        return Err(err("unsupported compression method"));
    }
    let flags = bytes[3];
    let mut pos = 10;
    let need = |pos: usize, n: usize| {
        if pos + n <= bytes.len() {
            Ok(())
        } else {
            Err(err("header truncated"))
        }
    };
    if flags & 0x04 != 0 {
        // FEXTRA: a little-endian length, then that many bytes.
        need(pos, 2)?;
        let extra = usize::from(u16::from_le_bytes([bytes[pos], bytes[pos + 1]]));
        pos += 2 + extra;
    }
    for flag in [0x08, 0x10] {
        // FNAME, FCOMMENT: zero-terminated strings.
        if flags & flag != 0 {
            let end = bytes[pos.min(bytes.len())..]
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| err("header truncated"))?;
            pos += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2; // FHCRC
    }
    need(pos, 8)?;
    let body = &bytes[pos..bytes.len() - 8];
    let out = miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_OUTPUT).map_err(|e| {
        if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            err(&format!(
                "inflates to more than {} MB, the most this reads",
                MAX_OUTPUT >> 20
            ))
        } else {
            err(&format!("corrupt or truncated data ({:?})", e.status))
        }
    })?;
    let trailer = &bytes[bytes.len() - 8..];
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if size != out.len() as u32 || crc != crc32(&out) {
        return Err(err("checksum mismatch (corrupted or truncated file)"));
    }
    Ok(out)
}

/// CRC-32 (IEEE 802.3, reflected, as gzip's trailer holds it), a byte at a
/// time from a 1 KB table built at compile time. crc32fast's 16 KB
/// slicing table does not compress and was in every worker's download; a
/// byte at a time checks MNIST's few megabytes once per page load, in a few
/// milliseconds.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !data
        .iter()
        .fold(!0u32, |c, &b| TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

/// gzip-compress (for tests and tools that need well-formed files).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_values() {
        // The CRC catalogue's check value for CRC-32/ISO-HDLC, and two more.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn round_trip_and_damage() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let packed = gzip(&data);
        assert_eq!(gunzip(&packed).unwrap(), data);
        let msg = |r: Result<Vec<u8>>| alloc::string::ToString::to_string(&r.unwrap_err());
        assert!(msg(gunzip(&packed[..packed.len() / 2])).contains("gzip"));
        assert!(msg(gunzip(&data)).contains("wrong magic"));
        assert!(msg(gunzip(&packed[..5])).contains("too short"));
        let mut flipped = packed.clone();
        let last = flipped.len() - 9;
        flipped[last] ^= 0x55;
        assert!(gunzip(&flipped).is_err());
    }
}
