//! The index's page bundle: the shell, the index and "not found", no lab's
//! page (see web/site/boot.js).

fn main() {
    deepplay_web::start(deepplay_web::labs::Bundle::INDEX);
}
