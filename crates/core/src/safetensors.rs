//! Saving and loading weights in the safetensors format (what PyTorch users
//! exchange with `safetensors.torch.save_file`): an 8-byte little-endian
//! header length, a JSON header mapping each tensor's name to its dtype,
//! shape and byte range, then the raw little-endian data.
//!
//! Reading never panics, whatever the bytes: every length and offset is
//! computed with checked arithmetic in `u64` (so a shape whose byte size
//! would wrap around in wasm32's 32-bit `usize` is refused on every target),
//! and a file is refused, with a sentence saying why, when
//!
//! * it is shorter than 8 bytes, or its header length points past its end;
//! * the header is not UTF-8, not JSON, or not a JSON object;
//! * a name (or a key inside an entry) appears twice: a JSON parser would
//!   silently keep the last one, the file's writer meant something else;
//! * an entry has no dtype, shape or data_offsets, or one of the wrong kind;
//! * a dtype is not F32 (the only one DeepPlay computes in);
//! * a shape's byte size overflows or exceeds [`MAX_TENSOR_BYTES`];
//! * data_offsets are not `[begin, end]` with begin <= end within the data,
//!   or do not span exactly 4 bytes per element of the shape;
//! * the tensors' byte ranges overlap, leave gaps, or do not cover the data
//!   to its end (the format's reference reader refuses these too);
//! * `__metadata__` is not an object of strings.
//!
//! Loading checks everything before touching the model, so an unreadable or
//! mismatched file leaves the weights exactly as they were.

use crate::error::{Error, Result};
use crate::layers::Module;
use crate::tensor::Tensor;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use ndarray::IxDyn;
use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value};

/// The largest tensor a file may hold: 4 GiB, which is more than a wasm32
/// page can address, so nothing larger could be loaded anyway.
pub const MAX_TENSOR_BYTES: u64 = u32::MAX as u64;

/// The one dtype DeepPlay reads and writes.
const DTYPE: &str = "F32";
const DTYPE_BYTES: u64 = 4;

/// Every parameter of `model` as a safetensors file (F32, names as PyTorch's).
pub fn save(model: &dyn Module, metadata: &[(&str, &str)]) -> Vec<u8> {
    let mut header = Map::new();
    let mut data: Vec<u8> = Vec::new();
    for p in model.params() {
        let begin = data.len();
        for v in p.value.iter() {
            data.extend_from_slice(&v.to_le_bytes());
        }
        header.insert(
            p.name.clone(),
            json!({"dtype": DTYPE, "shape": p.value.shape(), "data_offsets": [begin, data.len()]}),
        );
    }
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        header.insert("__metadata__".into(), Value::Object(meta));
    }
    let mut text = serde_json::to_string(&Value::Object(header))
        .unwrap_or_default()
        .into_bytes();
    // The spec pads the header with spaces to a multiple of 8 bytes.
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + data.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend(text);
    out.extend(data);
    out
}

fn bad(message: impl fmt::Display) -> Error {
    Error::Decode(format!("weights file: {message}"))
}

/// A JSON value parsed without tolerating a key twice in any object.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::String(v.into())))
    }
    fn visit_string<E>(self, v: String) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!("\"{key}\" appears twice")));
            }
            let Strict(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Strict(Value::Object(out)))
    }
}

/// The header text as a JSON object; duplicates refused at every level.
fn parse_header(header: &[u8]) -> Result<Map<String, Value>> {
    let text = core::str::from_utf8(header).map_err(|e| {
        bad(format!(
            "the header is not UTF-8 text (bad byte at {})",
            e.valid_up_to()
        ))
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(bad("the header is not a JSON object (not a safetensors file?)")),
        Err(e) if e.is_data() => Err(bad(format!("header: {e}"))),
        Err(e) => Err(bad(format!("the header is not valid JSON ({e})"))),
    }
}

/// A list of non-negative whole numbers, or None.
fn whole_numbers(v: &Value) -> Option<Vec<u64>> {
    v.as_array()?.iter().map(Value::as_u64).collect()
}

/// One tensor's entry, checked against itself (not yet against the others).
struct Entry<'a> {
    name: &'a str,
    shape: Vec<usize>,
    begin: u64,
    end: u64,
}

