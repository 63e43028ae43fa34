//! Widgets every lab reuses.

pub mod attention_map;
pub mod canvas;
pub mod controls;
pub mod draw_pad;
pub mod heatmap;
pub mod image_grid;
pub mod keyboard;
pub mod line_chart;
pub mod point_cloud;
pub mod points_panel;
pub mod time_heatmap;
pub mod weights;

pub use attention_map::{AttentionMap, AttentionWeights};
pub use controls::{random_seed, ErrorBanner, SelectField, Stat, TextField, TrainControls};
pub use draw_pad::DrawPad;
pub use heatmap::{Dot, Heatmap};
pub use image_grid::ImageGrid;
pub use line_chart::{
    append_named, loss_series, named_loss_series, palette_color, History, LineChart, Series, PALETTE,
};
pub use point_cloud::PointCloud;
pub use points_panel::PointsPanel;
pub use time_heatmap::{TimeHeatmap, TimeMatrix, TimeScale};
pub use weights::{download, read_chosen_file, take_chosen_file, WeightsControls};
