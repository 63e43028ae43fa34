//! Scenes for the Detection lab: 64x64 colour pictures of 1 to 4 shapes
//! (circles, squares, triangles) of random size, position and colour on a
//! noisy background, each with its box and class. Made from the seeded RNG,
//! so a seed names a scene; the lab trains on an endless stream of them.
//!
//! Objects never overlap (a scene draws positions until they fit), so every
//! object is seen whole and no two objects' centres share a cell of the
//! detector's 8x8 grid: one box per cell is enough.

use crate::detection::BBox;
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;

/// Pixels a side.
pub const SCENE_SIZE: usize = 64;
/// Red, green, blue.
pub const CHANNELS: usize = 3;
/// Values of one scene's image, channel-major `[3, 64, 64]`.
pub const SCENE_LEN: usize = CHANNELS * SCENE_SIZE * SCENE_SIZE;
/// An object's box is from this...
pub const MIN_OBJECT: f32 = 10.0;
/// ...to this many pixels a side.
pub const MAX_OBJECT: f32 = 22.0;
/// Objects per generated scene: from 1 to this many.
pub const MAX_OBJECTS: usize = 4;
/// Standard deviation of the pixel noise over the whole picture (uniform).
pub const NOISE: f32 = 0.06;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
}

impl Shape {
    /// In class order: a shape's class is its index here.
    pub const ALL: [Shape; 3] = [Shape::Circle, Shape::Square, Shape::Triangle];

    pub fn class(self) -> usize {
        self as usize
    }

    pub fn from_class(class: usize) -> Option<Shape> {
        Shape::ALL.get(class).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
        }
    }
}

/// One shape in a scene: its centre and size in pixels and its colour
/// (red, green, blue in [0, 1]). Its box is a square of `size` around the
/// centre; the triangle points up, its base on the box's bottom edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SceneObject {
    pub shape: Shape,
    pub cx: f32,
    pub cy: f32,
    pub size: f32,
    pub colour: [f32; 3],
}

impl SceneObject {
    pub fn bbox(&self) -> BBox {
        let half = self.size / 2.0;
        BBox::new(self.cx - half, self.cy - half, self.cx + half, self.cy + half)
    }

    /// Whether the point (x, y), in pixels, is inside the shape.
    fn covers(&self, x: f32, y: f32) -> bool {
        let half = self.size / 2.0;
        let (dx, dy) = (x - self.cx, y - self.cy);
        match self.shape {
            Shape::Square => dx.abs() <= half && dy.abs() <= half,
            Shape::Circle => dx * dx + dy * dy <= half * half,
            // Apex at the top centre, base along the bottom: at height dy
            // (from -half at the apex to +half at the base) the triangle is
            // (dy + half) / 2 wide on each side.
            Shape::Triangle => dy.abs() <= half && dx.abs() <= (dy + half) / 2.0,
        }
    }
}

/// A picture and what is in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// `[3, 64, 64]`, channel-major, values in [0, 1].
    pub image: Vec<f32>,
    pub objects: Vec<SceneObject>,
}

/// A random colour bright enough to stand out from the dark background: one
/// channel near full, the others anywhere.
fn bright_colour(rng: &mut Rng) -> [f32; 3] {
    let mut colour = [
        rng.uniform_range(0.2, 1.0),
        rng.uniform_range(0.2, 1.0),
        rng.uniform_range(0.2, 1.0),
    ];
    colour[rng.below(3)] = rng.uniform_range(0.85, 1.0);
    colour
}

/// Whether two boxes keep at least a pixel between them.
fn apart(a: &BBox, b: &BBox) -> bool {
    a.x1 + 1.0 <= b.x0 || b.x1 + 1.0 <= a.x0 || a.y1 + 1.0 <= b.y0 || b.y1 + 1.0 <= a.y0
}

/// Up to `count` objects that fit the picture without touching: each is
/// drawn afresh until it fits (a few tries), or left out.
pub fn random_objects(count: usize, rng: &mut Rng) -> Vec<SceneObject> {
    let mut objects: Vec<SceneObject> = Vec::with_capacity(count);
    for _ in 0..count {
        for _try in 0..20 {
            let size = rng.uniform_range(MIN_OBJECT, MAX_OBJECT);
            let half = size / 2.0;
            let max = SCENE_SIZE as f32 - half;
            let object = SceneObject {
                shape: Shape::ALL[rng.below(Shape::ALL.len())],
                cx: rng.uniform_range(half, max),
                cy: rng.uniform_range(half, max),
                size,
                colour: bright_colour(rng),
            };
            if objects.iter().all(|o| apart(&o.bbox(), &object.bbox())) {
                objects.push(object);
                break;
            }
        }
    }
    objects
}

/// A scene with 1 to [`MAX_OBJECTS`] random objects.
pub fn random_scene(rng: &mut Rng) -> Scene {
    let count = 1 + rng.below(MAX_OBJECTS);
    let objects = random_objects(count, rng);
    let image = render(&objects, rng);
    Scene { image, objects }
}

