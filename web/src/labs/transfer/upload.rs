//! Pictures the visitor uploads as examples of a class: checked before
//! anything is decoded, then turned into ink centred like an MNIST digit
//! (dark strokes on a light background, or light on dark, either way).

use deepplay_core::data::mnist::center_like_mnist;

/// Larger files are refused before they are read.
pub const MAX_FILE_BYTES: f64 = 8.0 * 1024.0 * 1024.0;
/// Larger pictures (either side, in pixels) are refused after decoding.
pub const MAX_SIDE: u32 = 8192;
/// Pictures are scaled down to fit this square before their pixels are read.
pub const READ_SIDE: u32 = 112;
/// Less contrast than this between the shape and the background: blank.
const MIN_CONTRAST: f32 = 0.15;

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / (1024.0 * 1024.0))
}

/// Refuses what cannot be a usable picture, before reading it.
pub fn check_file(name: &str, size: f64, mime: &str) -> Result<(), String> {
    if size <= 0.0 {
        return Err(format!("\u{201c}{name}\u{201d} is empty: choose a PNG or JPEG picture."));
    }
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "\u{201c}{name}\u{201d} is {}; pictures up to {} are taken. A small crop of the shape is all the \
             network needs (it sees 28x28 pixels).",
            megabytes(size),
            megabytes(MAX_FILE_BYTES)
        ));
    }
    if !mime.is_empty() && !mime.starts_with("image/") {
        return Err(format!(
            "\u{201c}{name}\u{201d} is not a picture ({mime}): choose a PNG or JPEG."
        ));
    }
    Ok(())
}

/// An RGBA picture `width` x `height` as 784 values of ink in [0, 1],
/// centred like MNIST. The background is whatever the border mostly is;
/// transparent pixels count as background.
pub fn ink_from_rgba(rgba: &[u8], width: usize, height: usize) -> Result<Vec<f32>, String> {
    if width == 0 || height == 0 || rgba.len() != width * height * 4 {
        return Err("This picture has no pixels to read.".into());
    }
    // Brightness over white (a transparent pixel is white).
    let light: Vec<f32> = rgba
        .chunks_exact(4)
        .map(|p| {
            let luma = (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])) / 255.0;
            let alpha = f32::from(p[3]) / 255.0;
            alpha * luma + (1.0 - alpha)
        })
        .collect();
    let border: Vec<f32> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| x == 0 || y == 0 || x + 1 == width || y + 1 == height)
        .map(|(x, y)| light[y * width + x])
        .collect();
    let background = border.iter().sum::<f32>() / border.len() as f32;
    // Ink is how far a pixel is from the background, towards the other end.
    let dark_on_light = background >= 0.5;
    let ink: Vec<f32> = light
        .iter()
        .map(|&v| if dark_on_light { background - v } else { v - background }.max(0.0))
        .collect();
    let peak = ink.iter().copied().fold(0.0f32, f32::max);
    if peak < MIN_CONTRAST {
        return Err(
            "This picture looks blank: no shape stands out from its background. Draw or photograph the shape \
             dark on light (or light on dark)."
                .into(),
        );
    }
    let ink: Vec<f32> = ink.iter().map(|v| (v / peak).clamp(0.0, 1.0)).collect();
    Ok(center_like_mnist(&ink, width, height))
}

/// Decodes an uploaded picture in the browser and hands its ink (or why
/// not) to `done`, exactly once.
#[cfg(target_arch = "wasm32")]
pub fn read_picture(file: web_sys::File, done: impl FnOnce(Result<Vec<f32>, String>) + 'static) {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    if let Err(message) = check_file(&file.name(), file.size(), &file.type_()) {
        done(Err(message));
        return;
    }
    let name = file.name();
    let (Ok(url), Ok(image)) = (
        web_sys::Url::create_object_url_with_blob(&file),
        web_sys::HtmlImageElement::new(),
    ) else {
        done(Err("The browser could not open this file.".into()));
        return;
    };
    type Done = Box<dyn FnOnce(Result<Vec<f32>, String>)>;
    let done: Rc<RefCell<Option<Done>>> = Rc::new(RefCell::new(Some(Box::new(done))));
    let finish = {
        let done = done.clone();
        let url = url.clone();
        move |result| {
            let _ = web_sys::Url::revoke_object_url(&url);
            if let Some(done) = done.borrow_mut().take() {
                done(result);
            }
        }
    };
    let on_load = {
        let image = image.clone();
        let finish = finish.clone();
        let name = name.clone();
        Closure::once_into_js(move || finish(pixels_of(&image, &name)))
    };
    let on_error = Closure::once_into_js(move || {
        finish(Err(format!(
            "\u{201c}{name}\u{201d} is not a picture the browser can read: choose a PNG or JPEG."
        )))
    });
    image.set_onload(Some(on_load.unchecked_ref()));
    image.set_onerror(Some(on_error.unchecked_ref()));
    image.set_src(&url);
}