fn entry<'a>(name: &'a str, value: &Value, data_len: u64) -> Result<Entry<'a>> {
    let info = value
        .as_object()
        .ok_or_else(|| bad(format!("the entry of tensor {name} is not a JSON object")))?;
    let field = |key: &str| info.get(key).ok_or_else(|| bad(format!("tensor {name} has no {key}")));
    let dtype = field("dtype")?
        .as_str()
        .ok_or_else(|| bad(format!("tensor {name}: dtype is not a string")))?;
    if dtype != DTYPE {
        return Err(bad(format!(
            "tensor {name} has dtype {dtype}; DeepPlay reads {DTYPE} only (in PyTorch: tensor.float())"
        )));
    }
    let shape = whole_numbers(field("shape")?)
        .ok_or_else(|| bad(format!("tensor {name}: shape is not a list of whole numbers")))?;
    // The bytes of the non-empty axes, checked so that nothing wraps: an
    // empty tensor [0, 2^40] is refused too (it would overflow on wasm32).
    let too_large = || {
        bad(format!(
            "tensor {name}: shape {shape:?} is too large (more than {MAX_TENSOR_BYTES} bytes)"
        ))
    };
    let span = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(DTYPE_BYTES, |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= MAX_TENSOR_BYTES)
        .ok_or_else(too_large)?;
    let needed = if shape.contains(&0) { 0 } else { span };
    let dims = shape
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(too_large)?;
    let offsets = whole_numbers(field("data_offsets")?);
    let Some(&[begin, end]) = offsets.as_deref() else {
        return Err(bad(format!(
            "tensor {name}: data_offsets must be two whole numbers [begin, end]"
        )));
    };
    if begin > end {
        return Err(bad(format!(
            "tensor {name}: data_offsets [{begin}, {end}] begin after they end"
        )));
    }
    if end > data_len {
        return Err(bad(format!(
            "tensor {name}: data_offsets [{begin}, {end}] point outside the file's {data_len} data bytes (truncated?)"
        )));
    }
    if end - begin != needed {
        return Err(bad(format!(
            "tensor {name}: shape {shape:?} of {DTYPE} needs {needed} bytes, its data_offsets [{begin}, {end}] hold {}",
            end - begin
        )));
    }
    Ok(Entry {
        name,
        shape: dims,
        begin,
        end,
    })
}

/// The tensors' byte ranges must tile the data: no overlap, no gap, nothing after.
fn check_tiling(entries: &mut [Entry<'_>], data_len: u64) -> Result<()> {
    entries.sort_by_key(|e| (e.begin, e.end));
    let mut at = 0u64;
    let mut previous = "";
    for e in entries.iter() {
        if e.begin < at {
            return Err(bad(format!(
                "tensors {previous} and {} overlap (bytes {}..{} of the data)",
                e.name, e.begin, at
            )));
        }
        if e.begin > at {
            return Err(bad(format!(
                "bytes {at}..{} of the data belong to no tensor (before {})",
                e.begin, e.name
            )));
        }
        at = e.end;
        previous = e.name;
    }
    if at != data_len {
        return Err(bad(format!("bytes {at}..{data_len} of the data belong to no tensor")));
    }
    Ok(())
}

fn metadata_of(value: &Value) -> Result<BTreeMap<String, String>> {
    let not_strings = || bad("__metadata__ must map names to strings");
    value
        .as_object()
        .ok_or_else(not_strings)?
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(not_strings)?.to_string())))
        .collect()
}

