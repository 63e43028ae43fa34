//! The controls every lab shares: start/pause, step, reset, the seed and
//! its dice, the step and loss readouts, the error banner, and labelled input fields that
//! refuse bad values next to the field.

use leptos::prelude::*;

use crate::draw::format_number;

/// A number for people and a `data-value` for tests.
#[component]
pub fn Stat(
    label: &'static str,
    testid: &'static str,
    /// The plain number tests read (`data-value`).
    #[prop(into)]
    value: Signal<String>,
    /// What people read.
    #[prop(into)]
    display: Signal<String>,
) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-label">{label}</span>
            <span class="stat-value" data-testid=testid data-value=value aria-live="off">
                {display}
            </span>
        </div>
    }
}

/// A loss for display: `-` before the first step, `NaN` when it diverged.
pub fn loss_text(loss: f32) -> String {
    if loss.is_nan() {
        "\u{2013}".into()
    } else {
        format_number(f64::from(loss))
    }
}

/// A fresh seed from the system's entropy (in the browser,
/// `crypto.getRandomValues`): a whole number below 2^32, which
/// [`crate::validate::seed`] accepts and people can still read and type.
pub fn random_seed() -> Result<u64, String> {
    getrandom::u32()
        .map(u64::from)
        .map_err(|e| format!("Could not draw a random seed ({e})."))
}

/// A labelled text field. `error` shows under it (and marks it invalid);
/// `on_commit` runs on change (Enter or leaving the field) with the text.
/// Children, if any, sit beside the input (a button that fills it in).
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] on_commit: Callback<String>,
    /// A short hint under the label (also read by screen readers).
    #[prop(optional, into)]
    hint: String,
    /// `decimal` or `numeric` bring up the right phone keyboard.
    #[prop(default = "decimal")]
    inputmode: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = !hint.is_empty();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id>{label}</label>
            <div class="field-control">
            <input
                id=id
                type="text"
                inputmode=inputmode
                autocomplete="off"
                spellcheck="false"
                data-testid=testid
                prop:value=move || value.get()
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                on:input=move |ev| value.set(event_target_value(&ev))
                on:change=move |ev| on_commit.run(event_target_value(&ev))
            />
            {children.map(|children| children())}
            </div>
            {has_hint.then(|| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
            <Show when=move || error.with(Option::is_some)>
                <p class="field-error" id=error_id.clone() data-testid=format!("{testid}-error")>
                    {move || error.get().unwrap_or_default()}
                </p>
            </Show>
        </div>
    }
}