/// Draws `objects` over a dark background of a random tint and adds pixel
/// noise (both from `rng`). Each pixel's colour is the share of 4 points in
/// it that a shape covers (smooth edges), later objects over earlier ones.
pub fn render(objects: &[SceneObject], rng: &mut Rng) -> Vec<f32> {
    let n = SCENE_SIZE;
    let background = [
        rng.uniform_range(0.05, 0.35),
        rng.uniform_range(0.05, 0.35),
        rng.uniform_range(0.05, 0.35),
    ];
    let mut image = vec![0.0f32; SCENE_LEN];
    for (c, plane) in image.chunks_mut(n * n).enumerate() {
        plane.fill(background[c]);
    }
    const SUB: [f32; 2] = [0.25, 0.75];
    for object in objects {
        let b = object.bbox();
        let (x0, y0) = (
            libm::floorf(b.x0).max(0.0) as usize,
            libm::floorf(b.y0).max(0.0) as usize,
        );
        let (x1, y1) = (
            (libm::ceilf(b.x1).max(0.0) as usize).min(n),
            (libm::ceilf(b.y1).max(0.0) as usize).min(n),
        );
        for y in y0..y1 {
            for x in x0..x1 {
                let covered = SUB
                    .iter()
                    .flat_map(|&sy| SUB.iter().map(move |&sx| (x as f32 + sx, y as f32 + sy)))
                    .filter(|&(px, py)| object.covers(px, py))
                    .count();
                if covered == 0 {
                    continue;
                }
                let share = covered as f32 / 4.0;
                for c in 0..CHANNELS {
                    let p = &mut image[c * n * n + y * n + x];
                    *p = *p * (1.0 - share) + object.colour[c] * share;
                }
            }
        }
    }
    // Uniform noise of standard deviation NOISE (half-width sqrt(3) NOISE):
    // a quarter of the time Gaussian noise took to draw (it was a fifth of
    // a training step), and the network cannot tell the difference.
    let half_width = NOISE * libm::sqrtf(3.0);
    for p in image.iter_mut() {
        *p = (*p + rng.uniform_range(-half_width, half_width)).clamp(0.0, 1.0);
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_hold_one_to_four_separate_objects_inside_the_picture() {
        let mut rng = Rng::new(1);
        let mut counts = [0usize; MAX_OBJECTS + 1];
        let mut shapes = [0usize; 3];
        for _ in 0..300 {
            let scene = random_scene(&mut rng);
            assert_eq!(scene.image.len(), SCENE_LEN);
            assert!(scene.image.iter().all(|v| (0.0..=1.0).contains(v)));
            assert!((1..=MAX_OBJECTS).contains(&scene.objects.len()));
            counts[scene.objects.len()] += 1;
            for (i, o) in scene.objects.iter().enumerate() {
                shapes[o.shape.class()] += 1;
                let b = o.bbox();
                assert!(b.x0 >= 0.0 && b.y0 >= 0.0 && b.x1 <= 64.0 && b.y1 <= 64.0, "{b:?}");
                assert!((MIN_OBJECT..=MAX_OBJECT).contains(&o.size));
                for other in &scene.objects[i + 1..] {
                    assert!(apart(&b, &other.bbox()));
                    // Centres in different 8-pixel cells.
                    let cell = |o: &SceneObject| ((o.cx / 8.0) as usize, (o.cy / 8.0) as usize);
                    assert_ne!(cell(o), cell(other));
                }
            }
        }
        assert!(counts[1..].iter().all(|&c| c > 40), "{counts:?}");
        assert!(shapes.iter().all(|&c| c > 150), "{shapes:?}");
    }

    #[test]
    fn shapes_are_drawn_where_their_boxes_are() {
        let square = SceneObject {
            shape: Shape::Square,
            cx: 20.0,
            cy: 20.0,
            size: 12.0,
            colour: [1.0, 1.0, 1.0],
        };
        let circle = SceneObject {
            shape: Shape::Circle,
            cx: 45.0,
            ..square
        };
        let triangle = SceneObject {
            shape: Shape::Triangle,
            cy: 45.0,
            ..square
        };
        let image = render(&[square, circle, triangle], &mut Rng::new(2));
        let red = |x: usize, y: usize| image[y * 64 + x];
        // Inside each shape: bright; its box's corners: only the square's.
        assert!(red(20, 20) > 0.7 && red(45, 20) > 0.7 && red(20, 47) > 0.7);
        assert!(red(15, 15) > 0.7, "the square fills its corner");
        assert!(red(40, 15) < 0.6, "the circle does not");
        assert!(
            red(15, 41) < 0.6 && red(20, 44) > 0.7,
            "the triangle: apex at the top centre"
        );
        assert!(red(60, 60) < 0.6, "background");
        // The same seed draws the same picture.
        assert_eq!(image, render(&[square, circle, triangle], &mut Rng::new(2)));
    }
}
