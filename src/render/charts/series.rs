//! Day series per source region: the rerouting rate, and requests and tokens. One colour per
//! source region, the same in both charts.

use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{compact, label, legend_width, page, text, upper, Area, Axis, Drawn, Plot, INK, OTHER, WIDTH};
use crate::summary::{DayRegion, Summary};

/// One line per source region: (name, colour, a value per day or none).
type Lines = Vec<(String, RGBColor, Vec<Option<f64>>)>;

struct Daily {
    axis: Axis,
    /// The source regions drawn as their own line, the rest summed into one "other" line.
    regions: Vec<String>,
    other: Option<String>,
}

/// Lines drawn at most: the palette's colours, the last for "other".
const MAX_LINES: usize = super::PALETTE.len();

impl Daily {
    fn new(s: &Summary) -> Self {
        let mut regions: Vec<(usize, &crate::summary::RegionRoutes)> =
            s.rerouting.by_source_region.iter().enumerate().collect();
        let mut other = None;
        if regions.len() > MAX_LINES {
            // The busiest keep a line (in the summary's order); the rest are one.
            regions.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(&b.0)));
            other = Some(format!("other ({} regions)", regions.len() - (MAX_LINES - 1)));
            regions.truncate(MAX_LINES - 1);
            regions.sort_by_key(|r| r.0);
        }
        Daily {
            axis: Axis::new(&s.window, s.daily.by_source_region.iter().map(|r| r.day.as_str())),
            regions: regions.into_iter().map(|r| r.1.source_region.clone()).collect(),
            other,
        }
    }

    /// Per line, per bucket: the sum of `value` over the day rows, times `scale`, divided by the
    /// sum of `per` when given (a rate); `missing` for buckets without a row (or a zero `per`).
    fn lines(
        &self,
        s: &Summary,
        value: impl Fn(&DayRegion) -> f64,
        per: Option<&dyn Fn(&DayRegion) -> f64>,
        scale: f64,
        missing: Option<f64>,
    ) -> Lines {
        let rows = s
            .daily
            .by_source_region
            .iter()
            .map(|r| (r.day.as_str(), r.source_region.as_str(), value(r), per.map_or(1.0, |p| p(r))));
        self.lines_of(rows, per.is_some(), scale, missing)
    }

    /// `lines` over any rows of (day, source region, value, divisor).
    fn lines_of<'a>(
        &self,
        rows: impl Iterator<Item = (&'a str, &'a str, f64, f64)>,
        rate: bool,
        scale: f64,
        missing: Option<f64>,
    ) -> Lines {
        let n = self.regions.len() + usize::from(self.other.is_some());
        let mut sums = vec![vec![None::<(f64, f64)>; self.axis.len()]; n];
        for (day, region, value, per) in rows {
            let line = self.regions.iter().position(|x| x == region).unwrap_or(n - 1);
            if let Some(b) = self.axis.index(day) {
                let (v, d) = sums[line][b].get_or_insert((0.0, 0.0));
                *v += value;
                *d += per;
            }
        }
        let names = self
            .regions
            .iter()
            .map(|r| (label(r, 24), None))
            .chain(self.other.iter().map(|o| (o.clone(), Some(OTHER))));
        names
            .zip(sums)
            .enumerate()
            .map(|(i, ((name, colour), sums))| {
                let values = sums
                    .into_iter()
                    .map(|sum| match (sum, rate) {
                        (None, _) => missing,
                        (Some((_, 0.0)), true) => missing,
                        (Some((v, d)), true) => Some(v / d * scale),
                        (Some((v, _)), false) => Some(v * scale),
                    })
                    .collect();
                (name, colour.unwrap_or_else(|| super::colour(i)), values)
            })
            .collect()
    }
}

/// A line chart over days in `area`; gaps (days without a value) break the line.
fn panel<DB: DrawingBackend>(
    area: &Area<DB>,
    axis: &Axis,
    lines: &Lines,
    caption: &str,
    y_desc: &str,
    y_max: f64,
    y_tick: &dyn Fn(&f64) -> String,
) -> Drawn<DB> {
    let n = axis.len();
    let mut builder = ChartBuilder::on(area);
    if !caption.is_empty() {
        builder.caption(caption, text(15, INK));
    }
    let mut chart = builder
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_max)?;
    let tick = |v: &f64| axis.tick(*v);
    chart
        .configure_mesh()
        .x_labels(n.clamp(2, 12))
        .x_label_formatter(&tick)
        .y_labels(6)
        .y_label_formatter(y_tick)
        .x_desc(axis.desc())
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
            // Markers tell lines apart; on a long axis they would only pile up on each other.
            if n <= 62 {
                chart.draw_series(run.iter().map(|p| EmptyElement::at(*p) + marker(i, *c)))?;
            }
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
    axis: Axis,
    lines: Lines,
}

