//! Boxes, for the Detection lab: intersection over union, the grid head's
//! encoding and decoding (YOLO's one-stage idea: every cell of an S x S grid
//! over the picture predicts whether an object's centre falls in it, where
//! its box is and what it is), non-maximum suppression, and mean average
//! precision at IoU 0.5 (the PASCAL VOC score, all-point interpolated).

use alloc::vec::Vec;

/// An axis-aligned box in pixels: x0 <= x1, y0 <= y1 (left, top, right, bottom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox { x0, y0, x1, y1 }
    }

    /// The box of this size around (cx, cy).
    pub fn centred(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        BBox::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
    }

    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// Intersection over union: 1 for the same box, 0 for boxes that do not
    /// overlap (or have no area).
    pub fn iou(&self, other: &BBox) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// A box the detector reports: its class and confidence in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    pub class: usize,
    pub score: f32,
}

/// An object that is really there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truth {
    pub bbox: BBox,
    pub class: usize,
}

/// Non-maximum suppression, per class: from the most confident down, a box
/// is kept unless it overlaps a kept box of its class by more than
/// `iou_threshold`. The kept boxes, most confident first.
pub fn nms(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    // Stable, so that equal scores keep the order they came in (the grid's).
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::with_capacity(detections.len());
    for d in detections {
        let suppressed = kept
            .iter()
            .any(|k| k.class == d.class && k.bbox.iou(&d.bbox) > iou_threshold);
        if !suppressed {
            kept.push(d);
        }
    }
    kept
}

/// Matches one picture's detections of a class to its objects of that class,
/// most confident first (VOC's rule): a detection is a true positive when
/// the object it overlaps most, by at least `iou_threshold`, is not yet
/// taken. `(score, true positive)` per detection.
fn match_picture(detections: &[Detection], truths: &[Truth], class: usize, iou_threshold: f32) -> Vec<(f32, bool)> {
    let mut mine: Vec<&Detection> = detections.iter().filter(|d| d.class == class).collect();
    mine.sort_by(|a, b| b.score.total_cmp(&a.score));
    let objects: Vec<&Truth> = truths.iter().filter(|t| t.class == class).collect();
    let mut taken = alloc::vec![false; objects.len()];
    mine.iter()
        .map(|d| {
            let best = objects.iter().enumerate().map(|(i, t)| (i, d.bbox.iou(&t.bbox))).fold(
                None,
                |best: Option<(usize, f32)>, (i, iou)| match best {
                    Some((_, b)) if b >= iou => best,
                    _ => Some((i, iou)),
                },
            );
            let hit = match best {
                Some((i, iou)) if iou >= iou_threshold && !taken[i] => {
                    taken[i] = true;
                    true
                }
                _ => false,
            };
            (d.score, hit)
        })
        .collect()
}

/// Average precision of one class over many pictures (`detections[i]` and
/// `truths[i]` are picture i's): the area under the precision-recall curve
/// as the confidence threshold falls, with precision made non-increasing
/// (all-point interpolation, as VOC since 2010). `None` when no picture has
/// an object of the class.
pub fn average_precision(
    detections: &[Vec<Detection>],
    truths: &[Vec<Truth>],
    class: usize,
    iou_threshold: f32,
) -> Option<f32> {
    let total = truths.iter().flatten().filter(|t| t.class == class).count();
    if total == 0 {
        return None;
    }
    let mut matched: Vec<(f32, bool)> = detections
        .iter()
        .zip(truths)
        .flat_map(|(d, t)| match_picture(d, t, class, iou_threshold))
        .collect();
    matched.sort_by(|a, b| b.0.total_cmp(&a.0));
    // (recall, precision) after each detection.
    let mut curve = Vec::with_capacity(matched.len());
    let mut hits = 0usize;
    for (i, &(_, hit)) in matched.iter().enumerate() {
        hits += hit as usize;
        curve.push((hits as f32 / total as f32, hits as f32 / (i + 1) as f32));
    }
    // Precision at recall r: the best precision at any recall >= r.
    let mut best = 0.0f32;
    for point in curve.iter_mut().rev() {
        best = best.max(point.1);
        point.1 = best;
    }
    let mut area = 0.0;
    let mut last_recall = 0.0;
    for (recall, precision) in curve {
        area += (recall - last_recall) * precision;
        last_recall = recall;
    }
    Some(area)
}

