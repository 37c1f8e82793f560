//! Latency as horizontal grouped bars, one row per category: category names sit left of their
//! row, where they never collide, and the canvas grows with the number of rows.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{compact, label, legend, legend_width, page, text, thousands, upper, Area, Drawn, Plot, INK, MUTED, WIDTH};
use crate::summary::Latency;

/// Rows shown in a bar chart (pairs, or inference regions); summary.json holds them all.
pub(super) const MAX_PAIRS: usize = 15;

pub(super) struct Row {
    pub name: String,
    pub detail: String,
    /// One value per bar series; `None` draws no bar.
    pub values: Vec<Option<f64>>,
    /// Optional whisker end per series (p90 behind a p50 bar).
    pub whiskers: Vec<Option<f64>>,
    /// Optional limit per series, drawn as a red tick across its bar (a quota).
    pub marks: Vec<Option<f64>>,
}

/// Horizontal grouped bars (latency charts, capacity).
pub struct Bars {
    pub(super) id: super::Id,
    pub(super) title: String,
    pub(super) subtitle: String,
    pub(super) series: Vec<(String, RGBColor)>,
    pub(super) rows: Vec<Row>,
    pub(super) axis: &'static str,
    pub(super) empty: &'static str,
}

/// The colour of a limit's tick.
const LIMIT: RGBColor = RGBColor(0xc0, 0x1c, 0x28);

const ROW_TOP: u32 = 70 + 24;
const AXIS: u32 = 56;

impl Plot for Bars {
    fn id(&self) -> super::Id {
        self.id
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, self.height())
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        self.draw_bars(root)
    }
}

impl Bars {
    fn row_px(&self) -> u32 {
        14 * self.series.len() as u32 + 22
    }

    fn height(&self) -> u32 {
        ROW_TOP + self.row_px() * self.rows.len().max(3) as u32 + AXIS
    }

    fn draw_bars<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let body = page(root, &self.title, &self.subtitle)?;
        if self.rows.is_empty() {
            return super::no_data(&body, self.empty);
        }
        let names: Vec<String> = self.series.iter().map(|(n, _)| n.clone()).collect();
        let (plot, key) = body.split_horizontally(WIDTH as i32 - legend_width(root, &names)? as i32);
        legend(&key.margin(24, 0, 0, 0), &self.series)?;
        let mut left = 0;
        for r in &self.rows {
            left = left.max(root.estimate_text_size(&r.name, &text(13, INK))?.0);
            left = left.max(root.estimate_text_size(&r.detail, &text(11, MUTED))?.0);
        }
        let n = self.rows.len() as f64;
        let max = self
            .rows
            .iter()
            .flat_map(|r| r.values.iter().chain(&r.whiskers).chain(&r.marks))
            .flatten()
            .fold(0.0f64, |a, &b| a.max(b));
        let span = upper(max, 1.3);
        let mut chart = ChartBuilder::on(&plot)
            .margin_top(24)
            .margin_right(16)
            .x_label_area_size(AXIS)
            .y_label_area_size(left + 36)
            .build_cartesian_2d(0.0..span, 0.0..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(8)
            .x_label_formatter(&|v| compact(*v))
            .x_desc(self.axis)
            .axis_desc_style(text(14, INK))
            .label_style(text(12, INK))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .draw()?;
        let k = self.series.len() as f64;
        let band = 0.8 / k;
        for (i, row) in self.rows.iter().enumerate() {
            // First row at the top.
            let top = n - i as f64 - 0.1;
            let (lx, ly) = chart.backend_coord(&(0.0, n - i as f64 - 0.5));
            let right = Pos::new(HPos::Right, VPos::Center);
            root.draw(&Text::new(row.name.clone(), (lx - 12, ly - 8), text(13, INK).pos(right)))?;
            root.draw(&Text::new(row.detail.clone(), (lx - 12, ly + 9), text(11, MUTED).pos(right)))?;
            for (j, (value, (_, c))) in row.values.iter().zip(&self.series).enumerate() {
                let Some(v) = *value else { continue };
                let (y1, y0) = (top - j as f64 * band, top - (j + 1) as f64 * band + 0.02);
                chart.draw_series(std::iter::once(Rectangle::new([(0.0, y0), (v, y1)], c.filled())))?;
                if let Some(m) = row.marks.get(j).copied().flatten() {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(m, y0 - 0.02), (m, y1 + 0.02)],
                        LIMIT.stroke_width(3),
                    )))?;
                }
                let mut end = v;
                let mut note = thousands(v.round() as u64);
                if let Some(w) = row.whiskers.get(j).copied().flatten() {
                    let mid = (y0 + y1) / 2.0;
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(v, mid), (w, mid)],
                        INK.stroke_width(1),
                    )))?;
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(w, y0 + 0.02), (w, y1 - 0.02)],
                        INK.stroke_width(1),
                    )))?;
                    end = w;
                    note = format!("{note} · {}", thousands(w.round() as u64));
                }
                // A limit's tick just right of the bar would cross its figure: the figure moves
                // past the tick.
                if let Some(m) = row.marks.get(j).copied().flatten().filter(|m| *m > end && *m - end < 0.1 * span) {
                    end = m;
                }
                let at = EmptyElement::at((end, (y0 + y1) / 2.0))
                    + Text::new(note, (5, 0), text(11, INK).pos(Pos::new(HPos::Left, VPos::Center)));
                chart.draw_series(std::iter::once(at))?;
            }
        }
        Ok(())
    }
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// p50 / p90 / p99 per inference region, with calls and latency coverage beside each name.
pub fn by_region(l: &Latency) -> Bars {
    let mut regions: Vec<_> = l.by_inference_region.iter().collect();
    let all = regions.len();
    if all > MAX_PAIRS {
        // The busiest regions, in the summary's order.
        let mut busiest = regions.clone();
        busiest.sort_by_key(|r| std::cmp::Reverse(r.calls));
        let floor = busiest[MAX_PAIRS - 1].calls;
        let mut room = busiest[..MAX_PAIRS].iter().filter(|r| r.calls == floor).count();
        regions.retain(|r| {
            r.calls > floor
                || (r.calls == floor && room > 0 && {
                    room -= 1;
                    true
                })
        });
    }
    let rows = regions
        .iter()
        .map(|r| Row {
            name: label(&r.inference_region, 32),
            detail: format!(
                "n = {} of {} calls · coverage {}",
                thousands(r.requests),
                thousands(r.calls),
                pct(r.coverage)
            ),
            values: [r.p50_ms, r.p90_ms, r.p99_ms].iter().map(|v| v.map(|v| v as f64)).collect(),
            whiskers: Vec::new(),
            marks: Vec::new(),
        })
        .collect();
    Bars {
        id: super::Id::LatencyByRegion,
        title: "Latency per inference region".into(),
        subtitle: if all > MAX_PAIRS {
            format!("Successful calls, nearest-rank percentiles; n = calls with a known latency; the {MAX_PAIRS} of {all} regions with the most calls.")
        } else {
            "Successful calls, nearest-rank percentiles; n = calls with a known latency.".into()
        },
        series: vec![
            ("p50".into(), super::colour(4)),
            ("p90".into(), super::colour(0)),
            ("p99".into(), super::colour(3)),
        ],
        rows,
        axis: "latency (ms)",
        empty: "No successful call with a known latency in this window.",
    }
}