/// The loaded picture, scaled to fit [`READ_SIDE`], as ink.
#[cfg(target_arch = "wasm32")]
fn pixels_of(image: &web_sys::HtmlImageElement, name: &str) -> Result<Vec<f32>, String> {
    use wasm_bindgen::JsCast;
    let (w, h) = (image.natural_width(), image.natural_height());
    if w == 0 || h == 0 {
        return Err(format!("\u{201c}{name}\u{201d} has no pixels."));
    }
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(format!(
            "\u{201c}{name}\u{201d} is {w}x{h} pixels; pictures up to {MAX_SIDE} pixels a side are taken."
        ));
    }
    let scale = (f64::from(READ_SIDE) / f64::from(w.max(h))).min(1.0);
    let (sw, sh) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    let fail = || "The browser could not read this picture's pixels.".to_string();
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(fail)?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|_| fail())?
        .dyn_into()
        .map_err(|_| fail())?;
    canvas.set_width(sw);
    canvas.set_height(sh);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or_else(fail)?
        .dyn_into()
        .map_err(|_| fail())?;
    ctx.draw_image_with_html_image_element_and_dw_and_dh(image, 0.0, 0.0, f64::from(sw), f64::from(sh))
        .map_err(|_| fail())?;
    let data = ctx
        .get_image_data(0.0, 0.0, f64::from(sw), f64::from(sh))
        .map_err(|_| fail())?
        .data();
    ink_from_rgba(&data, sw as usize, sh as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: usize, h: usize, paint: impl Fn(usize, usize) -> [u8; 4]) -> Vec<u8> {
        (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).flat_map(|(x, y)| paint(x, y)).collect()
    }

    #[test]
    fn files_are_checked_before_they_are_read() {
        assert!(check_file("a.png", 0.0, "image/png").unwrap_err().contains("empty"));
        assert!(check_file("a.png", 9e6, "image/png").unwrap_err().contains("up to 8.0 MB"));
        assert!(check_file("notes.txt", 100.0, "text/plain").unwrap_err().contains("not a picture"));
        assert!(check_file("a.png", 100.0, "image/png").is_ok());
        assert!(check_file("a", 100.0, "").is_ok(), "an unknown type is left to the decoder");
    }

    #[test]
    fn a_dark_stroke_on_white_and_a_light_one_on_black_give_the_same_ink() {
        let stroke = |x: usize, y: usize| (10..30).contains(&x) && (18..22).contains(&y);
        let dark = picture(40, 40, |x, y| if stroke(x, y) { [0, 0, 0, 255] } else { [255, 255, 255, 255] });
        let light = picture(40, 40, |x, y| if stroke(x, y) { [255, 255, 255, 255] } else { [0, 0, 0, 255] });
        let a = ink_from_rgba(&dark, 40, 40).unwrap();
        let b = ink_from_rgba(&light, 40, 40).unwrap();
        assert_eq!(a.len(), 784);
        assert_eq!(a, b);
        assert!(a.iter().copied().fold(0.0f32, f32::max) > 0.9);
        // Transparent background, black stroke: the same shape again.
        let clear = picture(40, 40, |x, y| if stroke(x, y) { [0, 0, 0, 255] } else { [0, 0, 0, 0] });
        assert_eq!(ink_from_rgba(&clear, 40, 40).unwrap(), a);
    }

    #[test]
    fn blank_or_broken_pictures_are_refused() {
        let grey = picture(20, 20, |_, _| [128, 128, 128, 255]);
        assert!(ink_from_rgba(&grey, 20, 20).unwrap_err().contains("blank"));
        assert!(ink_from_rgba(&grey, 21, 20).is_err());
        assert!(ink_from_rgba(&[], 0, 0).is_err());
    }
}
