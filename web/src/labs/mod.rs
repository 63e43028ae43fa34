//! Every lab, one folder each: its page, its trainer (the worker's side)
//! and its protocol (what the two send each other). The index, the
//! navigation, the routes, each page's title and the worker all read the
//! registry at the bottom of this file: adding a lab is adding its folder
//! and one line there (see "Adding a lab" in the README).

use leptos::prelude::AnyView;

use crate::worker::lab::LabFactory;
use crate::worker::protocol::LabProtocol;

/// What the index and the navigation say about a lab.
#[derive(Clone, Copy, Debug)]
pub struct LabInfo {
    /// The route, without the leading slash.
    pub slug: &'static str,
    pub title: &'static str,
    /// A word or two for the navigation bar.
    pub short_title: &'static str,
    /// The model, in a few words.
    pub model: &'static str,
    /// What the visitor sees and does.
    pub summary: &'static str,
}

/// A lab, as its folder's `mod.rs` declares it.
pub trait LabEntry {
    const INFO: LabInfo;
    type Protocol: LabProtocol;
    /// The worker's side.
    type Trainer: crate::worker::lab::Lab<Protocol = Self::Protocol>;
    /// The page at `/{slug}`.
    fn page() -> AnyView;
}

/// Registers the labs: declares each folder's module and writes the three
/// lookups below from one list, so that page and worker cannot disagree.
/// Each lookup names only its side's code, so the worker's binary carries
/// no page and the page's carries no trainer.
macro_rules! labs {
    ($($folder:ident :: $entry:ident),+ $(,)?) => {
        $(pub mod $folder;)+

        /// The labs that train, in the order the index shows them.
        pub const LIVE: &[LabInfo] = &[$(<$folder::$entry as LabEntry>::INFO),+];

        /// The page of a live lab.
        pub fn page(slug: &str) -> Option<AnyView> {
            $(
                if slug == <$folder::$entry as LabEntry>::INFO.slug {
                    return Some(<$folder::$entry as LabEntry>::page());
                }
            )+
            None
        }

        /// How the worker builds a lab, by the slug its page sends.
        pub fn worker_lab(slug: &str) -> Option<LabFactory> {
            $(
                if slug == <<$folder::$entry as LabEntry>::Protocol as LabProtocol>::SLUG {
                    return Some(LabFactory::of::<<$folder::$entry as LabEntry>::Trainer>());
                }
            )+
            None
        }
    };
}

/// The lookup of a lab's own worker binary (web/worker/src/{slug}.rs): it
/// builds that lab and no other, so the binary links no other trainer.
pub fn only<E: LabEntry>(slug: &str) -> Option<LabFactory> {
    (slug == <E::Protocol as LabProtocol>::SLUG).then(LabFactory::of::<E::Trainer>)
}

// The registry: one line per lab.
labs! {
    playground::Playground,
    cnn::Cnn,
    sequences::Sequences,
    attention::Attention,
    diffusion::Diffusion,
    gan::Gan,
    transfer::Transfer,
    detection::Detection,
}

/// Labs whose folder does not exist yet: their route says what is coming.
/// A lab's entry moves from here to the registry when it is built. (Every
/// lab of the design is built; the index and the routes still handle one.)
pub const UPCOMING: &[LabInfo] = &[];

/// A lab by its slug, live or upcoming, and whether it is live.
pub fn find(slug: &str) -> Option<(&'static LabInfo, bool)> {
    LIVE.iter()
        .map(|info| (info, true))
        .chain(UPCOMING.iter().map(|info| (info, false)))
        .find(|(info, _)| info.slug == slug)
}

/// The document title of a lab's page, so tabs and history tell labs apart.
pub fn document_title(info: &LabInfo) -> String {
    format!("{} \u{b7} DeepPlay", info.title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::datasets::DatasetId;

    #[test]
    fn every_design_route_is_listed_once() {
        for slug in [
            "playground",
            "cnn",
            "sequences",
            "attention",
            "diffusion",
            "gan",
            "transfer",
            "detection",
        ] {
            let listed = LIVE.iter().chain(UPCOMING).filter(|l| l.slug == slug).count();
            assert_eq!(listed, 1, "{slug}");
        }
        assert!(find("nope").is_none());
        assert_eq!(find("cnn").map(|(_, live)| live), Some(true));
        assert_eq!(find("transfer").map(|(_, live)| live), Some(true));
        assert_eq!(find("detection").map(|(_, live)| live), Some(true));
    }

    #[test]
    fn every_live_lab_has_a_trainer_under_its_own_slug() {
        for info in LIVE {
            assert!(worker_lab(info.slug).is_some(), "{}", info.slug);
        }
        for info in UPCOMING {
            assert!(worker_lab(info.slug).is_none(), "{}", info.slug);
        }
    }

    /// Each lab's worker is a binary of its own (web/worker/Cargo.toml) that
    /// trunk builds (web/index.html) and the page starts by slug.
    #[test]
    fn every_live_lab_has_its_own_worker_binary() {
        let manifest = include_str!("../../worker/Cargo.toml");
        let html = include_str!("../../index.html");
        for info in LIVE {
            let bin = format!("name = \"worker_{}\"", info.slug);
            assert!(manifest.contains(&bin), "web/worker/Cargo.toml has no [[bin]] {bin}");
            let source = format!("path = \"src/{}.rs\"", info.slug);
            assert!(manifest.contains(&source), "web/worker/Cargo.toml: {source}");
            let link = format!("data-bin=\"worker_{}\" data-type=\"worker\"", info.slug);
            assert!(html.contains(&link), "web/index.html has no {link}");
            assert_eq!(
                crate::worker::client::worker_script(info.slug),
                format!("./worker_{}_loader.js", info.slug)
            );
        }
        for info in UPCOMING {
            assert!(!manifest.contains(&format!("worker_{}\"", info.slug)), "{}", info.slug);
        }
    }

    #[test]
    fn a_lab_worker_builds_only_its_own_lab() {
        assert!(only::<cnn::Cnn>("cnn").is_some());
        assert!(only::<cnn::Cnn>("playground").is_none());
        assert!(only::<playground::Playground>("playground").is_some());
    }

    /// Only the factory of a lab that lists a dataset carries the fetch, so
    /// the other labs' workers do not link it (nor gunzip).
    #[test]
    fn only_labs_with_datasets_carry_the_fetch() {
        for info in LIVE {
            let factory = worker_lab(info.slug).unwrap();
            let listed = factory.datasets.map(|needs| needs.ids.to_vec()).unwrap_or_default();
            let expected = match info.slug {
                "cnn" => vec![DatasetId::Mnist],
                "transfer" => vec![DatasetId::Mnist, DatasetId::PretrainedCnn],
                _ => vec![],
            };
            assert_eq!(listed, expected, "{}", info.slug);
        }
    }

    #[test]
    fn titles_tell_labs_apart() {
        let titles: Vec<String> = LIVE.iter().chain(UPCOMING).map(document_title).collect();
        for (i, t) in titles.iter().enumerate() {
            assert!(!titles[i + 1..].contains(t), "{t} twice");
        }
        assert_eq!(
            document_title(&find("cnn").unwrap().0.clone()),
            "Convolutional network \u{b7} DeepPlay"
        );
    }
}
