//! Checks for what visitors type into hyperparameter fields. Each returns the
//! value or a sentence to show next to the field; nothing here panics on
//! input, whatever it is.

use deepplay_core::limits::{self, Range};

/// The largest seed JavaScript numbers (and URLs that pass through them)
/// hold exactly.
pub const MAX_SEED: u64 = limits::SEED.max;

fn parse_number(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter a number.".into());
    }
    // What `text.parse::<f64>()` reads as a finite number, to the same
    // value, in a fraction of its code (see [`crate::decimal`]).
    crate::decimal::parse(text).ok_or_else(|| format!("\u{201c}{text}\u{201d} is not a number."))
}

/// A float in `[min, max]`, or in `(min, max]` when `min_exclusive`.
pub fn parse_float(text: &str, min: f64, min_exclusive: bool, max: f64) -> Result<f32, String> {
    let v = parse_number(text)?;
    let too_small = if min_exclusive { v <= min } else { v < min };
    if too_small {
        return Err(if min_exclusive {
            format!("Must be greater than {min}.")
        } else {
            format!("Must be at least {min}.")
        });
    }
    if v > max {
        return Err(format!("Must be at most {max}."));
    }
    Ok(v as f32)
}

/// A whole number in `[min, max]`.
pub fn parse_integer(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let v = parse_number(text)?;
    if v.fract() != 0.0 {
        return Err("Must be a whole number.".into());
    }
    if v < min as f64 {
        return Err(format!("Must be at least {min}."));
    }
    if v > max as f64 {
        return Err(format!("Must be at most {max}."));
    }
    Ok(v as u64)
}

/// A whole number in one of the core's closed ranges ([`limits`]).
pub fn integer_in(text: &str, range: Range<usize>) -> Result<usize, String> {
    parse_integer(text, range.min as u64, range.max as u64).map(|v| v as usize)
}

/// A float in one of the core's ranges ([`limits`]).
pub fn float_in(text: &str, range: Range<f32>) -> Result<f32, String> {
    let v = parse_float(text, f64::from(range.min), !range.min_included, f64::from(range.max))?;
    if range.contains(v) {
        Ok(v)
    } else {
        Err(format!("Must be {range}."))
    }
}

/// A field's hint for a closed range: "1 to 512".
pub fn range_hint<T: core::fmt::Display>(range: Range<T>) -> String {
    format!("{} to {}", range.min, range.max)
}

/// Learning rate: positive, at most a million. The playground lets a
/// visitor try absurd rates and watch training diverge; only values that
/// mean nothing are refused.
pub fn learning_rate(text: &str) -> Result<f32, String> {
    parse_float(text, 0.0, true, 1e6).map_err(|e| format!("Learning rate: {e}"))
}

/// Batch size: 1 to 512 examples.
pub fn batch_size(text: &str) -> Result<usize, String> {
    integer_in(text, limits::BATCH_SIZE).map_err(|e| format!("Batch size: {e}"))
}

/// Seed: a whole number from 0 to 2^53 - 1.
pub fn seed(text: &str) -> Result<u64, String> {
    parse_integer(text, limits::SEED.min, limits::SEED.max).map_err(|e| format!("Seed: {e}"))
}

/// Data noise: 0 to 1.
pub fn noise(text: &str) -> Result<f32, String> {
    float_in(text, limits::NOISE).map_err(|e| format!("Noise: {e}"))
}

/// Hidden layer widths, comma separated: 1 to 4 layers of 1 to 64 units.
pub fn hidden_sizes(text: &str) -> Result<Vec<usize>, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("Hidden layers: enter at least one width, e.g. 16,16.".into());
    }
    if parts.len() > limits::HIDDEN_LAYERS.max {
        return Err(format!("Hidden layers: at most {} layers.", limits::HIDDEN_LAYERS.max));
    }
    parts
        .into_iter()
        .map(|p| integer_in(p, limits::HIDDEN_WIDTH).map_err(|e| format!("Hidden layers: \u{201c}{p}\u{201d}: {e}")))
        .collect()
}

/// Sequence length: 2 to 200 steps.
pub fn seq_length(text: &str) -> Result<usize, String> {
    integer_in(text, limits::SEQ_LENGTH).map_err(|e| format!("Length: {e}"))
}

/// Hidden units of a recurrent network: 4 to 128.
pub fn rnn_hidden(text: &str) -> Result<usize, String> {
    integer_in(text, limits::RNN_HIDDEN).map_err(|e| format!("Hidden size: {e}"))
}

/// Gradient clipping threshold: 0 (off) to 1000.
pub fn clip(text: &str) -> Result<f32, String> {
    float_in(text, limits::CLIP_NORM).map_err(|e| format!("Clipping: {e}"))
}

/// Digits per reverse or sort string: 2 to 16.
pub fn digit_length(text: &str) -> Result<usize, String> {
    integer_in(text, limits::DIGIT_LENGTH).map_err(|e| format!("Digits: {e}"))
}