/// Mean over the classes present of [`average_precision`] (mAP@0.5 with
/// `iou_threshold` 0.5); `None` when there are no objects at all.
pub fn mean_average_precision(
    detections: &[Vec<Detection>],
    truths: &[Vec<Truth>],
    classes: usize,
    iou_threshold: f32,
) -> Option<f32> {
    let aps: Vec<f32> = (0..classes)
        .filter_map(|c| average_precision(detections, truths, c, iou_threshold))
        .collect();
    (!aps.is_empty()).then(|| aps.iter().sum::<f32>() / aps.len() as f32)
}

/// Precision and recall of the detections a threshold keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionRecall {
    pub true_positives: usize,
    pub detections: usize,
    pub objects: usize,
}

impl PrecisionRecall {
    /// The share of detections that are right; 1 when there are none (no
    /// false alarm was raised).
    pub fn precision(&self) -> f32 {
        if self.detections == 0 {
            1.0
        } else {
            self.true_positives as f32 / self.detections as f32
        }
    }

    /// The share of objects found; 1 when there are none.
    pub fn recall(&self) -> f32 {
        if self.objects == 0 {
            1.0
        } else {
            self.true_positives as f32 / self.objects as f32
        }
    }
}

/// Counts, over every class and picture, the detections with a score of at
/// least `confidence` that find an object (IoU at least `iou_threshold`).
pub fn precision_recall(
    detections: &[Vec<Detection>],
    truths: &[Vec<Truth>],
    classes: usize,
    confidence: f32,
    iou_threshold: f32,
) -> PrecisionRecall {
    let mut counts = PrecisionRecall {
        true_positives: 0,
        detections: 0,
        objects: truths.iter().map(Vec::len).sum(),
    };
    for (d, t) in detections.iter().zip(truths) {
        let kept: Vec<Detection> = d.iter().filter(|d| d.score >= confidence).copied().collect();
        counts.detections += kept.len();
        for class in 0..classes {
            counts.true_positives += match_picture(&kept, t, class, iou_threshold)
                .iter()
                .filter(|(_, hit)| *hit)
                .count();
        }
    }
    counts
}

/// The grid head's layout: a `cells` x `cells` grid over a square picture of
/// `image` pixels. Each cell predicts `5 + classes` numbers, channel-major:
/// objectness (a logit), the box centre's x and y within the cell (logits
/// of the fraction), its width and height (log of the size over `anchor`
/// pixels), then one logit per class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub cells: usize,
    pub image: usize,
    pub anchor: f32,
    pub classes: usize,
}

/// Channels of a cell before the class logits.
pub const BOX_CHANNELS: usize = 5;

/// What one cell should predict: where in the cell an object's centre is,
/// its size (as the head encodes it) and its class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellTarget {
    /// The centre's position in the cell, each in [0, 1).
    pub x: f32,
    pub y: f32,
    /// ln(width / anchor), ln(height / anchor).
    pub w: f32,
    pub h: f32,
    pub class: usize,
}

/// One cell's raw prediction, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct CellPrediction {
    pub row: usize,
    pub col: usize,
    /// The probability that an object's centre is in this cell.
    pub objectness: f32,
    /// Softmax of the class logits.
    pub class_probs: Vec<f32>,
    pub bbox: BBox,
}

impl CellPrediction {
    /// The most likely class and the cell's confidence in it (objectness
    /// times the class's probability, as YOLO scores a box).
    pub fn best(&self) -> (usize, f32) {
        let (class, p) =
            self.class_probs.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |best, (i, &p)| if p > best.1 { (i, p) } else { best },
            );
        (class, self.objectness * p)
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Log-size predictions are clamped to this, so that an untrained head's
/// boxes stay within a few pictures' size.
const MAX_LOG_SIZE: f32 = 4.0;

impl Grid {
    pub fn channels(&self) -> usize {
        BOX_CHANNELS + self.classes
    }

