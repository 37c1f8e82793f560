//! Summary (or a result table) -> bytes. Renderers never write files or print.

pub mod charts;
pub mod doc;
pub mod html;
pub mod json;
pub mod markdown;
pub mod png;
pub mod table;
pub mod terminal;

pub(crate) fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

pub(crate) fn usd(v: f64) -> String {
    format!("${v:.4}")
}