/// The latency cost of rerouting: local and rerouted p50 (bar) and p90 (whisker) for the same
/// source region and model, for the pairs with the most rerouted calls.
pub fn local_vs_rerouted(l: &Latency) -> Bars {
    let mut pairs: Vec<_> =
        l.local_vs_rerouted.iter().filter(|r| r.local_requests > 0 && r.rerouted_requests > 0).collect();
    let all = pairs.len();
    // Most rerouted calls first; ties keep the summary's (source, model) order.
    pairs.sort_by_key(|r| std::cmp::Reverse(r.rerouted_requests));
    pairs.truncate(MAX_PAIRS);
    let rows = pairs
        .iter()
        .map(|r| {
            let f = |v: Option<i64>| v.map(|v| v as f64);
            Row {
                name: format!("{} · {}", label(&r.source_region, 20), label(&r.model, 44)),
                detail: format!(
                    "{} local, {} rerouted calls",
                    thousands(r.local_requests),
                    thousands(r.rerouted_requests)
                ),
                values: vec![f(r.local_p50_ms), f(r.rerouted_p50_ms)],
                whiskers: vec![f(r.local_p90_ms), f(r.rerouted_p90_ms)],
                marks: Vec::new(),
            }
        })
        .collect();
    let shown = if all > MAX_PAIRS {
        format!("the {MAX_PAIRS} of {all} pairs with the most rerouted calls")
    } else {
        "every pair with both local and rerouted calls".to_string()
    };
    Bars {
        id: super::Id::LocalVsRerouted,
        title: "Latency cost of rerouting: local vs rerouted, same source region and model".into(),
        subtitle: format!("Bar: p50, whisker: p90 (labels: p50 · p90 ms); successful calls; {shown}."),
        series: vec![("local".into(), super::colour(0)), ("rerouted".into(), super::colour(1))],
        rows,
        axis: "latency (ms)",
        empty: "No source region and model with both local and rerouted calls of known latency.",
    }
}