    /// Pixels a cell spans.
    pub fn cell_size(&self) -> f32 {
        self.image as f32 / self.cells as f32
    }

    /// Values of one picture's prediction, `[channels, cells, cells]`.
    pub fn len(&self) -> usize {
        self.channels() * self.cells * self.cells
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What each cell (row-major) should predict for these objects: the
    /// cell holding an object's centre answers for it (the last object if
    /// two share a cell, which the lab's scenes never do).
    pub fn targets(&self, objects: &[Truth]) -> Vec<Option<CellTarget>> {
        let mut cells = alloc::vec![None; self.cells * self.cells];
        let size = self.cell_size();
        let last = (self.cells - 1) as f32;
        for t in objects {
            let (cx, cy) = ((t.bbox.x0 + t.bbox.x1) / 2.0, (t.bbox.y0 + t.bbox.y1) / 2.0);
            let (gx, gy) = ((cx / size).clamp(0.0, last), (cy / size).clamp(0.0, last));
            let (col, row) = (gx as usize, gy as usize);
            let log = |v: f32| libm::logf(v.max(1.0) / self.anchor).clamp(-MAX_LOG_SIZE, MAX_LOG_SIZE);
            cells[row * self.cells + col] = Some(CellTarget {
                x: (gx - col as f32).min(0.999),
                y: (gy - row as f32).min(0.999),
                w: log(t.bbox.width()),
                h: log(t.bbox.height()),
                class: t.class,
            });
        }
        cells
    }

    /// Cell (row, col) of one picture's raw prediction `[channels, cells, cells]`.
    pub fn decode_cell(&self, raw: &[f32], row: usize, col: usize) -> CellPrediction {
        let plane = self.cells * self.cells;
        let at = |channel: usize| raw[channel * plane + row * self.cells + col];
        let size = self.cell_size();
        let cx = (col as f32 + sigmoid(at(1))) * size;
        let cy = (row as f32 + sigmoid(at(2))) * size;
        let extent = |v: f32| self.anchor * libm::expf(v.clamp(-MAX_LOG_SIZE, MAX_LOG_SIZE));
        let logits: Vec<f32> = (0..self.classes).map(|k| at(BOX_CHANNELS + k)).collect();
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let exps: Vec<f32> = logits.iter().map(|&v| libm::expf(v - max)).collect();
        let sum: f32 = exps.iter().sum();
        CellPrediction {
            row,
            col,
            objectness: sigmoid(at(0)),
            class_probs: exps.iter().map(|e| e / sum).collect(),
            bbox: BBox::centred(cx, cy, extent(at(3)), extent(at(4))),
        }
    }

    /// Every cell of one picture's raw prediction, row-major.
    pub fn decode(&self, raw: &[f32]) -> Vec<CellPrediction> {
        (0..self.cells)
            .flat_map(|row| (0..self.cells).map(move |col| (row, col)))
            .map(|(row, col)| self.decode_cell(raw, row, col))
            .collect()
    }

    /// The boxes one picture's raw prediction reports: each cell's best
    /// class with a confidence of at least `confidence`, then [`nms`].
    pub fn detect(&self, raw: &[f32], confidence: f32, nms_iou: f32) -> Vec<Detection> {
        let candidates = self
            .decode(raw)
            .into_iter()
            .filter_map(|cell| {
                let (class, score) = cell.best();
                (score >= confidence && score.is_finite()).then_some(Detection {
                    bbox: cell.bbox,
                    class,
                    score,
                })
            })
            .collect();
        nms(candidates, nms_iou)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn det(x0: f32, y0: f32, x1: f32, y1: f32, class: usize, score: f32) -> Detection {
        Detection {
            bbox: BBox::new(x0, y0, x1, y1),
            class,
            score,
        }
    }

    fn truth(x0: f32, y0: f32, x1: f32, y1: f32, class: usize) -> Truth {
        Truth {
            bbox: BBox::new(x0, y0, x1, y1),
            class,
        }
    }

    #[test]
    fn iou_of_hand_made_boxes() {
        let a = BBox::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        // Half of a overlaps b, the same size: 50 / (100 + 100 - 50).
        assert!((a.iou(&BBox::new(5.0, 0.0, 15.0, 10.0)) - 1.0 / 3.0).abs() < 1e-6);
        // A 2x2 box inside a: 4 / 100.
        assert!((a.iou(&BBox::new(4.0, 4.0, 6.0, 6.0)) - 0.04).abs() < 1e-6);
        // Touching edges and far apart: 0.
        assert_eq!(a.iou(&BBox::new(10.0, 0.0, 20.0, 10.0)), 0.0);
        assert_eq!(a.iou(&BBox::new(30.0, 30.0, 40.0, 40.0)), 0.0);
        // A corner overlap: 5x5 = 25 / (100 + 100 - 25).
        assert!((a.iou(&BBox::new(5.0, 5.0, 15.0, 15.0)) - 25.0 / 175.0).abs() < 1e-6);
        // No area: 0, not NaN.
        let point = BBox::new(3.0, 3.0, 3.0, 3.0);
        assert_eq!(point.iou(&point), 0.0);
        assert_eq!(BBox::centred(5.0, 5.0, 10.0, 10.0), a);
    }

    #[test]
    fn nms_keeps_the_best_of_each_overlapping_group_per_class() {
        let boxes = vec![
            det(0.0, 0.0, 10.0, 10.0, 0, 0.8),
            det(1.0, 0.0, 11.0, 10.0, 0, 0.9), // IoU 0.82 with the first: wins
            det(5.0, 0.0, 15.0, 10.0, 0, 0.7), // IoU 0.43 with the winner
            det(1.0, 0.0, 11.0, 10.0, 1, 0.6), // same place, other class: kept
            det(50.0, 50.0, 60.0, 60.0, 0, 0.1),
        ];
        let kept = nms(boxes.clone(), 0.5);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, [0.9, 0.7, 0.6, 0.1]);
        // A stricter threshold suppresses the 0.43 overlap too.
        let scores: Vec<f32> = nms(boxes.clone(), 0.4).iter().map(|d| d.score).collect();
        assert_eq!(scores, [0.9, 0.6, 0.1]);
        // Threshold 1: nothing is suppressed; 0: any overlap is.
        assert_eq!(nms(boxes.clone(), 1.0).len(), 5);
        assert_eq!(nms(boxes, 0.0).len(), 3);
        assert!(nms(Vec::new(), 0.5).is_empty());
    }

    /// Worked by hand. Class 0 has 3 objects over two pictures; its five
    /// detections, most confident first, are: hit, miss (IoU 1/3), hit,
    /// duplicate of a found object (a miss), hit. Precision after each:
    /// 1, 1/2, 2/3, 2/4, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1. Made
    /// non-increasing from the right: 1, 2/3, 2/3, 3/5, 3/5. Area:
    /// 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5 = 0.7556. Class 1: one object found
    /// by the only detection: AP 1. Class 2 has no objects: left out.
    /// mAP = (0.7556 + 1) / 2.
    #[test]
    fn map_of_a_case_worked_by_hand() {
        let truths = vec![
            vec![truth(0.0, 0.0, 10.0, 10.0, 0), truth(20.0, 20.0, 30.0, 30.0, 0)],
            vec![truth(0.0, 0.0, 10.0, 10.0, 0), truth(40.0, 40.0, 50.0, 50.0, 1)],
        ];
        let detections = vec![
            vec![
                det(0.0, 0.0, 10.0, 10.0, 0, 0.95),   // hit
                det(25.0, 20.0, 35.0, 30.0, 0, 0.9),  // IoU 1/3 with the second: miss
                det(0.5, 0.0, 10.5, 10.0, 0, 0.6),    // the first again: duplicate
                det(20.0, 21.0, 30.0, 31.0, 0, 0.5),  // IoU 0.82: hit
                det(40.0, 40.0, 50.0, 50.0, 2, 0.99), // a class with no objects
            ],
            vec![det(1.0, 1.0, 11.0, 11.0, 0, 0.8), det(40.0, 40.0, 50.0, 50.0, 1, 0.7)],
        ];
        let ap0 = average_precision(&detections, &truths, 0, 0.5).unwrap();
        let expected0 = 1.0 / 3.0 + (1.0 / 3.0) * (2.0 / 3.0) + (1.0 / 3.0) * (3.0 / 5.0);
        assert!((ap0 - expected0).abs() < 1e-6, "{ap0} vs {expected0}");
        assert_eq!(average_precision(&detections, &truths, 1, 0.5), Some(1.0));
        assert_eq!(average_precision(&detections, &truths, 2, 0.5), None);
        let map = mean_average_precision(&detections, &truths, 3, 0.5).unwrap();
        assert!((map - (expected0 + 1.0) / 2.0).abs() < 1e-6);
        // Perfect detections score 1; none score 0.
        let perfect: Vec<Vec<Detection>> = truths
            .iter()
            .map(|t| {
                t.iter()
                    .map(|t| Detection {
                        bbox: t.bbox,
                        class: t.class,
                        score: 1.0,
                    })
                    .collect()
            })
            .collect();
        assert_eq!(mean_average_precision(&perfect, &truths, 3, 0.5), Some(1.0));
        assert_eq!(mean_average_precision(&[vec![], vec![]], &truths, 3, 0.5), Some(0.0));
        assert_eq!(mean_average_precision(&[vec![]], &[vec![]], 3, 0.5), None);

        // At confidence 0.75: 4 detections kept (0.95, 0.9, 0.99, 0.8), of
        // which 2 are hits (0.95 and 0.8), out of 4 objects.
        let pr = precision_recall(&detections, &truths, 3, 0.75, 0.5);
        assert_eq!((pr.true_positives, pr.detections, pr.objects), (2, 4, 4));
        assert_eq!((pr.precision(), pr.recall()), (0.5, 0.5));
    }

    #[test]
    fn the_grid_encodes_and_decodes_a_box() {
        let grid = Grid {
            cells: 8,
            image: 64,
            anchor: 16.0,
            classes: 3,
        };
        let object = truth(20.0, 34.0, 32.0, 52.0, 2); // centre (26, 43): cell row 5, col 3
        let targets = grid.targets(&[object]);
        let (index, target) = targets.iter().enumerate().find_map(|(i, t)| t.map(|t| (i, t))).unwrap();
        assert_eq!(index, 5 * 8 + 3);
        assert!((target.x - 0.25).abs() < 1e-6 && (target.y - 0.375).abs() < 1e-6);
        assert!((target.w - libm::logf(12.0 / 16.0)).abs() < 1e-6 && target.class == 2);
        assert_eq!(targets.iter().filter(|t| t.is_some()).count(), 1);

        // A raw prediction that says exactly that decodes to the box.
        let logit = |p: f32| libm::logf(p / (1.0 - p));
        let mut raw = vec![-6.0f32; grid.len()];
        let plane = 64;
        let at = |c: usize| c * plane + index;
        raw[at(0)] = 3.0;
        raw[at(1)] = logit(target.x);
        raw[at(2)] = logit(target.y);
        raw[at(3)] = target.w;
        raw[at(4)] = target.h;
        raw[at(5)] = 0.0;
        raw[at(6)] = 0.0;
        raw[at(7)] = 4.0;
        let cell = grid.decode_cell(&raw, 5, 3);
        assert!(cell.bbox.iou(&object.bbox) > 0.999, "{:?}", cell.bbox);
        let (class, score) = cell.best();
        assert_eq!(class, 2);
        assert!((score - sigmoid(3.0) * cell.class_probs[2]).abs() < 1e-6);
        let found = grid.detect(&raw, 0.5, 0.5);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class, 2);
        // Nothing above the threshold: no boxes, not an error.
        assert!(grid.detect(&raw, 0.99, 0.5).is_empty());
        assert_eq!(grid.decode(&raw).len(), 64);
    }
}
