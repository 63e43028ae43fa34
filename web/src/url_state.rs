//! A lab's seed and hyperparameters live in the URL query, so a link
//! reproduces a run. Parsing and writing the query are pure functions; the
//! two browser calls at the bottom read and replace it.

use deepplay_core::data::points::{EXTENT, MAX_DRAWN_POINTS};
use wasm_bindgen::JsValue;

/// Decodes `a=1&b=x%2Cy` into pairs (`+` is a space, bad escapes are kept
/// as they are).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Encodes pairs as a query string without the leading `?`.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of `key`, if present.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~,".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The current page's query pairs.
pub fn read() -> Vec<(String, String)> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .map(|q| parse_query(&q))
        .unwrap_or_default()
}

/// Replaces the query in the address bar (no navigation, no history entry).
pub fn replace(pairs: &[(&str, String)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window.location().pathname().unwrap_or_default();
    let url = format!("{path}?{}", encode_query(pairs));
    if let Ok(history) = window.history() {
        // Failing to update the address bar is harmless; training goes on.
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// URL-safe digits: each coordinate of a drawn point is two of them, a
/// 4096-level grid over [-EXTENT, EXTENT] (steps of 0.0015).
const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Drawn points (the Diffusion and GAN labs' own data) as URL text, four characters a point.
pub fn encode_points(points: &[[f32; 2]]) -> String {
    let level = |v: f32| (((v + EXTENT) / (2.0 * EXTENT)).clamp(0.0, 1.0) * 4095.0).round() as usize;
    points
        .iter()
        .flatten()
        .flat_map(|&v| {
            let q = level(v);
            [DIGITS[q / 64] as char, DIGITS[q % 64] as char]
        })
        .collect()
}

/// The points of [`encode_points`]' text; `None` for anything else.
pub fn decode_points(text: &str) -> Option<Vec<[f32; 2]>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) || bytes.len() / 4 > MAX_DRAWN_POINTS {
        return None;
    }
    let digit = |b: u8| DIGITS.iter().position(|&d| d == b);
    let coordinate = |pair: &[u8]| {
        let q = digit(pair[0])? * 64 + digit(pair[1])?;
        Some(q as f32 / 4095.0 * 2.0 * EXTENT - EXTENT)
    };
    bytes
        .chunks_exact(4)
        .map(|c| Some([coordinate(&c[..2])?, coordinate(&c[2..])?]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip() {
        let pairs = [
            ("seed", "42".to_string()),
            ("hidden", "16,8".to_string()),
            ("x", "a b&c".to_string()),
        ];
        let text = encode_query(&pairs);
        assert_eq!(text, "seed=42&hidden=16,8&x=a%20b%26c");
        let parsed = parse_query(&format!("?{text}"));
        assert_eq!(get(&parsed, "x"), Some("a b&c"));
        assert_eq!(get(&parsed, "hidden"), Some("16,8"));
        assert_eq!(get(&parsed, "missing"), None);
    }

    #[test]
    fn odd_queries_do_not_panic() {
        assert_eq!(parse_query(""), vec![]);
        assert_eq!(get(&parse_query("?a"), "a"), Some(""));
        assert_eq!(get(&parse_query("a=%"), "a"), Some("%"));
        assert_eq!(get(&parse_query("a=%4"), "a"), Some("%4"));
        assert_eq!(get(&parse_query("a=%zz"), "a"), Some("%zz"));
        assert_eq!(get(&parse_query("a=1+2%2C3"), "a"), Some("1 2,3"));
        assert_eq!(get(&parse_query("a=%E2%9C%93"), "a"), Some("\u{2713}"));
    }
}
