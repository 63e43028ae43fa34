//! The confusion matrix on the test split, as a table: any number of
//! classes, read from the matrix's size.

use leptos::prelude::*;

/// The side of a square `counts` matrix, if it is one.
pub fn classes_of(counts: &[f32]) -> Option<usize> {
    let k = (counts.len() as f64).sqrt().round() as usize;
    (k > 0 && k * k == counts.len()).then_some(k)
}

/// The background of a cell: green on the diagonal, red off it, stronger
/// for a larger share of the row.
pub fn cell_background(count: f32, row_total: f32, diagonal: bool) -> String {
    let share = count / row_total.max(1.0);
    if diagonal {
        format!("rgba(39,174,96,{:.2})", 0.12 + 0.8 * share)
    } else if count > 0.0 {
        format!("rgba(192,57,43,{:.2})", 0.12 + 2.5 * share.min(0.35))
    } else {
        String::new()
    }
}

/// `counts`: row-major, rows the true class, columns the predicted one.
#[component]
pub fn ConfusionMatrix(
    #[prop(into)] counts: Signal<Option<Vec<f32>>>,
    /// How many examples the test split holds, for the caption.
    #[prop(into)]
    test_size: Signal<Option<u64>>,
) -> impl IntoView {
    let classes = Memo::new(move |_| counts.with(|c| c.as_deref().and_then(classes_of)).unwrap_or(10));
    let body = move || {
        counts.with(|c| {
            let k = classes.get();
            let Some(c) = c.as_ref().filter(|c| classes_of(c) == Some(k)) else {
                return view! { <tr><td colspan=k + 1 class="empty">"Train, then pause or wait for the first test pass."</td></tr> }.into_any();
            };
            (0..k)
                .map(|t| {
                    let row = &c[t * k..(t + 1) * k];
                    let total: f32 = row.iter().sum();
                    let cells = (0..k)
                        .map(|p| {
                            let background = cell_background(row[p], total, p == t);
                            view! { <td style:background=background title=format!("true {t}, predicted {p}: {}", row[p])>{row[p].to_string()}</td> }
                        })
                        .collect_view();
                    view! { <tr><th scope="row">{t.to_string()}</th>{cells}</tr> }
                })
                .collect_view()
                .into_any()
        })
    };
    let caption = move || {
        let over = match test_size.get() {
            Some(n) => format!("the {} test examples", crate::draw::format_number(n as f64)),
            None => "the test split".into(),
        };
        format!("Rows: true class. Columns: predicted class. Counts over {over}.")
    };
    let total = move || counts.with(|c| c.as_ref().map(|c| c.iter().sum::<f32>()).unwrap_or(0.0).to_string());
    view! {
        <div class="table-scroll">
            <table class="confusion" data-testid="confusion-matrix" data-total=total>
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col" class="corner">"true \u{2193}"</th>
                        {move || (0..classes.get()).map(|p| view! { <th scope="col">{p.to_string()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_square_matrix_has_its_class_count() {
        assert_eq!(classes_of(&[0.0; 100]), Some(10));
        assert_eq!(classes_of(&[0.0; 9]), Some(3));
        assert_eq!(classes_of(&[0.0; 10]), None);
        assert_eq!(classes_of(&[]), None);
    }

    #[test]
    fn cells_are_green_on_the_diagonal_and_red_off_it() {
        assert!(cell_background(9.0, 10.0, true).starts_with("rgba(39,174,96"));
        assert!(cell_background(1.0, 10.0, false).starts_with("rgba(192,57,43"));
        assert_eq!(cell_background(0.0, 10.0, false), "");
    }
}
