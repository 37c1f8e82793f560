//! Day series per source region: the rerouting rate, and requests and tokens. One colour per
//! source region, the same in both charts.

use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{compact, day_tick, days, label, legend_width, page, text, upper, Area, Drawn, Plot, INK, WIDTH};
use crate::summary::Summary;

/// One line per source region: (name, colour, a value per day or none).
type Lines = Vec<(String, RGBColor, Vec<Option<f64>>)>;

struct Daily {
    days: Vec<String>,
    regions: Vec<String>,
}

impl Daily {
    fn new(s: &Summary) -> Self {
        Daily {
            days: days(s, s.daily.by_source_region.iter().map(|r| r.day.as_str())),
            regions: s.rerouting.by_source_region.iter().map(|r| r.source_region.clone()).collect(),
        }
    }

    /// A value per region per day from the day rows; `missing` for days without a row.
    fn lines(&self, s: &Summary, value: impl Fn(&crate::summary::DayRegion) -> f64, missing: Option<f64>) -> Lines {
        self.regions
            .iter()
            .enumerate()
            .map(|(i, region)| {
                let mut v = vec![missing; self.days.len()];
                for r in s.daily.by_source_region.iter().filter(|r| &r.source_region == region) {
                    if let Some(d) = self.days.iter().position(|d| *d == r.day) {
                        v[d] = Some(value(r));
                    }
                }
                (label(region, 24), super::colour(i), v)
            })
            .collect()
    }
}

/// A line chart over days in `area`; gaps (days without a value) break the line.
fn panel<DB: DrawingBackend>(
    area: &Area<DB>,
    days: &[String],
    lines: &Lines,
    caption: &str,
    y_desc: &str,
    y_max: f64,
    y_tick: &dyn Fn(&f64) -> String,
) -> Drawn<DB> {
    let n = days.len();
    let mut builder = ChartBuilder::on(area);
    if !caption.is_empty() {
        builder.caption(caption, text(15, INK));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_max)?;
    let tick = |v: &f64| day_tick(days, *v);
    chart
        .configure_mesh()
        .x_labels(n.clamp(2, 12))
        .x_label_formatter(&tick)
        .y_labels(6)
        .y_label_formatter(y_tick)
        .x_desc("day (UTC)")
        .y_desc(y_desc)
        .axis_desc_style(text(14, INK))
        .label_style(text(12, INK))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .draw()?;
    for (i, (_, c, values)) in lines.iter().enumerate() {
        let points: Vec<(f64, Option<f64>)> = values.iter().enumerate().map(|(d, v)| (d as f64, *v)).collect();
        for run in points.split(|(_, v)| v.is_none()) {
            let run: Vec<(f64, f64)> = run.iter().filter_map(|(x, v)| v.map(|v| (*x, v))).collect();
            chart.draw_series(LineSeries::new(run.clone(), c.stroke_width(2)))?;
            chart.draw_series(run.iter().map(|p| EmptyElement::at(*p) + marker(i, *c)))?;
        }
    }
    Ok(())
}

/// Marker shapes differ by series too, so lines stay apart without colour.
fn marker<DB: DrawingBackend>(series: usize, c: RGBColor) -> DynElement<'static, DB, (i32, i32)> {
    match series % 3 {
        0 => Circle::new((0, 0), 4, c.filled()).into_dyn(),
        1 => TriangleMarker::new((0, 0), 5, c.filled()).into_dyn(),
        _ => Rectangle::new([(-4, -4), (4, 4)], c.filled()).into_dyn(),
    }
}

fn framed<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
    lines: &Lines,
) -> Result<Option<Area<DB>>, DrawingAreaErrorKind<DB::ErrorType>> {
    let body = page(root, title, subtitle)?;
    if lines.is_empty() || lines[0].2.is_empty() {
        super::no_data(&body, "No requests in this window.")?;
        return Ok(None);
    }
    let names: Vec<String> = lines.iter().map(|(n, _, _)| n.clone()).collect();
    let (plot, key) = body.split_horizontally(WIDTH as i32 - legend_width(root, &names)? as i32);
    // The legend shows each line with its marker.
    let key = key.margin(24, 0, 0, 0);
    for (i, (name, c, _)) in lines.iter().enumerate() {
        let y = 16 + i as i32 * 22;
        key.draw(&PathElement::new(vec![(4, y), (28, y)], c.stroke_width(2)))?;
        key.draw(&(EmptyElement::at((16, y)) + marker(i, *c)))?;
        key.draw(&Text::new(name.clone(), (36, y), text(13, INK).pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(Some(plot))
}

/// Rerouted requests / all requests of the source region, per day.
pub struct ReroutingRate {
    days: Vec<String>,
    lines: Lines,
}

impl ReroutingRate {
    pub fn new(s: &Summary) -> Self {
        let d = Daily::new(s);
        // A day without requests has no rate: a gap, not zero.
        let lines = d.lines(s, |r| r.rerouting_rate * 100.0, None);
        ReroutingRate { days: d.days, lines }
    }
}

impl Plot for ReroutingRate {
    fn name(&self) -> &'static str {
        "rerouting-rate-by-day"
    }
    fn title(&self) -> String {
        "Rerouting rate per source region per day".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let subtitle = "Rerouted requests as a share of the source region's requests that day (unknown routes count as not rerouted).";
        let Some(plot) = framed(root, &self.title(), subtitle, &self.lines)? else { return Ok(()) };
        let max = self.lines.iter().flat_map(|l| l.2.iter().flatten()).fold(0.0f64, |a, &b| a.max(b));
        // Whole tens of percent, up to 100.
        let top = ((max / 10.0).floor() * 10.0 + 10.0).min(100.0);
        let pct = |v: &f64| format!("{v:.0}%");
        panel(&plot, &self.days, &self.lines, "", "rerouted (% of requests)", top, &pct)
    }
}

/// Requests per day and tokens (input + output) per day, per source region.
pub struct Volume {
    days: Vec<String>,
    requests: Lines,
    tokens: Lines,
}

impl Volume {
    pub fn new(s: &Summary) -> Self {
        let d = Daily::new(s);
        // A day without requests had zero of both.
        let requests = d.lines(s, |r| r.requests as f64, Some(0.0));
        let tokens = d.lines(s, |r| (r.input_tokens + r.output_tokens) as f64, Some(0.0));
        Volume { days: d.days, requests, tokens }
    }
}

impl Plot for Volume {
    fn name(&self) -> &'static str {
        "volume-by-day"
    }
    fn title(&self) -> String {
        "Requests and tokens per day per source region".into()
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 800)
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let subtitle =
            "Every record, failed calls included; tokens are input + output (cache reads and writes not counted).";
        let Some(plot) = framed(root, &self.title(), subtitle, &self.requests)? else { return Ok(()) };
        let (top, bottom) = plot.split_vertically(plot.dim_in_pixel().1 / 2);
        let max = |l: &Lines| upper(l.iter().flat_map(|l| l.2.iter().flatten()).fold(0.0f64, |a, &b| a.max(b)), 1.1);
        let tick = |v: &f64| compact(*v);
        panel(&top, &self.days, &self.requests, "Requests", "requests per day", max(&self.requests), &tick)?;
        panel(&bottom, &self.days, &self.tokens, "Tokens (input + output)", "tokens per day", max(&self.tokens), &tick)
    }
}
