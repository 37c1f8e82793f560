//! Source region x inference region: the picture of rerouting. Each cell holds the request count
//! and its share of the source region's requests; the shade follows the share, so the diagonal
//! (local) and the off-diagonal (rerouted) read at a glance whatever the volumes.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{fit, label, page, text, thousands, Area, Drawn, Plot, INK, MUTED, WIDTH};
use crate::summary::Summary;

const UNKNOWN: &str = "unknown";
/// Below the title: the axis names, then the column labels.
const HEAD: i32 = 70 + 28;
const ROW: i32 = 46;
/// Wide enough for "12,345" and "100.0%"; column labels that do not fit are turned upright.
const CELL: i32 = 68;
/// Longest label drawn, in characters.
const MAX_LABEL: usize = 24;

pub struct Flows {
    rows: Vec<String>,
    cols: Vec<String>,
    /// counts[row][col]; the last column is "unknown" when any route is unknown.
    counts: Vec<Vec<u64>>,
    totals: Vec<u64>,
    /// Rows that are source regions (the rest is the folded "other" row): the diagonal.
    regions: usize,
}

/// Source regions drawn as rows, and inference regions drawn as columns besides them; the
/// rest is folded into one "other" row or column, so the chart stays readable (and its
/// canvas small) however many region strings the logs hold.
const MAX_ROWS: usize = 12;
const MAX_COLS: usize = 16;

/// `names` cut to the `keep` with the most requests (their order kept), and the rest's label.
fn top(names: Vec<(String, u64)>, keep: usize) -> (Vec<String>, Option<String>) {
    if names.len() <= keep {
        return (names.into_iter().map(|n| n.0).collect(), None);
    }
    let mut ranked: Vec<usize> = (0..names.len()).collect();
    ranked.sort_by(|&a, &b| names[b].1.cmp(&names[a].1).then(a.cmp(&b)));
    let mut kept: Vec<usize> = ranked[..keep - 1].to_vec();
    kept.sort();
    let other = format!("other ({} regions)", names.len() - kept.len());
    (kept.into_iter().map(|i| names[i].0.clone()).collect(), Some(other))
}

impl Flows {
    pub fn new(s: &Summary) -> Self {
        let sources = s.rerouting.by_source_region.iter().map(|r| (r.source_region.clone(), r.requests)).collect();
        let (mut rows, other_row) = top(sources, MAX_ROWS);
        let regions = rows.len();
        // Source regions first, in row order, so local cells form the diagonal; then the other
        // inference regions, sorted.
        let mut others: std::collections::BTreeMap<&str, u64> = Default::default();
        for f in &s.rerouting.flows {
            let Some(ir) = f.inference_region.as_ref().filter(|ir| !rows.contains(ir)) else { continue };
            *others.entry(ir).or_default() += f.requests;
        }
        let others = others.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let (others, other_col) = top(others, MAX_COLS.saturating_sub(regions).max(1));
        let mut cols = rows.clone();
        cols.extend(others);
        let folded_col = other_col.map(|c| {
            cols.push(c);
            cols.len() - 1
        });
        let unknown_col = s.rerouting.flows.iter().any(|f| f.inference_region.is_none()).then(|| {
            cols.push(UNKNOWN.to_string());
            cols.len() - 1
        });
        let folded_row = other_row.map(|r| {
            rows.push(r);
            rows.len() - 1
        });
        // A name that is not drawn lands in the folded row or column.
        let row_of = |name: &str| rows[..regions].iter().position(|r| r == name).or(folded_row);
        let mut counts = vec![vec![0; cols.len()]; rows.len()];
        let mut totals = vec![0; rows.len()];
        for f in &s.rerouting.flows {
            let c = match &f.inference_region {
                Some(ir) => cols.iter().position(|c| c == ir).filter(|c| Some(*c) != unknown_col).or(folded_col),
                None => unknown_col,
            };
            if let (Some(r), Some(c)) = (row_of(&f.source_region), c) {
                counts[r][c] += f.requests;
            }
        }
        for r in &s.rerouting.by_source_region {
            if let Some(i) = row_of(&r.source_region) {
                totals[i] += r.requests;
            }
        }
        Flows { rows, cols, counts, totals, regions }
    }

    /// The left label column's width and the column labels' height, from the longest labels:
    /// at 13 px DejaVu Sans is at most 7 px a character for region names (lower case, digits,
    /// hyphens); `fit` cuts whatever is wider when drawing.
    fn layout(&self) -> Layout {
        let widest = |v: &[String]| v.iter().map(|s| label(s, MAX_LABEL).chars().count()).max().unwrap_or(0) as i32;
        let upright = 7 * widest(&self.cols) > CELL - 8;
        let header = if upright { 7 * widest(&self.cols) + 12 } else { 24 };
        Layout { left: 40 + 7 * widest(&self.rows).max(14), header, upright, top: HEAD + header }
    }
}

