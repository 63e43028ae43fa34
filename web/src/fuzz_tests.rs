//! The page's readers of outside input on a few thousand random and
//! mutated inputs from the seeded RNG: every lab's URL query (the address
//! bar is anyone's to type), drawn points in the URL, pictures the Transfer
//! lab takes (any size, any bytes), and the messages between page and
//! worker. Each returns a value or an error; none panics. Native; in
//! `make test`.

use deepplay_core::Rng;

use crate::url_state::{decode_points, encode_points, parse_query};

const CASES: usize = 3000;

/// Text from the characters a URL query is made of, and some it should not hold.
fn random_text(rng: &mut Rng, max: usize) -> String {
    const ALPHABET: &[char] = &[
        'a',
        'z',
        'A',
        '0',
        '1',
        '9',
        '.',
        '-',
        '+',
        'e',
        'E',
        '=',
        '&',
        '%',
        '2',
        'F',
        ',',
        ';',
        '~',
        ' ',
        '\u{e9}',
        '\u{1f600}',
        '\0',
        'n',
        'i',
        'f',
        '_',
        '/',
        '?',
        '#',
    ];
    (0..rng.below(max + 1))
        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
        .collect()
}

/// A query that looks like a lab's own: its keys with random values, or noise.
fn random_query(rng: &mut Rng) -> String {
    const KEYS: &[&str] = &[
        "seed", "speed", "lr", "batch", "w", "box", "conf", "nms", "data", "pts", "loss", "z", "k", "gp", "gw", "dw",
        "glr", "dlr", "task", "n", "f0", "f1", "aug", "len", "hidden", "clip", "d", "heads", "layers", "pe", "steps",
        "schedule", "sampler", "eta", "act", "opt", "noise", "c1", "c2", "k1", "k2",
    ];
    if rng.below(4) == 0 {
        return random_text(rng, 80);
    }
    (0..rng.below(8))
        .map(|_| format!("{}={}", KEYS[rng.below(KEYS.len())], random_text(rng, 12)))
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn every_lab_reads_any_query_without_panicking() {
    let mut rng = Rng::new(11);
    for _ in 0..CASES {
        let pairs = parse_query(&random_query(&mut rng));
        let _ = crate::labs::playground::page::config_from_query(&pairs);
        let _ = crate::labs::cnn::query::settings_from_query(&pairs);
        let _ = crate::labs::sequences::page::config_from_query(&pairs);
        let _ = crate::labs::attention::page::config_from_query(&pairs);
        let _ = crate::labs::diffusion::page::config_from_query(&pairs);
        let _ = crate::labs::gan::page::config_from_query(&pairs);
        let _ = crate::labs::transfer::page::config_from_query(&pairs);
        let (config, _) = crate::labs::detection::page::config_from_query(&pairs);
        // What the page accepts, the trainer accepts.
        assert!(
            crate::labs::detection::trainer::validate(&config.settings).is_ok(),
            "{pairs:?}"
        );
    }
}

#[test]
fn drawn_points_in_the_url_decode_or_are_refused() {
    let mut rng = Rng::new(12);
    let valid = encode_points(&[[0.5, -1.25], [2.0, 0.0], [-2.9, 2.9]]);
    assert_eq!(decode_points(&valid).map(|p| p.len()), Some(3));
    for _ in 0..CASES {
        let mut text: Vec<char> = valid.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(text.len());
            text[at] = random_text(&mut rng, 1).chars().next().unwrap_or('x');
        }
        let mutated: String = text.into_iter().collect();
        if let Some(points) = decode_points(&mutated) {
            assert!(points.iter().flatten().all(|v| v.is_finite()), "{mutated}: {points:?}");
        }
        let _ = decode_points(&random_text(&mut rng, 40));
    }
}

#[test]
fn pictures_of_any_size_and_bytes_become_ink_or_a_message() {
    let mut rng = Rng::new(13);
    for _ in 0..CASES / 10 {
        let (w, h) = (rng.below(70), rng.below(70));
        // Sometimes the buffer does not match the size it claims.
        let len = if rng.below(4) == 0 {
            rng.below(4 * 70 * 70)
        } else {
            4 * w * h
        };
        let rgba: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        if let Ok(ink) = crate::labs::transfer::upload::ink_from_rgba(&rgba, w, h) {
            assert_eq!(ink.len(), 28 * 28);
            assert!(ink.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

#[test]
fn messages_between_page_and_worker_decode_or_are_refused() {
    use crate::worker::protocol::{decode, encode, Command};
    let mut rng = Rng::new(14);
    let valid = encode(&crate::labs::detection::protocol::Hyper::Confidence(0.25));
    for _ in 0..CASES {
        let len = rng.below(48);
        let noise: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        let _ = decode::<Command>(&noise, "command");
        let _ = decode::<crate::labs::gan::protocol::GanSettings>(&noise, "settings");
        let _ = decode::<crate::labs::detection::protocol::Command>(&noise, "command");
        let mut bytes = valid.clone();
        let at = rng.below(bytes.len());
        bytes[at] = rng.below(256) as u8;
        let _ = decode::<crate::labs::detection::protocol::Hyper>(&bytes, "hyper");
    }
}
