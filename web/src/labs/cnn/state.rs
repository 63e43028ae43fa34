//! What the CNN page shows, as plain data, and the one function that
//! brings it up to date from a worker snapshot: tested natively, without
//! a browser.

use super::protocol::{metrics, tensors};
use crate::components::History;
use crate::draw::{ink_image, RgbaImage};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// Points kept in the loss chart.
pub const HISTORY_CAPACITY: usize = 1500;

/// A test-split measurement: the accuracy and the step it was made at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestAccuracy {
    pub accuracy: f32,
    pub step: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CnnView {
    pub step: u64,
    pub loss: f32,
    pub steps_per_second: f32,
    /// What the worker is busy with (loading MNIST), with its progress.
    pub status: Option<(String, Option<f32>)>,
    /// Why training stopped, from the worker.
    pub error: Option<String>,
    pub loss_history: History,
    /// `(step, accuracy)` of every test pass of this run.
    pub accuracy_history: Vec<(f64, f64)>,
    pub test_accuracy: Option<TestAccuracy>,
    pub test_size: Option<u64>,
    pub kernels1: Option<NamedTensor>,
    pub kernels2: Option<NamedTensor>,
    /// The probe digit's maps after each layer, in order.
    pub maps: Vec<(String, NamedTensor)>,
    pub probe_input: Option<NamedTensor>,
    pub probe_label: Option<usize>,
    pub probe_probs: Option<Vec<f32>>,
    /// Row-major counts, rows the true digit.
    pub confusion: Option<Vec<f32>>,
    /// Misclassified test digits, captioned "true -> predicted".
    pub mistakes: Vec<(String, RgbaImage)>,
}

impl Default for CnnView {
    fn default() -> Self {
        Self {
            step: 0,
            loss: f32::NAN,
            steps_per_second: 0.0,
            status: Some(("Starting the training worker\u{2026}".into(), None)),
            error: None,
            loss_history: History::new(HISTORY_CAPACITY),
            accuracy_history: Vec::new(),
            test_accuracy: None,
            test_size: None,
            kernels1: None,
            kernels2: None,
            maps: Vec::new(),
            probe_input: None,
            probe_label: None,
            probe_probs: None,
            confusion: None,
            mistakes: Vec::new(),
        }
    }
}

