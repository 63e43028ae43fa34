//! The CNN lab's page bundle: the shell, the index and this lab's page,
//! nothing of the other labs (see web/site/boot.js).

fn main() {
    deepplay_web::start(deepplay_web::labs::Bundle::of::<deepplay_web::labs::cnn::Cnn>());
}
