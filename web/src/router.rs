//! The app's routing, without a router crate (leptos_router cost the page
//! about 50 KB gzipped for what fits here): the current path is a signal;
//! a click on a link to this site (any `<a>` in the document, left button,
//! no modifier key) pushes the new address onto the history and sets the
//! signal instead of loading a page; Back and Forward (`popstate`) set it
//! from the address bar. Queries are the pages' own business: they read
//! and replace `location.search` themselves ([`crate::url_state`]).

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, MouseEvent};

/// The address bar's path (`location.pathname`), or `/`.
fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".into())
}

/// Starts following the address: returns the current path, which link
/// clicks and Back/Forward update. Call once, for the app's lifetime.
/// `shows(path)` says which paths this page binary shows itself; a click to
/// any other is left to the browser, which loads that page's bundle.
pub fn start(shows: impl Fn(&str) -> bool + 'static) -> ReadSignal<String> {
    let path = RwSignal::new(current_path());
    let shows = std::rc::Rc::new(shows);
    let shows_link = shows.clone();
    let follow = std::rc::Rc::new(move || {
        let now = current_path();
        // Back or Forward to another bundle's page, in a document that the
        // browser reloaded on the way (no longer the one that pushed the
        // entry): load that page, and with it its bundle.
        if !shows(&now) {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
            return;
        }
        // A link to the page already shown changes the address, not the page.
        if path.get_untracked() != now {
            path.set(now);
        }
    });
    let follow_click = follow.clone();
    // The listeners live as long as the page.
    let _ = window_event_listener(ev::click, move |event| {
        if let Some(url) = internal_link(&event).filter(|url| shows_link(url.split(['?', '#']).next().unwrap_or("/"))) {
            event.prevent_default();
            let Some(window) = web_sys::window() else { return };
            if let Ok(history) = window.history() {
                if history
                    .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
                    .is_ok()
                {
                    window.scroll_to_with_x_and_y(0.0, 0.0);
                    follow_click();
                }
            }
        }
    });
    let _ = window_event_listener(ev::popstate, move |_| follow());
    path.read_only()
}

/// The address (path, query, fragment) a click goes to, when the app should
/// show it itself: a plain left click on a link to this site that does not
/// open a new window or download a file. `None` leaves the click to the
/// browser.
fn internal_link(event: &MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.alt_key()
        || event.ctrl_key()
        || event.shift_key()
    {
        return None;
    }
    let link: HtmlAnchorElement = event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("a[href]")
        .ok()??
        .dyn_into()
        .ok()?;
    let rel = link.rel();
    if !link.target().is_empty() || link.has_attribute("download") || rel.split_whitespace().any(|r| r == "external") {
        return None;
    }
    let href = web_sys::Url::new(&link.href()).ok()?;
    let here = web_sys::window()?.location().origin().ok()?;
    if href.origin() != here {
        return None;
    }
    Some(format!("{}{}{}", href.pathname(), href.search(), href.hash()))
}

/// What a path shows: the index, a lab's route (its slug), or nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Index,
    Lab(String),
    NotFound,
}

/// `/` is the index; `/{slug}` (a trailing slash allowed) a lab's route;
/// any other path is not found.
pub fn route(path: &str) -> Route {
    let path = path.strip_suffix('/').unwrap_or(path);
    match path.strip_prefix('/') {
        None if path.is_empty() => Route::Index,
        Some(slug) if !slug.is_empty() && !slug.contains('/') => Route::Lab(slug.to_string()),
        _ => Route::NotFound,
    }
}

/// Whether a link to `href` marks the current page: the same path when
/// `exact`, else that path or one below it.
pub fn is_current(path: &str, href: &str, exact: bool) -> bool {
    let (path, href) = (path.trim_end_matches('/'), href.trim_end_matches('/'));
    path == href || (!exact && path.strip_prefix(href).is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_the_index_a_lab_or_nowhere() {
        assert_eq!(route("/"), Route::Index);
        assert_eq!(route(""), Route::Index);
        assert_eq!(route("/cnn"), Route::Lab("cnn".into()));
        assert_eq!(route("/cnn/"), Route::Lab("cnn".into()));
        assert_eq!(route("/no-such-lab"), Route::Lab("no-such-lab".into()));
        assert_eq!(route("/a/b"), Route::NotFound);
        assert_eq!(route("//"), Route::NotFound);
        assert_eq!(route("cnn"), Route::NotFound);
    }

    #[test]
    fn links_mark_the_current_page() {
        assert!(is_current("/", "/", true));
        assert!(!is_current("/cnn", "/", true));
        assert!(is_current("/cnn", "/cnn", false));
        assert!(is_current("/cnn/", "/cnn", false));
        assert!(is_current("/cnn/x", "/cnn", false));
        assert!(!is_current("/cnnx", "/cnn", false));
        assert!(!is_current("/playground", "/cnn", false));
    }
}
