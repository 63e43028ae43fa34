//! How kernel size, stride and padding set a convolution's output size,
//! on a strip of inputs the visitor can resize.

use leptos::prelude::*;

/// How kernel size, stride and padding set a convolution's output size.
#[component]
pub fn ConvExplainer() -> impl IntoView {
    let input = RwSignal::new(7usize);
    let kernel = RwSignal::new(3usize);
    let stride = RwSignal::new(1usize);
    let padding = RwSignal::new(1usize);
    let selected = RwSignal::new(0usize);
    let output = Signal::derive(move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        (n + 2 * p >= k).then(|| (n + 2 * p - k) / s + 1)
    });
    let slider = move |label: &'static str, id: &'static str, value: RwSignal<usize>, min: usize, max: usize| {
        view! {
            <div class="field slider">
                <label for=id>{move || format!("{label}: {}", value.get())}</label>
                <input
                    id=id
                    type="range"
                    min=min
                    max=max
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse() {
                            value.set(v);
                            selected.set(0);
                        }
                    }
                />
            </div>
        }
    };
    let formula = move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        match output.get() {
            Some(o) => format!("output = \u{230a}(n + 2p \u{2212} k) / s\u{230b} + 1 = \u{230a}({n} + {} \u{2212} {k}) / {s}\u{230b} + 1 = {o}", 2 * p),
            None => format!("A {k}-wide kernel does not fit {n} inputs with padding {p}: there is no output."),
        }
    };
    let cells = move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        let sel = selected.get().min(output.get().unwrap_or(1).saturating_sub(1));
        let start = sel * s;
        (0..n + 2 * p)
            .map(|i| {
                let pad = i < p || i >= n + p;
                let inside = output.get().is_some() && i >= start && i < start + k;
                let class = format!(
                    "cell{}{}",
                    if pad { " pad" } else { "" },
                    if inside { " window" } else { "" }
                );
                view! { <span class=class>{if pad { "0".to_string() } else { (i - p).to_string() }}</span> }
            })
            .collect_view()
    };
    let outputs = move || {
        let sel = selected.get();
        (0..output.get().unwrap_or(0))
            .map(|o| {
                let class = if o == sel { "cell out chosen" } else { "cell out" };
                view! {
                    <button type="button" class=class aria-pressed=move || (o == sel).to_string() on:click=move |_| selected.set(o)>
                        {o.to_string()}
                    </button>
                }
            })
            .collect_view()
    };
    view! {
        <div class="explainer" data-testid="conv-explainer">
            <div class="field-grid">
                {slider("Input size n", "ex-n", input, 3, 12)}
                {slider("Kernel k", "ex-k", kernel, 1, 7)}
                {slider("Stride s", "ex-s", stride, 1, 4)}
                {slider("Padding p", "ex-p", padding, 0, 3)}
            </div>
            <p class="formula" data-testid="conv-formula">{formula}</p>
            <p class="strip-label">"Input (zeros are padding); the highlighted window feeds the chosen output:"</p>
            <div class="strip">{cells}</div>
            <p class="strip-label">"Outputs (choose one):"</p>
            <div class="strip">{outputs}</div>
        </div>
    }
}
