//! Charts drawn on the server as inline SVG: no script, nothing fetched, and the same
//! numbers in a table beside each one for screen readers and printing.

use std::fmt::Write;

use tidings_app::reports::Period;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Horizontal bars, one a step, each as long as its share of the first.
pub fn funnel(title: &str, steps: &[(&str, i64)]) -> String {
    let (label_w, bar_w, row_h) = (110.0, 420.0, 28.0);
    let height = row_h * steps.len() as f64 + 8.0;
    let top = steps.first().map_or(0, |(_, n)| *n).max(1) as f64;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {height}\" width=\"100%\">",
        escape(title),
        label_w + bar_w + 120.0
    );
    for (i, (label, n)) in steps.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (*n as f64 / top * bar_w).max(if *n > 0 { 2.0 } else { 0.0 });
        // The same rounding as every table beside it.
        let share = super::shell::percent(*n, steps.first().map_or(0, |(_, n)| *n));
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\">{label}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"#0b4f9c\"></rect>\
             <text x=\"{tx:.1}\" y=\"{ty}\">{n} ({share}%)</text>",
            ty = y + 16.0,
            label = escape(label),
            h = row_h - 8.0,
            tx = label_w + w + 6.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line of a chart: its name, its colour, and its value in a period.
type Series = (&'static str, &'static str, fn(&Period) -> i64);

/// The steps' running totals over the periods, one line each, from zero at the start (so
/// a message whose steps all fell in one period still shows a rise, not a flat line).
pub fn cumulative(title: &str, periods: &[Period]) -> String {
    // Room on the right for the longest legend entry ("acknowledged").
    let (left, width, height, bottom, legend) = (50.0, 540.0, 200.0, 24.0, 150.0);
    let series: [Series; 4] = [
        ("opened", "#8a4b00", |p| p.opened),
        ("clicked", "#5b3f99", |p| p.clicked),
        ("read", "#2f5d50", |p| p.read),
        ("acknowledged", "#a4161a", |p| p.acknowledged),
    ];
    let totals: Vec<Vec<i64>> = series
        .iter()
        .map(|(_, _, of)| {
            std::iter::once(0)
                .chain(periods.iter().scan(0, |sum, p| {
                    *sum += of(p);
                    Some(*sum)
                }))
                .collect()
        })
        .collect();
    let max = totals.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    // One more point than periods: the zero before the first.
    let steps = periods.len().max(1) as f64;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {}\" width=\"100%\">\
         <line x1=\"{left}\" y1=\"{height}\" x2=\"{}\" y2=\"{height}\" stroke=\"#8a939e\"></line>\
         <text x=\"0\" y=\"12\">{max}</text><text x=\"0\" y=\"{height}\">0</text>",
        escape(title),
        left + width + legend,
        height + bottom,
        left + width,
    );
    for (i, ((name, color, _), line)) in series.iter().zip(&totals).enumerate() {
        let points: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(x, v)| {
                format!("{:.1},{:.1}", left + x as f64 / steps * width, height - *v as f64 / max * (height - 8.0))
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" points=\"{}\"></polyline>\
             <rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{color}\"></rect><text x=\"{tx}\" y=\"{ty}\">{name}</text>",
            points.join(" "),
            lx = left + width + 12.0,
            ly = 10.0 + i as f64 * 20.0,
            tx = left + width + 30.0,
            ty = 21.0 + i as f64 * 20.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidings_core::Timestamp;

    #[test]
    fn the_chart_and_the_tables_round_a_share_the_same_way() {
        // 1 of 22 is 4.5 %: the chart said 5 % while the table said 4 %.
        assert_eq!(super::super::shell::percent(1, 22), 5);
        assert_eq!(super::super::shell::percent(1, 25), 4);
        assert_eq!(super::super::shell::percent(0, 0), 0);
        let svg = funnel("f", &[("audience", 22), ("read", 1)]);
        assert!(svg.contains("1 (5%)"), "{svg}");
    }

    #[test]
    fn steps_that_fell_in_one_period_rise_from_zero_and_the_legend_fits() {
        let one = [Period { start: Timestamp::from_millis(0), opened: 3, clicked: 2, read: 2, acknowledged: 1 }];
        let svg = cumulative("c", &one);
        let first_line = svg.split("points=\"").nth(1).and_then(|p| p.split('"').next()).unwrap_or_default();
        let ys: Vec<&str> = first_line.split(' ').filter_map(|pt| pt.split(',').nth(1)).collect();
        assert_eq!(ys.len(), 2, "{first_line}");
        assert_ne!(ys[0], ys[1], "a rise, not a flat line: {first_line}");
        // The longest legend entry ends inside the drawing (about 7 px a character).
        let width: f64 =
            svg.split("viewBox=\"0 0 ").nth(1).and_then(|v| v.split(' ').next()).unwrap_or("0").parse().unwrap_or(0.0);
        let legend_x: f64 =
            svg.split("<text x=\"").filter_map(|t| t.split('"').next()?.parse().ok()).fold(0.0, f64::max);
        assert!(legend_x + "acknowledged".len() as f64 * 7.5 <= width, "{legend_x} + text > {width}");
    }
}