/// The Transformer's width d: 8 to 128.
pub fn d_model(text: &str) -> Result<usize, String> {
    integer_in(text, limits::D_MODEL).map_err(|e| format!("Model width: {e}"))
}

/// Attention heads: 1 to 8, and they must divide the width `d_model`.
pub fn heads(text: &str, d_model: usize) -> Result<usize, String> {
    let heads = integer_in(text, limits::HEADS).map_err(|e| format!("Heads: {e}"))?;
    if !d_model.is_multiple_of(heads) {
        return Err(format!(
            "Heads: {heads} does not divide the model width {d_model}; each head gets width / heads features"
        ));
    }
    Ok(heads)
}

/// Transformer layers: 1 to 3.
pub fn layers(text: &str) -> Result<usize, String> {
    integer_in(text, limits::LAYERS).map_err(|e| format!("Layers: {e}"))
}

/// Hidden sizes as the fields and URLs write them: `16,16`.
pub fn diffusion_steps(text: &str) -> Result<usize, String> {
    integer_in(text, limits::DIFFUSION_STEPS).map_err(|e| format!("Timesteps T: {e}"))
}

/// DDIM's steps: within their limits and at most the schedule's T.
pub fn ddim_steps(text: &str, steps: usize) -> Result<usize, String> {
    let v = integer_in(text, limits::DDIM_STEPS).map_err(|e| format!("DDIM steps: {e}"))?;
    if v > steps {
        return Err(format!("DDIM steps: at most T ({steps}), got {v}"));
    }
    Ok(v)
}

pub fn eta(text: &str) -> Result<f32, String> {
    float_in(text, limits::DDIM_ETA).map_err(|e| format!("Eta: {e}"))
}

pub fn denoiser_width(text: &str) -> Result<usize, String> {
    integer_in(text, limits::DENOISER_WIDTH).map_err(|e| format!("Width: {e}"))
}

pub fn denoiser_layers(text: &str) -> Result<usize, String> {
    integer_in(text, limits::DENOISER_LAYERS).map_err(|e| format!("Hidden layers: {e}"))
}

pub fn format_hidden(sizes: &[usize]) -> String {
    sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_must_be_positive_and_sane() {
        assert_eq!(learning_rate("0.01"), Ok(0.01));
        assert_eq!(learning_rate(" 1e-3 "), Ok(0.001));
        assert!(learning_rate("-0.1").unwrap_err().contains("greater than 0"));
        assert!(learning_rate("0").is_err());
        assert!(learning_rate("2e6").is_err());
        assert_eq!(learning_rate("1e6"), Ok(1e6));
        assert!(learning_rate("abc").unwrap_err().contains("not a number"));
        assert!(learning_rate("").is_err());
        assert!(learning_rate("NaN").is_err());
        assert!(learning_rate("inf").is_err());
    }

    #[test]
    fn batch_size_is_a_positive_whole_number() {
        assert_eq!(batch_size("32"), Ok(32));
        assert!(batch_size("0").unwrap_err().contains("at least 1"));
        assert!(batch_size("2.5").unwrap_err().contains("whole"));
        assert!(batch_size("100000").is_err());
    }

    #[test]
    fn seed_is_a_whole_number_that_javascript_can_hold() {
        assert_eq!(seed("0"), Ok(0));
        assert_eq!(seed("9007199254740991"), Ok(MAX_SEED));
        assert!(seed("9007199254740993").is_err());
        assert!(seed("banana").unwrap_err().contains("not a number"));
        assert!(seed("-1").is_err());
    }

    #[test]
    fn hidden_sizes_parse_and_format() {
        assert_eq!(hidden_sizes("16, 8"), Ok(vec![16, 8]));
        assert_eq!(hidden_sizes("4,"), Ok(vec![4]));
        assert!(hidden_sizes("").is_err());
        assert!(hidden_sizes("0").is_err());
        assert!(hidden_sizes("1,2,3,4,5").is_err());
        assert!(hidden_sizes("65").is_err());
        assert_eq!(format_hidden(&[16, 8]), "16,8");
    }

    #[test]
    fn the_page_accepts_exactly_what_the_core_accepts() {
        let max = limits::BATCH_SIZE.max;
        assert_eq!(batch_size(&max.to_string()), Ok(max));
        assert!(batch_size(&(max + 1).to_string()).is_err());
        assert_eq!(float_in("10", limits::LEARNING_RATE), Ok(10.0));
        assert!(float_in("0", limits::LEARNING_RATE).is_err());
        assert!(float_in("10.5", limits::LEARNING_RATE).is_err());
        assert!(float_in("0.999", limits::MOMENTUM).is_ok() && float_in("1", limits::MOMENTUM).is_err());
    }

    #[test]
    fn hints_come_from_the_same_ranges() {
        assert_eq!(range_hint(limits::BATCH_SIZE), "1 to 512");
        assert_eq!(range_hint(limits::NOISE), "0 to 1");
    }

    #[test]
    fn noise_in_unit_range() {
        assert_eq!(noise("0"), Ok(0.0));
        assert!(noise("1.5").is_err());
    }
}