/// The tensors of a safetensors file, by name, plus its metadata. Never
/// panics; see the module documentation for what is refused.
pub fn parse(bytes: &[u8]) -> Result<(BTreeMap<String, Tensor>, BTreeMap<String, String>)> {
    let (length, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| bad("too short to be a safetensors file"))?;
    let header_len = u64::from_le_bytes(*length);
    let (header, data) = usize::try_from(header_len)
        .ok()
        .and_then(|n| rest.split_at_checked(n))
        .ok_or_else(|| {
            bad(format!(
                "the header length ({header_len} bytes) points past the end of the file (not safetensors, or truncated)"
            ))
        })?;
    let header = parse_header(header)?;
    let data_len = data.len() as u64;
    let mut metadata = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, value) in &header {
        if name == "__metadata__" {
            metadata = metadata_of(value)?;
        } else {
            entries.push(entry(name, value, data_len)?);
        }
    }
    check_tiling(&mut entries, data_len)?;
    let mut tensors = BTreeMap::new();
    for e in entries {
        // In range and a whole number of f32s: checked by `entry`.
        let raw = usize::try_from(e.begin)
            .ok()
            .zip(usize::try_from(e.end).ok())
            .and_then(|(b, e)| data.get(b..e))
            .ok_or_else(|| bad(format!("tensor {}: data_offsets out of range", e.name)))?;
        let values: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let tensor =
            Tensor::from_shape_vec(IxDyn(&e.shape), values).map_err(|err| bad(format!("tensor {}: {err}", e.name)))?;
        tensors.insert(e.name.to_string(), tensor);
    }
    Ok((tensors, metadata))
}