impl CnnView {
    /// Takes in a snapshot. A fresh run clears what belonged to the last
    /// one; tensors a snapshot does not carry keep their last value.
    pub fn apply(&mut self, s: &Snapshot) {
        if s.fresh_run {
            self.loss_history.clear();
            self.accuracy_history.clear();
            self.test_accuracy = None;
            self.confusion = None;
            self.mistakes.clear();
        }
        self.status = s.status.as_ref().map(|st| (st.text.clone(), st.progress));
        self.error = s.error.clone();
        self.step = s.step;
        self.loss = s.loss();
        self.steps_per_second = s.steps_per_second;
        if let Some(series) = s.series("loss") {
            for &(x, y) in &series.new_points {
                self.loss_history.push(x as f64, f64::from(y));
            }
        }
        if let Some(n) = s.integer(metrics::TEST_SIZE) {
            self.test_size = Some(n);
        }
        if let (Some(accuracy), Some(step)) = (s.metric(metrics::TEST_ACCURACY), s.integer(metrics::TEST_STEP)) {
            self.test_accuracy = Some(TestAccuracy { accuracy, step });
            // One point per measured step; a pass made again at the same
            // step (pausing twice) replaces nothing.
            if self.accuracy_history.last().is_none_or(|&(x, _)| x < step as f64) {
                self.accuracy_history.push((step as f64, f64::from(accuracy)));
            }
        }
        if let Some(t) = s.tensor(tensors::CONV1_WEIGHT) {
            self.kernels1 = Some(t.clone());
        }
        if let Some(t) = s.tensor(tensors::CONV2_WEIGHT) {
            self.kernels2 = Some(t.clone());
        }
        let maps: Vec<(String, NamedTensor)> = tensors::FEATURE_MAPS
            .iter()
            .filter_map(|n| s.tensor(n).map(|t| (n.to_string(), t.clone())))
            .collect();
        if !maps.is_empty() {
            self.maps = maps;
        }
        if let Some(t) = s.tensor(tensors::PROBE_INPUT) {
            self.probe_input = Some(t.clone());
        }
        if let Some(label) = s.integer(metrics::PROBE_LABEL) {
            self.probe_label = Some(label as usize);
        }
        if let Some(t) = s.tensor(tensors::PROBE_PROBS) {
            self.probe_probs = Some(t.data.clone());
        }
        if let Some(t) = s.tensor(tensors::CONFUSION) {
            self.confusion = Some(t.data.clone());
        }
        if let (Some(images), Some(predicted), Some(truth)) = (
            s.tensor(tensors::MISTAKES),
            s.tensor(tensors::MISTAKES_PREDICTED),
            s.tensor(tensors::MISTAKES_TRUE),
        ) {
            self.mistakes = images
                .data
                .chunks_exact(28 * 28)
                .zip(predicted.data.iter().zip(&truth.data))
                .map(|(image, (&p, &t))| {
                    (
                        format!("{} \u{2192} {}", t as usize, p as usize),
                        ink_image(image, 28, 28),
                    )
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::LossSeries;

    fn snapshot(step: u64, accuracy: Option<(f32, u64)>) -> Snapshot {
        let mut s = Snapshot {
            step,
            losses: vec![LossSeries {
                name: "loss".into(),
                latest: 0.5,
                new_points: vec![(step, 0.5)],
            }],
            integers: vec![(metrics::TEST_SIZE.into(), 2000)],
            ..Snapshot::default()
        };
        if let Some((a, at)) = accuracy {
            s.metrics.push((metrics::TEST_ACCURACY.into(), a));
            s.integers.push((metrics::TEST_STEP.into(), at));
        }
        s
    }

    #[test]
    fn snapshots_fill_the_view_and_a_fresh_run_clears_it() {
        let mut view = CnnView::default();
        view.apply(&snapshot(1, Some((0.1, 0))));
        let mut s = snapshot(2, Some((0.9, 2)));
        s.tensors = vec![
            NamedTensor::new(tensors::CONFUSION, vec![2, 2], vec![3.0, 1.0, 0.0, 4.0]),
            NamedTensor::new(tensors::MISTAKES, vec![1, 28, 28], vec![0.5; 784]),
            NamedTensor::new(tensors::MISTAKES_PREDICTED, vec![1], vec![7.0]),
            NamedTensor::new(tensors::MISTAKES_TRUE, vec![1], vec![1.0]),
            NamedTensor::new("conv1", vec![1, 2, 2], vec![0.0; 4]),
        ];
        s.integers.push((metrics::PROBE_LABEL.into(), 3));
        view.apply(&s);
        assert_eq!(view.step, 2);
        assert_eq!(view.loss_history.len(), 2);
        assert_eq!(view.test_accuracy, Some(TestAccuracy { accuracy: 0.9, step: 2 }));
        assert_eq!(view.accuracy_history, vec![(0.0, 0.1f32 as f64), (2.0, 0.9f32 as f64)]);
        assert_eq!(view.test_size, Some(2000));
        assert_eq!(view.mistakes.len(), 1);
        assert_eq!(view.mistakes[0].0, "1 \u{2192} 7");
        assert_eq!(view.maps.len(), 1);
        assert_eq!(view.probe_label, Some(3));
        assert!(view.status.is_none());

        // The same measurement again adds no point; a light snapshot keeps the tensors.
        view.apply(&snapshot(3, Some((0.9, 2))));
        assert_eq!(view.accuracy_history.len(), 2);
        assert!(view.confusion.is_some() && view.maps.len() == 1);

        let mut fresh = snapshot(0, None);
        fresh.fresh_run = true;
        fresh.losses[0].new_points.clear();
        view.apply(&fresh);
        assert!(view.loss_history.is_empty() && view.accuracy_history.is_empty());
        assert!(view.test_accuracy.is_none() && view.confusion.is_none() && view.mistakes.is_empty());
    }

    #[test]
    fn errors_and_status_follow_the_worker() {
        let mut view = CnnView::default();
        let mut s = Snapshot {
            error: Some("diverged".into()),
            ..Snapshot::default()
        };
        view.apply(&s);
        assert_eq!(view.error.as_deref(), Some("diverged"));
        assert!(view.loss.is_nan());
        s.error = None;
        s.status = Some(crate::worker::protocol::Status {
            text: "Loading".into(),
            progress: Some(0.5),
        });
        view.apply(&s);
        assert_eq!(view.error, None);
        assert_eq!(view.status, Some(("Loading".into(), Some(0.5))));
    }
}
