//! Charts drawn on the server as SVG text: bars, a line, horizontal bars. Colours come
//! from the console's style sheet (classes, `currentColor`), so one drawing serves both
//! themes; a chart library's inline colours would not. Each chart is an `img` with a
//! title and a description, and its page shows the same figures in a table.

use std::fmt::Write;

/// The drawing's size in user units; it scales to the width of its box.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// What every chart says about itself.
pub struct Labels<'a> {
    /// The element id prefix (unique in the page).
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
}

/// `&`, `<`, `>` and quotes escaped for SVG text and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open(labels: &Labels, height: f64) -> String {
    let id = esc(labels.id);
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-d\" preserveAspectRatio=\"xMidYMid meet\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(labels.title),
        esc(labels.desc)
    )
}

/// The y axis: three grid lines with their values.
fn y_axis(svg: &mut String, top: f64, fmt: &dyn Fn(f64) -> String) {
    let plot = HEIGHT - TOP - BOTTOM;
    for i in 0..=2 {
        let value = top * f64::from(i) / 2.0;
        let y = TOP + plot - plot * f64::from(i) / 2.0;
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&fmt(value))
        );
    }
}

/// Labels under the first, middle and last of `n` slots.
fn x_labels(svg: &mut String, labels: &[String], x_of: &dyn Fn(usize) -> f64) {
    let n = labels.len();
    let mut shown: Vec<usize> = vec![0, n / 2, n.saturating_sub(1)];
    shown.dedup();
    for i in shown.into_iter().filter(|i| *i < n) {
        let anchor = match i {
            0 => "start",
            i if i + 1 == n => "end",
            _ => "middle",
        };
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x_of(i),
            HEIGHT - 8.0,
            esc(&labels[i])
        );
    }
}

/// Bars for `values` (one per label), and `compared` as a dashed line over them: the
/// same slots of the earlier period.
pub fn bars(
    labels: &Labels,
    x: &[String],
    values: &[f64],
    compared: Option<&[f64]>,
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let n = values.len().max(1);
    let max = values
        .iter()
        .chain(compared.unwrap_or_default())
        .fold(0.0f64, |a, b| a.max(*b));
    let top = jobs::analytics::axis_top(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let x_of = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y_of = |v: f64| TOP + plot_h - plot_h * (v / top).clamp(0.0, 1.0);
    let mut svg = open(labels, HEIGHT);
    y_axis(&mut svg, top, fmt);
    let bar = (slot * 0.7).max(1.0);
    for (i, v) in values.iter().enumerate() {
        let y = y_of(*v);
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"/>",
            x_of(i) - bar / 2.0,
            TOP + plot_h - y
        );
    }
    if let Some(before) = compared.filter(|c| !c.is_empty()) {
        let points: Vec<String> = before
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"compare\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    x_labels(&mut svg, x, &x_of);
    svg.push_str("</svg>");
    svg
}

/// A line through `values`, broken where a value is missing.
pub fn line(
    labels: &Labels,
    x: &[String],
    values: &[Option<f64>],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let n = values.len().max(2);
    let top = jobs::analytics::axis_top(values.iter().flatten().fold(0.0f64, |a, b| a.max(*b)));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |i: usize| LEFT + plot_w * i as f64 / (n - 1) as f64;
    let y_of = |v: f64| TOP + plot_h - plot_h * (v / top).clamp(0.0, 1.0);
    let mut svg = open(labels, HEIGHT);
    y_axis(&mut svg, top, fmt);
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, svg: &mut String| {
        match run.as_slice() {
            [] => {}
            [(x, y)] => {
                let _ = write!(
                    svg,
                    "<circle class=\"dot\" r=\"3\" cx=\"{x:.1}\" cy=\"{y:.1}\"/>"
                );
            }
            points => {
                let points: Vec<String> = points
                    .iter()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect();
                let _ = write!(
                    svg,
                    "<polyline class=\"line\" points=\"{}\"/>",
                    points.join(" ")
                );
            }
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((x_of(i), y_of(*v))),
            None => flush(&mut run, &mut svg),
        }
    }
    flush(&mut run, &mut svg);
    x_labels(&mut svg, x, &x_of);
    svg.push_str("</svg>");
    svg
}

/// One horizontal bar per item, its name above it (the whole width, so a phone's
/// larger text fits) and its value after it.
pub fn hbars(labels: &Labels, items: &[(String, f64)], fmt: &dyn Fn(f64) -> String) -> String {
    const ROW: f64 = 52.0;
    const VALUE: f64 = 190.0;
    let height = (ROW * items.len() as f64 + 8.0).max(ROW);
    let top = items
        .iter()
        .fold(0.0f64, |a, (_, v)| a.max(*v))
        .max(f64::MIN_POSITIVE);
    let room = WIDTH - VALUE;
    let mut svg = open(labels, height);
    for (i, (name, value)) in items.iter().enumerate() {
        let y = ROW * i as f64;
        let w = (room * value / top).max(1.0);
        let short: String = if name.chars().count() > 40 {
            name.chars().take(39).chain(['…']).collect()
        } else {
            name.clone()
        };
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"0\" y=\"{:.1}\">{}</text>\
             <rect class=\"bar\" x=\"0\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 20.0,
            esc(&short),
            y + 28.0,
            w + 8.0,
            y + 42.0,
            esc(&fmt(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_tops_and_escaped_text() {
        assert_eq!(jobs::analytics::axis_top(0.0), 1.0);
        assert_eq!(jobs::analytics::axis_top(7.0), 10.0);
        assert_eq!(jobs::analytics::axis_top(1_234.0), 2_000.0);
        assert_eq!(jobs::analytics::axis_top(4_500.0), 5_000.0);
        let labels = Labels {
            id: "c",
            title: "Sales <&>",
            desc: "d",
        };
        let fmt = |v: f64| format!("{v:.0}");
        let svg = hbars(&labels, &[("A & B".into(), 2.0), ("C".into(), 1.0)], &fmt);
        assert!(svg.contains("Sales &lt;&amp;&gt;"), "{svg}");
        assert!(svg.contains(">A &amp; B<"), "{svg}");
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
    }

    #[test]
    fn a_missing_value_breaks_the_line() {
        let labels = Labels {
            id: "s",
            title: "t",
            desc: "d",
        };
        let x: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let fmt = |v: f64| format!("{v:.0}");
        let svg = line(
            &labels,
            &x,
            &[Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)],
            &fmt,
        );
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        let svg = bars(
            &labels,
            &x,
            &[1.0, 2.0, 0.0, 3.0, 4.0],
            Some(&[2.0; 5]),
            &fmt,
        );
        assert_eq!(svg.matches("<rect").count(), 5);
        assert_eq!(svg.matches("class=\"compare\"").count(), 1);
    }
}
