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

/// Registers the labs: declares each folder's module and writes the
/// lookups below from one list, so that page and worker cannot disagree.
/// The list names no page: a page bundle carries only the page of its lab
/// ([`Bundle`]), and a worker only its trainer ([`only`]).
macro_rules! labs {
    ($($folder:ident :: $entry:ident),+ $(,)?) => {
        $(pub mod $folder;)+

        /// The labs that train, in the order the index shows them.
        pub const LIVE: &[LabInfo] = &[$(<$folder::$entry as LabEntry>::INFO),+];

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

/// What one page bundle (web/src/bin/{slug}.rs, `page_{slug}`) shows:
/// the index and the address with nothing at it in every bundle, and the
/// page of at most one lab. `web/site/boot.js` loads the bundle of the address,
/// so a visit downloads one lab's page, not all of them; a link to another
/// lab loads that lab's bundle.
#[derive(Clone, Copy)]
pub struct Bundle {
    lab: Option<(&'static str, PageFn)>,
}

/// A lab's page, as [`LabEntry::page`] makes it.
pub type PageFn = fn() -> AnyView;

impl Bundle {
    /// The index's bundle: no lab page.
    pub const INDEX: Bundle = Bundle { lab: None };

    /// The bundle of one lab.
    pub fn of<E: LabEntry>() -> Bundle {
        Bundle {
            lab: Some((E::INFO.slug, E::page)),
        }
    }

    /// The slug of the lab this bundle carries.
    pub fn lab(&self) -> Option<&'static str> {
        self.lab.map(|(slug, _)| slug)
    }

    /// The page of the lab at `slug`, if this bundle carries it.
    pub fn page(&self, slug: &str) -> Option<AnyView> {
        self.lab.filter(|(s, _)| *s == slug).map(|(_, page)| page())
    }

    /// Whether the app shows `path` itself (a click there changes the page
    /// in place); the browser loads any other path, and with it its bundle.
    pub fn shows(&self, path: &str) -> bool {
        match crate::router::route(path) {
            crate::router::Route::Lab(slug) => match find(&slug) {
                Some((info, true)) => self.lab() == Some(info.slug),
                // A lab not built yet, or no lab: the index bundle's.
                _ => self.lab.is_none(),
            },
            crate::router::Route::Index => true,
            crate::router::Route::NotFound => self.lab.is_none(),
        }
    }
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
    /// trunk builds (web/site/index.html) and the page starts by slug.
    #[test]
    fn every_live_lab_has_its_own_worker_binary() {
        let manifest = include_str!("../../worker/Cargo.toml");
        let html = include_str!("../../site/index.html");
        for info in LIVE {
            let bin = format!("name = \"worker_{}\"", info.slug);
            assert!(manifest.contains(&bin), "web/worker/Cargo.toml has no [[bin]] {bin}");
            let source = format!("path = \"src/{}.rs\"", info.slug);
            assert!(manifest.contains(&source), "web/worker/Cargo.toml: {source}");
            let link = format!("data-bin=\"worker_{}\" data-type=\"worker\"", info.slug);
            assert!(html.contains(&link), "web/site/index.html has no {link}");
            assert_eq!(
                crate::worker::client::worker_script(info.slug),
                format!("./worker_{}_loader.js", info.slug)
            );
        }
        for info in UPCOMING {
            assert!(!manifest.contains(&format!("worker_{}\"", info.slug)), "{}", info.slug);
        }
    }

    /// Each lab's page is a bundle of its own: a binary in web/Cargo.toml
    /// that trunk builds (web/site/index.html) and web/site/boot.js loads by route.
    #[test]
    fn every_live_lab_has_its_own_page_bundle() {
        let manifest = include_str!("../../Cargo.toml");
        let html = include_str!("../../site/index.html");
        let boot = include_str!("../../site/boot.js");
        for slug in LIVE.iter().map(|l| l.slug).chain(["index"]) {
            let bin = format!("name = \"page_{slug}\"");
            assert!(manifest.contains(&bin), "web/Cargo.toml has no [[bin]] {bin}");
            assert!(
                manifest.contains(&format!("path = \"src/bin/{slug}.rs\"")),
                "web/Cargo.toml: src/bin/{slug}.rs"
            );
            let link = format!("data-bin=\"page_{slug}\" data-type=\"worker\"");
            assert!(html.contains(&link), "web/site/index.html has no {link}");
        }
        let listed = boot
            .lines()
            .find_map(|l| l.trim().strip_prefix("const LABS = ["))
            .expect("boot.js lists the labs");
        let slugs: Vec<&str> = LIVE.iter().map(|l| l.slug).collect();
        let quoted: Vec<String> = slugs.iter().map(|s| format!("\"{s}\"")).collect();
        assert_eq!(listed.trim_end_matches("];"), quoted.join(", "), "boot.js's LABS");
    }

    #[test]
    fn a_bundle_shows_the_index_and_its_own_lab_and_leaves_the_rest_to_the_browser() {
        let cnn = Bundle::of::<cnn::Cnn>();
        assert_eq!(cnn.lab(), Some("cnn"));
        for (path, shown) in [
            ("/", true),
            ("/cnn", true),
            ("/cnn/", true),
            ("/gan", false),
            ("/nope", false),
            ("/a/b", false),
        ] {
            assert_eq!(cnn.shows(path), shown, "cnn bundle, {path}");
        }
        for (path, shown) in [("/", true), ("/cnn", false), ("/nope", true), ("/a/b", true)] {
            assert_eq!(Bundle::INDEX.shows(path), shown, "index bundle, {path}");
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
