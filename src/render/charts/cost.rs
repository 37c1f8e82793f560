//! Cost per day, stacked by the value of the first application-profile tag key (by model when
//! the profiles have no tags). The biggest groups get a colour each; the rest are "other".

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{label, legend, legend_width, page, text, upper, Area, Axis, Drawn, Plot, INK, OTHER, PALETTE, WIDTH};
use crate::summary::{Cost, Summary};

pub struct PerDay {
    axis: Axis,
    /// What the stacks are: `tag team` or `model`.
    by: String,
    /// (group, colour, usd per day), biggest total first, "other" last.
    groups: Vec<(String, RGBColor, Vec<f64>)>,
    unpriced: u64,
}

impl PerDay {
    pub fn new(s: &Summary, cost: &Cost) -> Self {
        let key = stack_key(cost);
        // A model's batch jobs are a series of their own: never stacked as its on-demand calls.
        let models: Vec<String> = s
            .daily
            .cost_by_model
            .iter()
            .map(|r| match r.kind {
                crate::summary::batch::BATCH => format!("{} (batch)", r.model),
                _ => r.model.clone(),
            })
            .collect();
        let (by, rows): (String, Vec<(&str, &str, f64)>) = match &key {
            Some(k) => (
                format!("tag `{}`", label(k, 32)),
                s.daily
                    .cost_by_tag
                    .iter()
                    .filter(|r| &r.key == k)
                    .map(|r| (r.day.as_str(), r.value.as_str(), r.usd))
                    .collect(),
            ),
            None => (
                "model".into(),
                s.daily.cost_by_model.iter().zip(&models).map(|(r, m)| (r.day.as_str(), m.as_str(), r.usd)).collect(),
            ),
        };
        let axis = Axis::new(&s.window, rows.iter().map(|r| r.0));
        // In first-seen order, as the sort below breaks ties by name anyway.
        let mut totals: std::collections::HashMap<&str, f64> = Default::default();
        for (_, g, usd) in &rows {
            *totals.entry(g).or_default() += usd;
        }
        let mut totals: Vec<(String, f64)> = totals.into_iter().map(|(g, usd)| (g.to_string(), usd)).collect();
        // Biggest first; equal totals by name, so the order is the same every run.
        totals.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let named = if totals.len() > PALETTE.len() { PALETTE.len() - 1 } else { totals.len() };
        let mut groups: Vec<(String, RGBColor, Vec<f64>)> = totals[..named]
            .iter()
            .enumerate()
            .map(|(i, (g, _))| (g.clone(), super::colour(i), vec![0.0; axis.len()]))
            .collect();
        if totals.len() > named {
            groups.push(("other".into(), OTHER, vec![0.0; axis.len()]));
        }
        for (day, g, usd) in rows {
            let i = groups.iter().position(|(name, _, _)| name == g).unwrap_or(groups.len() - 1);
            if let Some(d) = axis.index(day) {
                groups[i].2[d] += usd;
            }
        }
        PerDay { axis, by, groups, unpriced: cost.unpriced_requests }
    }
}

/// The tag key that splits cost the most ways (the most values besides untagged); the first by
/// name among equals.
fn stack_key(cost: &Cost) -> Option<String> {
    let mut keys: Vec<(&str, usize)> = Vec::new();
    for t in &cost.by_tag {
        let tagged = usize::from(t.value != crate::analysis::cost::UNTAGGED);
        match keys.iter_mut().find(|(k, _)| *k == t.key) {
            Some(k) => k.1 += tagged,
            None => keys.push((&t.key, tagged)),
        }
    }
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    keys.first().map(|(k, _)| k.to_string())
}

impl Plot for PerDay {
    fn id(&self) -> super::Id {
        super::Id::Cost
    }
    fn title(&self) -> String {
        format!("Cost per {} by {}", self.axis.unit(), self.by.replace('`', ""))
    }
    fn size(&self) -> (u32, u32) {
        (WIDTH, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn<DB> {
        let subtitle = format!(
            "USD at the prices in force; failed calls cost nothing; {} unpriced requests are not included.",
            self.unpriced
        );
        let body = page(root, &self.title(), &subtitle)?;
        if self.axis.is_empty() || self.groups.is_empty() {
            return super::no_data(&body, "No requests in this window.");
        }
        // Top of the legend = top of the stack.
        let entries: Vec<(String, RGBColor)> = self
            .groups
            .iter()
            .rev()
            .map(|(g, c, v)| (format!("{}  ${:.2}", label(g, 28), v.iter().sum::<f64>()), *c))
            .collect();
        let names: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
        let (plot, key) = body.split_horizontally(WIDTH as i32 - legend_width(root, &names)? as i32);
        legend(&key.margin(24, 0, 0, 0), &entries)?;
        let n = self.axis.len();
        let per_day: Vec<f64> = (0..n).map(|d| self.groups.iter().map(|g| g.2[d]).sum()).collect();
        let top = upper(per_day.iter().fold(0.0f64, |a, &b| a.max(b)), 1.1);
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)?;
        let tick = |v: &f64| self.axis.tick(*v);
        // Enough decimals that neighbouring ticks differ.
        let dollars = |v: &f64| match top {
            t if t < 0.1 => format!("${v:.4}"),
            t if t < 10.0 => format!("${v:.2}"),
            _ => format!("${v:.0}"),
        };
        chart
            .configure_mesh()
            .x_labels(n.clamp(2, 12))
            .x_label_formatter(&tick)
            .y_labels(6)
            .y_label_formatter(&dollars)
            .x_desc(self.axis.desc())
            .y_desc("cost (USD)")
            .axis_desc_style(text(14, INK))
            .label_style(text(12, INK))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .draw()?;
        let mut base = vec![0.0; n];
        for (_, c, values) in &self.groups {
            let bars = (0..n).filter(|&d| values[d] > 0.0).map(|d| {
                let (x, y0) = (d as f64, base[d]);
                Rectangle::new([(x - 0.35, y0), (x + 0.35, y0 + values[d])], c.filled())
            });
            chart.draw_series(bars.collect::<Vec<_>>())?;
            for d in 0..n {
                base[d] += values[d];
            }
        }
        // The bucket's total above each stack, where there is room for it.
        let totals = (0..n).filter(|&d| per_day[d] > 0.0 && n <= 31).map(|d| {
            EmptyElement::at((d as f64, per_day[d]))
                + Text::new(
                    format!("${:.2}", per_day[d]),
                    (0, -4),
                    text(11, INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
        });
        chart.draw_series(totals.collect::<Vec<_>>())?;
        Ok(())
    }
}