/// A labelled `<select>`; `options` are `(value, label)` pairs.
#[component]
pub fn SelectField(
    id: &'static str,
    label: &'static str,
    testid: &'static str,
    options: Vec<(&'static str, &'static str)>,
    #[prop(into)] value: Signal<&'static str>,
    #[prop(into)] on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                data-testid=testid
                on:change=move |ev| on_change.run(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(key, text)| {
                        view! {
                            <option value=key selected=move || value.get() == key>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Start/pause, step once, reset, the seed, and the step and loss readouts.
#[component]
pub fn TrainControls(
    #[prop(into)] running: Signal<bool>,
    #[prop(into)] step: Signal<u64>,
    #[prop(into)] loss: Signal<f32>,
    /// The seed field's text.
    seed: RwSignal<String>,
    #[prop(into)] seed_error: Signal<Option<String>>,
    #[prop(into)] on_toggle: Callback<()>,
    #[prop(into)] on_step: Callback<()>,
    #[prop(into)] on_reset: Callback<()>,
    /// A new seed was entered (Enter or leaving the field) or drawn by the
    /// dice beside the field; never called with text that
    /// [`crate::validate::seed`] refuses (the field shows `seed_error`).
    #[prop(into)]
    on_seed: Callback<String>,
) -> impl IntoView {
    // Only if the browser has no randomness to give, which no current one lacks.
    let dice_error = RwSignal::new(None::<String>);
    let error = Signal::derive(move || dice_error.get().or_else(|| seed_error.get()));
    let on_commit = move |text: String| {
        dice_error.set(None);
        if crate::validate::seed(&text).is_ok() {
            on_seed.run(text);
        }
    };
    let roll = move |_| match random_seed() {
        Ok(value) => {
            let text = value.to_string();
            dice_error.set(None);
            seed.set(text.clone());
            on_seed.run(text);
        }
        Err(e) => dice_error.set(Some(e)),
    };
    view! {
        <div class="train-controls">
            <div class="button-row" role="group" aria-label="Training">
                <button
                    type="button"
                    class="button primary"
                    data-testid="train-toggle"
                    aria-pressed=move || if running.get() { "true" } else { "false" }
                    on:click=move |_| on_toggle.run(())
                >
                    <span class="icon" aria-hidden="true">
                        {move || if running.get() { "\u{275a}\u{275a}" } else { "\u{25b6}" }}
                    </span>
                    {move || if running.get() { "Pause" } else { "Start" }}
                </button>
                <button
                    type="button"
                    class="button"
                    data-testid="step-once"
                    on:click=move |_| on_step.run(())
                >
                    "Step"
                </button>
                <button
                    type="button"
                    class="button"
                    data-testid="reset"
                    on:click=move |_| on_reset.run(())
                >
                    "Reset"
                </button>
            </div>
            <TextField
                id="seed"
                label="Seed"
                testid="seed-input"
                value=seed
                error=error
                on_commit=on_commit
                inputmode="numeric"
                hint="Same seed, same run."
            >
                <button
                    type="button"
                    class="button icon-button"
                    data-testid="new-seed"
                    aria-label="New random seed"
                    title="New random seed"
                    on:click=roll
                >
                    // A die drawn in SVG: no emoji font needed.
                    <svg class="dice" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                        <rect x="3" y="3" width="18" height="18" rx="4" fill="none" stroke="currentColor" stroke-width="2"></rect>
                        <circle cx="8.5" cy="8.5" r="1.6" fill="currentColor"></circle>
                        <circle cx="15.5" cy="8.5" r="1.6" fill="currentColor"></circle>
                        <circle cx="12" cy="12" r="1.6" fill="currentColor"></circle>
                        <circle cx="8.5" cy="15.5" r="1.6" fill="currentColor"></circle>
                        <circle cx="15.5" cy="15.5" r="1.6" fill="currentColor"></circle>
                    </svg>
                </button>
            </TextField>
            <div class="stats">
                <Stat
                    label="Step"
                    testid="step-count"
                    value=Signal::derive(move || step.get().to_string())
                    display=Signal::derive(move || step.get().to_string())
                />
                <Stat
                    label="Loss"
                    testid="loss-value"
                    value=Signal::derive(move || {
                        let loss = loss.get();
                        if loss.is_finite() { loss.to_string() } else { String::new() }
                    })
                    display=Signal::derive(move || loss_text(loss.get()))
                />
            </div>
        </div>
    }
}

/// The page's error, if any: present only while there is one.
#[component]
pub fn ErrorBanner(
    #[prop(into)] error: Signal<Option<String>>,
    /// Called by the banner's dismiss button; without it there is none.
    #[prop(optional, into)]
    on_dismiss: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <div class="error-banner" role="alert" data-testid="error-banner">
                <span class="error-icon" aria-hidden="true">"!"</span>
                <p>{move || error.get().unwrap_or_default()}</p>
                {on_dismiss
                    .map(|dismiss| {
                        view! {
                            <button
                                type="button"
                                class="button subtle"
                                on:click=move |_| dismiss.run(())
                            >
                                "Dismiss"
                            </button>
                        }
                    })}
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_text_reads_well() {
        assert_eq!(loss_text(f32::NAN), "\u{2013}");
        assert_eq!(loss_text(0.25), "0.25");
        assert_eq!(loss_text(f32::INFINITY), "inf");
    }

    #[test]
    fn random_seeds_are_valid_and_vary() {
        let seeds: Vec<u64> = (0..8).map(|_| random_seed().unwrap()).collect();
        for &s in &seeds {
            assert_eq!(crate::validate::seed(&s.to_string()), Ok(s));
            assert!(s <= u64::from(u32::MAX));
        }
        // Eight equal draws from 2^32 values would take a broken source.
        assert!(seeds.iter().any(|&s| s != seeds[0]), "{seeds:?}");
    }
}
