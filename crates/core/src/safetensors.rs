//! Saving and loading weights in the safetensors format (what PyTorch users
//! exchange with `safetensors.torch.save_file`): an 8-byte little-endian
//! header length, a JSON header mapping each tensor's name to its dtype,
//! shape and byte range, then the raw little-endian data.
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
use ndarray::IxDyn;
use serde_json::{json, Map, Value};

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
            json!({"dtype": "F32", "shape": p.value.shape(), "data_offsets": [begin, data.len()]}),
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

/// The tensors of a safetensors file, by name, plus its metadata.
pub fn parse(bytes: &[u8]) -> Result<(BTreeMap<String, Tensor>, BTreeMap<String, String>)> {
    let bad = |m: String| Error::Decode(format!("weights file: {m}"));
    if bytes.len() < 8 {
        return Err(bad("too short to be a safetensors file".into()));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let header_end = 8u64
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len() as u64)
        .ok_or_else(|| bad("header length points past the end of the file (not safetensors, or truncated)".into()))?
        as usize;
    let header: Value =
        serde_json::from_slice(&bytes[8..header_end]).map_err(|e| bad(format!("header is not valid JSON ({e})")))?;
    let header = header
        .as_object()
        .ok_or_else(|| bad("header is not a JSON object".into()))?;
    let data = &bytes[header_end..];
    let mut tensors = BTreeMap::new();
    let mut metadata = BTreeMap::new();
    for (name, entry) in header {
        if name == "__metadata__" {
            if let Some(m) = entry.as_object() {
                for (k, v) in m {
                    metadata.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            continue;
        }
        let dtype = entry.get("dtype").and_then(Value::as_str).unwrap_or("?");
        if dtype != "F32" {
            return Err(bad(format!("tensor {name} has dtype {dtype}; DeepPlay reads F32 only")));
        }
        let shape: Vec<usize> = entry
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .ok_or_else(|| bad(format!("tensor {name} has no valid shape")))?;
        let offsets: Vec<usize> = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|s| s.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .filter(|o: &Vec<usize>| o.len() == 2 && o[0] <= o[1] && o[1] <= data.len())
            .ok_or_else(|| bad(format!("tensor {name} points outside the file (truncated?)")))?;
        let count: usize = shape.iter().product();
        if offsets[1] - offsets[0] != count * 4 {
            return Err(bad(format!(
                "tensor {name}: shape {shape:?} needs {} bytes, the file has {}",
                count * 4,
                offsets[1] - offsets[0]
            )));
        }
        let values = data[offsets[0]..offsets[1]]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(
            name.clone(),
            Tensor::from_shape_vec(IxDyn(&shape), values).expect("sized"),
        );
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
        p.value.assign(&tensors[&p.name]);
        p.zero_grad();
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Linear;
    use crate::rng::Rng;

    #[test]
    fn round_trip_keeps_names_shapes_values_and_metadata() {
        let a = Linear::new("fc", 3, 2, &mut Rng::new(1));
        let mut b = Linear::new("fc", 3, 2, &mut Rng::new(2));
        let bytes = save(&a, &[("lab", "cnn")]);
        assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
        let meta = load(&mut b, &bytes).unwrap();
        assert_eq!(b.weight.value, a.weight.value);
        assert_eq!(b.bias.value, a.bias.value);
        assert_eq!(meta.get("lab").map(String::as_str), Some("cnn"));
    }

    #[test]
    fn bad_files_are_refused_and_leave_the_model_untouched() {
        let a = Linear::new("fc", 3, 2, &mut Rng::new(1));
        let mut b = Linear::new("fc", 3, 2, &mut Rng::new(2));
        let before = b.weight.value.clone();
        let good = save(&a, &[]);
        let other = save(&Linear::new("fc", 4, 2, &mut Rng::new(1)), &[]);
        let renamed = save(&Linear::new("head", 3, 2, &mut Rng::new(1)), &[]);
        for (bytes, needle) in [
            (&b"hello"[..], "too short"),
            (&good[..good.len() - 3], "outside the file"),
            (&b"\xff\xff\xff\xff\x00\x00\x00\x00{}"[..], "past the end"),
            (&other[..], "fc.weight"),
            (&renamed[..], "no tensor named fc.weight"),
        ] {
            let msg = load(&mut b, bytes).unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
            assert_eq!(b.weight.value, before);
        }
    }
}