/// ColorBrewer "Blues", light to dark: one hue, so it reads the same to colour-blind eyes and in
/// grey print.
fn shade(share: f64) -> RGBColor {
    const STOPS: [(f64, (u8, u8, u8)); 5] = [
        (0.0, (0xf7, 0xfb, 0xff)),
        (0.25, (0xc6, 0xdb, 0xef)),
        (0.5, (0x6b, 0xae, 0xd6)),
        (0.75, (0x21, 0x71, 0xb5)),
        (1.0, (0x08, 0x30, 0x6b)),
    ];
    let x = share.clamp(0.0, 1.0);
    let i = STOPS.iter().rposition(|(at, _)| *at <= x).unwrap_or(0).min(STOPS.len() - 2);
    let ((a, ca), (b, cb)) = (STOPS[i], STOPS[i + 1]);
    let t = (x - a) / (b - a);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * t).round() as u8;
    RGBColor(mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2))
}

struct Layout {
    left: i32,
    header: i32,
    /// Column labels drawn reading upwards.
    upright: bool,
    /// Where the first row starts.
    top: i32,
}

impl Plot for Flows {
    fn id(&self) -> super::Id {
        super::Id::Matrix
    }

    fn title(&self) -> String {
        "Where requests ran: source region × inference region".into()
    }

    fn size(&self) -> (u32, u32) {
        let l = self.layout();
        let width = (l.left + CELL * self.cols.len() as i32 + 30).max(WIDTH as i32);
        let height = l.top + ROW * self.rows.len().max(1) as i32 + 50;
        (width as u32, height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        page(
            root,
            &self.title(),
            "Requests per cell and their share of the source region's requests; darker = larger share.",
        )?;
        if self.rows.is_empty() {
            return super::no_data(&root.margin(70, 0, 0, 0), "No requests in this window.");
        }
        let Layout { left, header, upright, top } = self.layout();
        let cell = CELL;
        let centre = |p: HPos| Pos::new(p, VPos::Center);
        root.draw(&Text::new("inference region (where it ran) →", (left, 78), text(14, MUTED)))?;
        root.draw(&Text::new("source region ↓", (20, 78), text(14, MUTED)))?;
        for (c, name) in self.cols.iter().enumerate() {
            let x = left + c as i32 * cell + cell / 2;
            if upright {
                let name = fit(root, &label(name, MAX_LABEL), &text(13, INK), header as u32 - 8)?;
                let style = text(13, INK).pos(centre(HPos::Left)).transform(FontTransform::Rotate270);
                root.draw(&Text::new(name, (x, top - 6), style))?;
            } else {
                let name = fit(root, &label(name, MAX_LABEL), &text(13, INK), cell as u32 - 8)?;
                root.draw(&Text::new(name, (x, top - 12), text(13, INK).pos(centre(HPos::Center))))?;
            }
        }
        for (r, name) in self.rows.iter().enumerate() {
            let y = top + r as i32 * ROW;
            let name = fit(root, &label(name, MAX_LABEL), &text(13, INK), left as u32 - 28)?;
            root.draw(&Text::new(name, (20, y + ROW / 2), text(13, INK).pos(centre(HPos::Left))))?;
            for (c, &n) in self.counts[r].iter().enumerate() {
                let x = left + c as i32 * cell;
                let share = if self.totals[r] == 0 { 0.0 } else { n as f64 / self.totals[r] as f64 };
                root.draw(&Rectangle::new([(x + 1, y + 1), (x + cell - 1, y + ROW - 1)], shade(share).filled()))?;
                if c == r && r < self.regions {
                    root.draw(&Rectangle::new([(x + 1, y + 1), (x + cell - 1, y + ROW - 1)], INK.stroke_width(2)))?;
                }
                if n == 0 {
                    continue;
                }
                let ink = if share > 0.5 { WHITE } else { INK };
                let mid = x + cell / 2;
                root.draw(&Text::new(thousands(n), (mid, y + 15), text(14, ink).pos(centre(HPos::Center))))?;
                let pct = format!("{:.1}%", share * 100.0);
                root.draw(&Text::new(pct, (mid, y + 32), text(11, ink).pos(centre(HPos::Center))))?;
            }
        }
        let note = "Outlined: local (ran in its source region). Unknown: the log does not say where the call ran.";
        let y = top + ROW * self.rows.len() as i32 + 22;
        root.draw(&Text::new(note, (20, y), text(13, MUTED)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades() {
        let cases = [
            (0.0, RGBColor(0xf7, 0xfb, 0xff)),
            (1.0, RGBColor(0x08, 0x30, 0x6b)),
            (0.5, RGBColor(0x6b, 0xae, 0xd6)),
            (2.0, RGBColor(0x08, 0x30, 0x6b)),
            (0.125, RGBColor(0xdf, 0xeb, 0xf7)),
        ];
        for (share, want) in cases {
            assert_eq!(shade(share), want, "{share}");
        }
    }
}
