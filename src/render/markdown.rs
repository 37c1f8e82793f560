//! `report.md`: the report document (render::doc) as Markdown. Every string is escaped for
//! Markdown; only mila's own code spans are kept as such.

use std::fmt::Write;

use super::charts::Drawing;
use super::doc::{self, Block, Doc};
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
            Block::Table { headers, rows } => table(&mut o, headers, rows),
            Block::Chart { name, title, .. } => {
                let _ = writeln!(o, "![{}]({name}.png)\n", md(title));
            }
        }
    }
    o
}

fn table(out: &mut String, headers: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", headers.iter().map(|h| md(h)).collect::<Vec<_>>().join(" | "));
    let align = |h: &String| if doc::is_text(h) { " --- |" } else { " ---: |" };
    let _ = writeln!(out, "|{}", headers.iter().map(align).collect::<String>());
    for row in rows {
        let _ = writeln!(out, "| {} |", row.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | "));
    }
    if rows.is_empty() {
        let _ = writeln!(out, "| {} |", vec!["–"; headers.len()].join(" | "));
    }
    out.push('\n');
}
