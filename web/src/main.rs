//! The page: mounts the app and drops the loading screen.

fn main() {
    deepplay_web::start();
}
