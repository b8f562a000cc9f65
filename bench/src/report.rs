//! The run's report: one Markdown table per scenario with each figure for
//! every server run (a column each), their ratios and the target, a plot of latency against
//! offered rate, and one of the server's footprint over the soak (SVG,
//! plotters).

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::soak::{self, Sample};

/// Which way a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// One server's column in the report: the `index`-th server run, and
/// whether it is Hush (in one of its set-ups) or the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub index: usize,
    pub hush: bool,
}

/// A column's heading.
#[derive(Debug, Clone)]
pub struct Heading {
    pub name: String,
    pub hush: bool,
}

/// One measured figure, for each server that measured it (by column).
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub unit: &'static str,
    pub better: Better,
    pub values: Vec<Option<f64>>,
    /// The target, as `≤ 5` or `≥ 10000`, in the figure's unit.
    pub target: Option<(Better, f64)>,
    /// Measured of Hush alone, in a section that compares it with the
    /// peer (the peer has nothing like it): the peer's cell says "n/a".
    pub hush_only: bool,
}

impl Figure {
    fn value(&self, index: usize) -> Option<f64> {
        self.values.get(index).copied().flatten()
    }
}

/// One scenario's section.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub settings: String,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str, settings: String) -> Section {
        Section {
            title: title.to_owned(),
            settings,
            ..Section::default()
        }
    }

    /// Sets `name` for one server's column, adding the row if new.
    pub fn put(&mut self, col: Col, name: &str, unit: &'static str, better: Better, value: f64) {
        let index = match self.figures.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.figures.push(Figure {
                    name: name.to_owned(),
                    unit,
                    better,
                    values: Vec::new(),
                    target: None,
                    hush_only: false,
                });
                self.figures.len() - 1
            }
        };
        let values = &mut self.figures[index].values;
        if values.len() <= col.index {
            values.resize(col.index + 1, None);
        }
        values[col.index] = Some(value);
    }

    /// [`Section::put`] for a Hush column, of a figure the peer has
    /// nothing like.
    pub fn put_hush_only(
        &mut self,
        col: Col,
        name: &str,
        unit: &'static str,
        better: Better,
        value: f64,
    ) {
        self.put(col, name, unit, better, value);
        if let Some(f) = self.figures.iter_mut().find(|f| f.name == name) {
            f.hush_only = true;
        }
    }

    pub fn target(&mut self, name: &str, better: Better, value: f64) {
        if let Some(f) = self.figures.iter_mut().find(|f| f.name == name) {
            f.target = Some((better, value));
        }
    }
}

/// Latency against offered rate, for the plot.
#[derive(Debug, Clone, Default)]
pub struct Curve {
    pub server: String,
    /// (offered msg/s, p50 ms, p99 ms)
    pub points: Vec<(f64, f64, f64)>,
}

