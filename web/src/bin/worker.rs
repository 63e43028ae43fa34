//! The training Web Worker (trunk builds it with `data-type="worker"`).

fn main() {
    deepplay_web::worker::runtime::start();
}
