//! `report.md`: the report document (render::doc) as Markdown. Every string is escaped for
//! Markdown; only mila's own code spans are kept as such.

use std::fmt::Write;

use super::charts::Drawing;
use super::doc::{self, Block, Doc};
use super::table::{Column, Table};
use crate::escape::markdown as md;
use crate::summary::Summary;

pub fn report(s: &Summary, charts: &[Drawing]) -> Vec<u8> {
    render(&doc::report(s, charts)).into_bytes()
}

fn inline(text: &str) -> String {
    doc::runs(text).map(|(code, t)| if code { format!("`{}`", t.replace('`', "")) } else { md(t) }).collect()
}

pub fn render(d: &Doc) -> String {
    let mut o = String::new();
    for block in &d.blocks {
        match block {
            Block::Title(t) => {
                let _ = writeln!(o, "# {}\n", inline(t));
            }
            Block::Heading(t) => {
                let _ = writeln!(o, "## {}\n", inline(t));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(o, "{}\n", inline(t));
            }
            Block::Bullets(items) => {
                for item in items {
                    let _ = writeln!(o, "- {}", inline(item));
                }
                o.push('\n');
            }
            Block::Table(t) => table(&mut o, t),
            Block::Chart { name, title, .. } => {
                let _ = writeln!(o, "![{}]({name}.png)\n", md(title));
            }
        }
    }
    o
}

/// Text columns are left-aligned, numbers right-aligned.
fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "| {} |", t.headers().map(md).collect::<Vec<_>>().join(" | "));
    let align = |c: &Column| if c.text { " --- |" } else { " ---: |" };
    let _ = writeln!(out, "|{}", t.columns.iter().map(align).collect::<String>());
    for row in &t.rows {
        let _ = writeln!(out, "| {} |", row.iter().map(|c| md(&c.shown())).collect::<Vec<_>>().join(" | "));
    }
    if t.rows.is_empty() {
        let _ = writeln!(out, "| {} |", vec!["–"; t.columns.len()].join(" | "));
    }
    out.push('\n');
}