fn number(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value.abs() >= 100.0 {
        let whole = value.round() as i64;
        let digits = whole.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if whole < 0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// Percentages keep four decimals: 99.99 % is not 100 %.
fn cell(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "–".to_owned(),
        Some(v) if unit == "%" => {
            let text = format!("{v:.4}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        Some(v) => number(v),
    }
}

/// Whether `value` meets `target`.
fn meets(value: f64, (better, bound): (Better, f64)) -> bool {
    match better {
        Better::Lower => value <= bound,
        Better::Higher => value >= bound,
    }
}

/// The column the others are divided by: the peer's when it ran, else
/// the first.
fn reference(columns: &[Heading]) -> usize {
    columns.iter().position(|c| !c.hush).unwrap_or(0)
}

/// The Markdown report, one column per server in `columns`.
pub fn markdown(header: &[(String, String)], columns: &[Heading], sections: &[Section]) -> String {
    let mut out = String::from("# Hush benchmark report\n\n");
    for (key, value) in header {
        let _ = writeln!(out, "- **{key}**: {value}");
    }
    let base = reference(columns);
    let ratios: Vec<usize> = (0..columns.len()).filter(|&i| i != base).collect();
    let _ = writeln!(
        out,
        "\nRatios are each column ÷ {}. A ✓ or ✗ after a Hush figure says whether it meets the target.",
        columns.get(base).map_or("–", |c| c.name.as_str())
    );
    for s in sections {
        let _ = write!(out, "\n## {}\n\n{}\n\n| figure |", s.title, s.settings);
        for c in columns {
            let _ = write!(out, " {} |", c.name);
        }
        for &i in &ratios {
            let _ = write!(out, " {} ÷ {} |", columns[i].name, columns[base].name);
        }
        out.push_str(" target |\n|---|");
        out.push_str(&"---:|".repeat(columns.len() + ratios.len()));
        out.push_str("---|\n");
        for f in &s.figures {
            let _ = write!(
                out,
                "| {} ({}{}) |",
                f.name,
                f.unit,
                if f.better == Better::Lower {
                    ", lower is better"
                } else {
                    ""
                }
            );
            for (i, c) in columns.iter().enumerate() {
                let verdict = match (f.value(i), f.target) {
                    (Some(v), Some(t)) if c.hush && meets(v, t) => " ✓",
                    (Some(_), Some(_)) if c.hush => " ✗",
                    _ => "",
                };
                let text = if f.hush_only && !c.hush {
                    "n/a".to_owned()
                } else {
                    cell(f.value(i), f.unit)
                };
                let _ = write!(out, " {text}{verdict} |");
            }
            for &i in &ratios {
                let ratio = match (f.value(i), f.value(base)) {
                    (Some(v), Some(b)) if b != 0.0 => format!("{:.2}", v / b),
                    _ => "–".to_owned(),
                };
                let _ = write!(out, " {ratio} |");
            }
            let target = f.target.map_or_else(String::new, |(b, v)| {
                let sign = if b == Better::Lower { "≤" } else { "≥" };
                format!("{sign} {} {}", number(v), f.unit)
            });
            let _ = writeln!(out, " {target} |");
        }
        for note in &s.notes {
            let _ = writeln!(out, "\n{note}");
        }
    }
    out
}

/// Writes the latency-against-rate plot to `path` (SVG).
pub fn plot(path: &Path, curves: &[Curve]) -> Result<(), String> {
    let max_rate = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    let max_ms = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.2))
        .fold(1.0_f64, f64::max);
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Delivery latency against offered rate (10-member rooms)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..max_rate * 1.05, (0.05_f64..max_ms * 2.0).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("offered messages per second")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("latency, ms (log)")
        .draw()
        .map_err(|e| e.to_string())?;
    let colours = [RGBColor(0, 114, 178), RGBColor(213, 94, 0)];
    for (curve, colour) in curves.iter().zip(colours) {
        for (label, pick, dashed) in [("p50", 1, false), ("p99", 2, true)] {
            let points: Vec<(f64, f64)> = curve
                .points
                .iter()
                .map(|p| (p.0, if pick == 1 { p.1 } else { p.2 }.max(0.05)))
                .collect();
            let style = ShapeStyle {
                color: colour.to_rgba(),
                filled: true,
                stroke_width: if dashed { 1 } else { 2 },
            };
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(|e| e.to_string())?
                .label(format!("{} {label}", curve.server))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, style)))
                .map_err(|e| e.to_string())?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// One panel of the soak's plot: lines against minutes, and the flatness
/// rule's baseline and limit.
struct Panel {
    caption: &'static str,
    unit: &'static str,
    series: Vec<Series>,
    rule: Option<(f64, f64)>,
}

/// One line of a panel.
struct Series {
    label: &'static str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Writes the soak's plot to `path` (SVG): the server's RSS (VmRSS and
/// RssAnon) above, its open files, those the rule judges, and its threads
/// below, against time; the dashed lines are the flatness rule's baseline
/// and limit (of the RSS, and of the judged files).
pub fn plot_footprint(
    path: &Path,
    samples: &[Sample],
    duration: std::time::Duration,
) -> Result<(), String> {
    let minutes = |s: &Sample| s.at.as_secs_f64() / 60.0;
    let end = samples.iter().map(minutes).fold(1.0 / 60.0, f64::max);
    let root = SVGBackend::new(path, (900, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(320);
    let mib = |b: u64| b as f64 / 1048576.0;
    let flat = soak::Flatness::of(samples, duration);
    let blue = RGBColor(0, 114, 178);
    let orange = RGBColor(213, 94, 0);
    let grey = RGBColor(120, 120, 120);
    let green = RGBColor(0, 158, 115);
    let line = |label, colour, value: &dyn Fn(&Sample) -> f64| Series {
        label,
        colour,
        points: samples.iter().map(|s| (minutes(s), value(s))).collect(),
    };
    let panels = [
        Panel {
            caption: "Server memory during the soak",
            unit: "MiB",
            series: vec![
                line("RSS (VmRSS)", blue, &|s| mib(s.server.rss)),
                line("anonymous (RssAnon)", orange, &|s| mib(s.server.rss_anon)),
            ],
            rule: flat
                .as_ref()
                .map(|f| (f.rss.0, f.rss.0 * (1.0 + soak::RSS_GROWTH))),
        },
        Panel {
            caption: "Server open files (all, and judged) and threads during the soak",
            unit: "count",
            series: vec![
                line("open files", blue, &|s| s.server.files as f64),
                line("judged files", green, &|s| s.held() as f64),
                line("threads", orange, &|s| s.server.threads as f64),
            ],
            rule: flat
                .as_ref()
                .map(|f| (f.files.0, f.files.0 + soak::files_tolerance(f.files.0))),
        },
    ];
    for (panel, area) in panels.into_iter().zip([top, bottom]) {
        let Panel {
            caption,
            unit,
            series,
            rule,
        } = panel;
        let high = series
            .iter()
            .flat_map(|line| line.points.iter().map(|p| p.1))
            .chain(rule.map(|r| r.1))
            .fold(1.0_f64, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..end, 0.0..high * 1.15)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("minutes from the start")
            .y_desc(unit)
            .draw()
            .map_err(|e| e.to_string())?;
        for Series {
            label,
            colour,
            points,
        } in series
        {
            let style = ShapeStyle {
                color: colour.to_rgba(),
                filled: true,
                stroke_width: 2,
            };
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        if let Some((baseline, limit)) = rule {
            for (label, y) in [
                ("after the warm-up (median)", baseline),
                ("flatness limit", limit),
            ] {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(0.0, y), (end, y)],
                        6,
                        4,
                        grey.stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