/// Load a safetensors file into `model`. Every parameter must be present with
/// its shape and be finite; otherwise nothing changes and the error says what
/// differs.
pub fn load(model: &mut dyn Module, bytes: &[u8]) -> Result<BTreeMap<String, String>> {
    let (tensors, metadata) = parse(bytes)?;
    for p in model.params() {
        let t = tensors.get(&p.name).ok_or_else(|| {
            Error::Decode(format!(
                "weights file has no tensor named {} (is it for this network?)",
                p.name
            ))
        })?;
        if t.shape() != p.value.shape() {
            return Err(Error::shape(
                "load weights",
                format!("{} in the file vs this network", p.name),
                t.shape(),
                p.value.shape(),
            ));
        }
        if t.iter().any(|v| !v.is_finite()) {
            return Err(Error::Decode(format!(
                "weights file: {} holds NaN or infinite values",
                p.name
            )));
        }
    }
    for p in model.params_mut() {
        // Present with this shape: checked above.
        if let Some(t) = tensors.get(&p.name) {
            p.value.assign(t);
        }
        p.zero_grad();
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Linear, LinearConfig};
    use crate::rng::Rng;
    use alloc::vec;

    fn linear(name: &str, inputs: usize, seed: u64) -> Linear {
        let size = LinearConfig {
            in_features: inputs,
            out_features: 2,
        };
        Linear::new(name, size, &mut Rng::new(seed))
    }

    /// A file with this header text and data bytes.
    fn file(header: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header);
        out.extend_from_slice(data);
        out
    }

    fn refusal(bytes: &[u8]) -> String {
        match parse(bytes) {
            Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(bytes)),
            Err(e) => e.to_string(),
        }
    }

    /// One F32 tensor entry.
    fn t(name: &str, shape: &str, offsets: &str) -> String {
        format!(r#""{name}":{{"dtype":"F32","shape":{shape},"data_offsets":{offsets}}}"#)
    }

    #[test]
    fn round_trip_keeps_names_shapes_values_and_metadata() {
        let a = linear("fc", 3, 1);
        let mut b = linear("fc", 3, 2);
        let bytes = save(&a, &[("lab", "cnn")]);
        assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
        let meta = load(&mut b, &bytes).unwrap();
        assert_eq!(b.weight.value, a.weight.value);
        assert_eq!(b.bias.value, a.bias.value);
        assert_eq!(meta.get("lab").map(String::as_str), Some("cnn"));
    }

    #[test]
    fn well_formed_files_in_any_order_and_with_empty_tensors_parse() {
        let data: Vec<u8> = [1.0f32, 2.0, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let header = format!(
            "{{{},{},{},\"__metadata__\":{{\"a\":\"b\"}}}}   ",
            t("z", "[2]", "[4,12]"),
            t("a", "[1]", "[0,4]"),
            t("empty", "[0,3]", "[12,12]")
        );
        let (tensors, meta) = parse(&file(header.as_bytes(), &data)).unwrap();
        assert_eq!(tensors["z"].iter().copied().collect::<Vec<_>>(), [2.0, 3.0]);
        assert_eq!(tensors["a"].iter().copied().collect::<Vec<_>>(), [1.0]);
        assert_eq!(tensors["empty"].shape(), &[0, 3]);
        assert_eq!(meta["a"], "b");
    }

    #[test]
    fn crafted_headers_are_refused_with_the_reason() {
        let eight = [0u8; 8];
        let twelve = [0u8; 12];
        let cases: Vec<(String, &[u8], &str)> = vec![
            // 65536 x 65536 floats: 16 GiB, a byte count that wraps to 0 in a 32-bit usize.
            (t("w", "[65536,65536]", "[0,0]"), &[], "too large"),
            (t("w", "[16384,16384]", "[0,0]"), &[], "needs 1073741824 bytes"),
            (t("w", "[4294967296,4294967296,2]", "[0,0]"), &[], "too large"),
            (t("w", "[1073741824]", "[0,0]"), &[], "too large"),
            (t("w", "[0,1099511627776]", "[0,0]"), &[], "too large"),
            (t("w", "[3]", "[0,8]"), &eight, "needs 12 bytes"),
            (t("w", "[4]", "[0,16]"), &eight, "outside the file"),
            (
                t("w", "[1]", "[18446744073709551612,18446744073709551616]"),
                &eight,
                "data_offsets",
            ),
            (t("w", "[1]", "[8,4]"), &eight, "begin after"),
            (t("w", "[1]", "[0]"), &eight, "two whole numbers"),
            (t("w", "[1]", "[0,4,8]"), &eight, "two whole numbers"),
            (t("w", "[1]", "[-4,0]"), &eight, "two whole numbers"),
            (t("w", "[1]", "[\"0\",\"4\"]"), &eight, "two whole numbers"),
            (t("w", "[-1]", "[0,4]"), &eight, "shape is not a list of whole numbers"),
            (t("w", "[1.5]", "[0,4]"), &eight, "shape is not a list of whole numbers"),
            (t("w", "3", "[0,4]"), &eight, "shape is not a list of whole numbers"),
            (
                format!("{},{}", t("a", "[2]", "[0,8]"), t("b", "[2]", "[4,12]")),
                &twelve,
                "tensors a and b overlap",
            ),
            (
                format!("{},{}", t("a", "[1]", "[0,4]"), t("b", "[1]", "[8,12]")),
                &twelve,
                "bytes 4..8 of the data belong to no tensor",
            ),
            (
                t("a", "[1]", "[0,4]"),
                &eight,
                "bytes 4..8 of the data belong to no tensor",
            ),
            (
                r#""w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}"#.into(),
                &[0; 4],
                "F32 only",
            ),
            (
                r#""w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}"#.into(),
                &eight,
                "F32 only",
            ),
            (
                r#""w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}"#.into(),
                &eight,
                "dtype is not a string",
            ),
            (
                r#""w":{"shape":[2],"data_offsets":[0,8]}"#.into(),
                &eight,
                "tensor w has no dtype",
            ),
            (
                r#""w":{"dtype":"F32","data_offsets":[0,8]}"#.into(),
                &eight,
                "tensor w has no shape",
            ),
            (
                r#""w":{"dtype":"F32","shape":[2]}"#.into(),
                &eight,
                "tensor w has no data_offsets",
            ),
            (
                r#""w":[1,2]"#.into(),
                &eight,
                "the entry of tensor w is not a JSON object",
            ),
            (
                format!("{},{}", t("w", "[1]", "[0,4]"), t("w", "[1]", "[4,8]")),
                &eight,
                "\"w\" appears twice",
            ),
            (
                r#""w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}"#.into(),
                &eight,
                "\"dtype\" appears twice",
            ),
            (r#""__metadata__":{"a":"b","a":"c"}"#.into(), &[], "\"a\" appears twice"),
            (
                r#""__metadata__":{"a":1}"#.into(),
                &[],
                "__metadata__ must map names to strings",
            ),
            (
                r#""__metadata__":"a""#.into(),
                &[],
                "__metadata__ must map names to strings",
            ),
        ];
        for (entries, data, needle) in cases {
            let header = format!("{{{entries}}}");
            let msg = refusal(&file(header.as_bytes(), data));
            assert!(msg.contains(needle), "{header}: {msg}");
        }
        for (bytes, needle) in [
            (b"hello".to_vec(), "too short"),
            (file(b"{}", &[]).split_off(1), "past the end"),
            ([&u64::MAX.to_le_bytes()[..], b"{}"].concat(), "past the end"),
            ([&100u64.to_le_bytes()[..], b"{}"].concat(), "past the end"),
            (file(b"{\"\xff\xfe\":1}", &[]), "not UTF-8"),
            (file(b"{not json}", &[]), "not valid JSON"),
            (file(b"{} x", &[]), "not valid JSON"),
            (file(b"", &[]), "not valid JSON"),
            (file(b"[]", &[]), "not a JSON object"),
            (file(b"3", &[]), "not a JSON object"),
            (file(b"null", &[]), "not a JSON object"),
            (file(b"\"x\"", &[]), "not a JSON object"),
        ] {
            let msg = refusal(&bytes);
            assert!(msg.contains(needle), "{msg}");
        }
    }

    #[test]
    fn bad_files_are_refused_and_leave_the_model_untouched() {
        let a = linear("fc", 3, 1);
        let mut b = linear("fc", 3, 2);
        let (weight, bias) = (b.weight.value.clone(), b.bias.value.clone());
        let good = save(&a, &[]);
        let other = save(&linear("fc", 4, 1), &[]);
        let renamed = save(&linear("head", 3, 1), &[]);
        // fc.weight is fine and comes first in the model; fc.bias holds a NaN.
        let mut nan = linear("fc", 3, 1);
        nan.bias.value[[1]] = f32::NAN;
        let nan = save(&nan, &[]);
        for (bytes, needle) in [
            (&b"hello"[..], "too short"),
            (&good[..good.len() - 3], "outside the file"),
            (&b"\xff\xff\xff\xff\x00\x00\x00\x00{}"[..], "past the end"),
            (&other[..], "fc.weight"),
            (&renamed[..], "no tensor named fc.weight"),
            (&nan[..], "fc.bias holds NaN"),
        ] {
            let msg = load(&mut b, bytes).unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
            assert_eq!(b.weight.value, weight);
            assert_eq!(b.bias.value, bias);
        }
    }

    /// Random bytes, random strings of JSON tokens (which the parser gets
    /// much further into), every truncation of a valid file and random byte
    /// changes in its length and header: all refused, none panics.
    #[test]
    fn random_and_mutated_files_are_refused_without_panicking() {
        let mut rng = Rng::new(20240610);
        let mut model = linear("fc", 3, 2);
        let before = model.weight.value.clone();
        for i in 0..3000 {
            let len = [16, 64, 600, 5000][i % 4];
            let len = rng.below(len);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if i % 2 == 1 && len >= 8 {
                // A header length that fits, so that the header is parsed.
                let n = rng.below(len - 7) as u64;
                bytes[..8].copy_from_slice(&n.to_le_bytes());
            }
            assert!(parse(&bytes).is_err(), "{bytes:?}");
            assert!(load(&mut model, &bytes).is_err());
        }
        let tokens = [
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"w\"",
            "\"dtype\"",
            "\"F32\"",
            "\"shape\"",
            "\"data_offsets\"",
            "\"__metadata__\"",
            "0",
            "4",
            "8",
            "65536",
            "4294967296",
            "18446744073709551615",
            "-1",
            "1e30",
            "null",
            "true",
            " ",
            "\"",
        ];
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..rng.below(40) {
                text.push_str(tokens[rng.below(tokens.len())]);
            }
            let data: Vec<u8> = (0..rng.below(24)).map(|_| rng.next_u32() as u8).collect();
            let bytes = file(text.as_bytes(), &data);
            let _ = parse(&bytes);
            assert!(load(&mut model, &bytes).is_err(), "{text}");
        }
        // Well-formed entries with random dtypes, shapes and offsets: the
        // checks after the JSON. What parses is consistent.
        let huge = ["65536", "1073741824", "4294967296", "18446744073709551615", "-1", "2.5"];
        let mut accepted = 0;
        for _ in 0..3000 {
            let (mut entries, mut cursor) = (Vec::new(), 0);
            for name in ["a", "b", "c"].iter().take(1 + rng.below(3)) {
                let small: Vec<usize> = (0..rng.below(3)).map(|_| rng.below(4)).collect();
                let mut shape: Vec<String> = small.iter().map(|d| d.to_string()).collect();
                if rng.below(8) == 0 {
                    shape.push(huge[rng.below(huge.len())].into());
                }
                // Mostly consistent offsets, so that the checks of how the
                // tensors fit together run too.
                let bytes = 4 * small.iter().product::<usize>();
                let begin = if rng.below(5) == 0 { 4 * rng.below(5) } else { cursor };
                let end = if rng.below(5) == 0 {
                    4 * rng.below(5)
                } else {
                    begin + bytes
                };
                cursor = end;
                let dtype = if rng.below(8) == 0 { "F16" } else { "F32" };
                entries.push(format!(
                    r#""{name}":{{"dtype":"{dtype}","shape":[{}],"data_offsets":[{begin},{end}]}}"#,
                    shape.join(",")
                ));
            }
            let data = vec![0u8; if rng.below(4) == 0 { 4 * rng.below(8) } else { cursor }];
            let bytes = file(format!("{{{}}}", entries.join(",")).as_bytes(), &data);
            if let Ok((tensors, _)) = parse(&bytes) {
                let floats: usize = tensors.values().map(|t| t.len()).sum();
                assert_eq!(4 * floats, data.len());
                accepted += 1;
            }
            assert!(load(&mut model, &bytes).is_err());
        }
        assert!((300..2700).contains(&accepted), "{accepted} of 3000 parsed");
        let good = save(&linear("fc", 3, 1), &[("lab", "test")]);
        for cut in 0..good.len() {
            assert!(load(&mut model, &good[..cut]).is_err(), "cut at {cut}");
        }
        let header_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let whitespace = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        for _ in 0..3000 {
            let mut bytes = good.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(header_end);
                // Half of the new bytes printable, to get past the UTF-8 check.
                let value = match rng.below(2) {
                    0 => rng.next_u32() as u8,
                    _ => b' ' + rng.below(95) as u8,
                };
                // A space of the padding changed to another space is still the same file.
                if !(whitespace(bytes[at]) && whitespace(value)) {
                    bytes[at] = value;
                }
            }
            // The metadata's text may change freely; everything else may not.
            let meta = good.windows(12).position(|w| w == b"\"lab\":\"test\"").unwrap();
            if bytes[..meta] == good[..meta] && bytes[meta + 12..] == good[meta + 12..] {
                continue;
            }
            assert!(
                load(&mut model, &bytes).is_err(),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        assert_eq!(model.weight.value, before);
        // Changes in the data only change values (or bring NaN): never a panic.
        for _ in 0..500 {
            let mut bytes = good.clone();
            let at = header_end + rng.below(good.len() - header_end);
            bytes[at] = rng.next_u32() as u8;
            let _ = load(&mut model, &bytes);
        }
    }
}
