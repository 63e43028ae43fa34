//! The CNN lab's settings in the URL query, so a link reproduces a run,
//! and the checks of what the visitor types into its fields.

use deepplay_core::limits;

use super::protocol::{CnnSettings, PoolChoice, DEFAULT_SEED};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{OptimizerChoice, Run, SpeedChoice};

/// A CNN lab run: settings and seed (it always trains at full speed).
pub type CnnRun = Run<CnnSettings>;

pub fn default_run() -> CnnRun {
    Run {
        settings: CnnSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// One architecture field: its key in the URL, label, bounds and getter/setter.
pub struct ArchField {
    pub key: &'static str,
    pub label: &'static str,
    pub min: u64,
    pub max: u64,
    pub get: fn(&CnnSettings) -> usize,
    pub set: fn(&mut CnnSettings, usize),
}

pub const ARCH_FIELDS: [ArchField; 7] = [
    ArchField {
        key: "c1",
        label: "Conv 1 filters",
        min: limits::CONV1_FILTERS.min as u64,
        max: limits::CONV1_FILTERS.max as u64,
        get: |s| s.conv1_filters,
        set: |s, v| s.conv1_filters = v,
    },
    ArchField {
        key: "c2",
        label: "Conv 2 filters",
        min: limits::CONV2_FILTERS.min as u64,
        max: limits::CONV2_FILTERS.max as u64,
        get: |s| s.conv2_filters,
        set: |s, v| s.conv2_filters = v,
    },
    ArchField {
        key: "k",
        label: "Kernel size",
        min: limits::KERNEL_SIZE.min as u64,
        max: limits::KERNEL_SIZE.max as u64,
        get: |s| s.kernel,
        set: |s, v| s.kernel = v,
    },
    ArchField {
        key: "s",
        label: "Stride",
        min: limits::STRIDE.min as u64,
        max: limits::STRIDE.max as u64,
        get: |s| s.stride,
        set: |s, v| s.stride = v,
    },
    ArchField {
        key: "p",
        label: "Padding",
        min: limits::PADDING.min as u64,
        max: limits::PADDING.max as u64,
        get: |s| s.padding,
        set: |s, v| s.padding = v,
    },
    ArchField {
        key: "p1",
        label: "Pool 1 size",
        min: limits::POOL_SIZE.min as u64,
        max: limits::POOL_SIZE.max as u64,
        get: |s| s.pool1,
        set: |s, v| s.pool1 = v,
    },
    ArchField {
        key: "p2",
        label: "Pool 2 size",
        min: limits::POOL_SIZE.min as u64,
        max: limits::POOL_SIZE.max as u64,
        get: |s| s.pool2,
        set: |s, v| s.pool2 = v,
    },
];

/// A run from the URL query; invalid values fall back to the defaults.
pub fn settings_from_query(pairs: &[(String, String)]) -> CnnRun {
    let mut run = default_run();
    let get = |key| url_state::get(pairs, key);
    let s = &mut run.settings;
    for field in &ARCH_FIELDS {
        if let Some(Ok(v)) = get(field.key).map(|t| validate::parse_integer(t, field.min, field.max)) {
            (field.set)(s, v as usize);
        }
    }
    if s.cnn_config().layer_shapes().is_err() {
        *s = CnnSettings::default();
    }
    if let Some(pool) = get("pool").and_then(PoolChoice::from_key) {
        s.pool = pool;
    }
    if let Some(o) = get("opt").and_then(OptimizerChoice::from_key) {
        s.optimizer = o;
    }
    if let Some(Ok(v)) = get("lr").map(learning_rate) {
        s.learning_rate = v;
    }
    if let Some(Ok(v)) = get("batch").map(validate::batch_size) {
        s.batch_size = v;
    }
    s.augment = get("aug") == Some("1");
    if let Some(Ok(v)) = get("seed").map(validate::seed) {
        run.seed = v;
    }
    run
}

/// The URL query that reproduces `run`.
pub fn settings_to_query(run: &CnnRun) -> Vec<(&'static str, String)> {
    let s = &run.settings;
    let mut q: Vec<(&'static str, String)> = ARCH_FIELDS.iter().map(|f| (f.key, (f.get)(s).to_string())).collect();
    q.extend([
        ("pool", s.pool.key().to_string()),
        ("opt", s.optimizer.key().to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("aug", if s.augment { "1" } else { "0" }.to_string()),
        ("seed", run.seed.to_string()),
    ]);
    q
}

/// The CNN lab's learning rate: the core's range (positive, at most 10).
pub fn learning_rate(text: &str) -> Result<f32, String> {
    validate::float_in(text, limits::LEARNING_RATE).map_err(|e| format!("Learning rate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_round_trips_settings_and_rejects_impossible_ones() {
        let run = Run {
            settings: CnnSettings {
                conv1_filters: 4,
                kernel: 3,
                padding: 1,
                learning_rate: 0.002,
                augment: true,
                ..CnnSettings::default()
            },
            seed: 9,
            speed: SpeedChoice::Full,
        };
        let query = url_state::encode_query(&settings_to_query(&run));
        assert_eq!(settings_from_query(&url_state::parse_query(&query)), run);
        // A kernel that cannot fit falls back to the default network, seed kept.
        let bad = settings_from_query(&url_state::parse_query("k=9&p=0&p1=4&seed=5"));
        assert_eq!(bad, Run { seed: 5, ..default_run() });
        assert!(learning_rate("-1").is_err() && learning_rate("11").is_err() && learning_rate("0.003").is_ok());
    }
}