impl ReroutingRate {
    pub fn new(s: &Summary) -> Self {
        let d = Daily::new(s);
        // A day without requests has no rate: a gap, not zero.
        let lines = d.lines(s, |r| r.rerouted as f64, Some(&|r| r.requests as f64), 100.0, None);
        ReroutingRate { axis: d.axis, lines }
    }
}

impl Plot for ReroutingRate {
    fn id(&self) -> super::Id {
        super::Id::Rate
    }
    fn title(&self) -> String {
        format!("Rerouting rate per source region per {}", self.axis.unit())
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let subtitle = format!(
            "Rerouted requests as a share of the source region's requests that {} (unknown routes count as not rerouted).",
            self.axis.unit()
        );
        let Some(plot) = framed(root, &self.title(), &subtitle, &self.lines)? else { return Ok(()) };
        let max = self.lines.iter().flat_map(|l| l.2.iter().flatten()).fold(0.0f64, |a, &b| a.max(b));
        // Whole tens of percent, up to 100.
        let top = ((max / 10.0).floor() * 10.0 + 10.0).min(100.0);
        let pct = |v: &f64| format!("{v:.0}%");
        panel(&plot, &self.axis, &self.lines, "", "rerouted (% of requests)", top, &pct)
    }
}

/// Requests per day and tokens (input + output) per day, per source region.
pub struct Volume {
    axis: Axis,
    requests: Lines,
    tokens: Lines,
}

impl Volume {
    pub fn new(s: &Summary) -> Self {
        let d = Daily::new(s);
        // A day without requests had zero of both.
        let requests = d.lines(s, |r| r.requests as f64, None, 1.0, Some(0.0));
        let tokens =
            d.lines(s, |r| (r.input_tokens.unwrap_or(0) + r.output_tokens.unwrap_or(0)) as f64, None, 1.0, Some(0.0));
        Volume { axis: d.axis, requests, tokens }
    }
}

impl Plot for Volume {
    fn id(&self) -> super::Id {
        super::Id::Volume
    }
    fn title(&self) -> String {
        format!("Requests and tokens per {} per source region", self.axis.unit())
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
        let per = |what: &str| format!("{what} per {}", self.axis.unit());
        panel(&top, &self.axis, &self.requests, "Requests", &per("requests"), max(&self.requests), &tick)?;
        panel(&bottom, &self.axis, &self.tokens, "Tokens (input + output)", &per("tokens"), max(&self.tokens), &tick)
    }
}

/// Invocation-logging coverage per source region per day: the share of CloudTrail's calls that
/// have an invocation-log record.
pub struct Coverage {
    axis: Axis,
    lines: Lines,
}

impl Coverage {
    pub fn new(s: &Summary) -> Self {
        let d = Daily::new(s);
        let days = s.coverage.iter().flat_map(|c| c.by_source_region_day.iter());
        // A day without CloudTrail calls has no coverage: a gap, not zero.
        let rows = days.map(|r| {
            (r.day.as_str(), r.source_region.as_str(), r.cloudtrail_calls_logged as f64, r.cloudtrail_calls as f64)
        });
        let lines = d.lines_of(rows, true, 100.0, None);
        Coverage { axis: d.axis, lines }
    }
}

impl Plot for Coverage {
    fn id(&self) -> super::Id {
        super::Id::Coverage
    }
    fn title(&self) -> String {
        format!("Invocation-logging coverage per source region per {}", self.axis.unit())
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let subtitle = "CloudTrail calls with an invocation-log record, as a share of the region's CloudTrail calls; below 100%: logging off or partial.";
        let Some(plot) = framed(root, &self.title(), subtitle, &self.lines)? else { return Ok(()) };
        let pct = |v: &f64| format!("{v:.0}%");
        panel(&plot, &self.axis, &self.lines, "", "logged (% of CloudTrail calls)", 105.0, &pct)
    }
}
