//! `report.html`: the report document (render::doc) as one self-contained page: inline CSS, no
//! script, nothing fetched, and a Content-Security-Policy that forbids all of it anyway. Every
//! string is escaped for HTML.

use std::fmt::Write;

use super::charts::Drawing;
use super::doc::{self, Block, Doc};
use super::table::Column;
use crate::escape::html as h;
use crate::summary::Summary;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1a1a1a}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0 1em;display:block;max-width:100%;overflow-x:auto}\
th,td{padding:.25em .6em;border-bottom:1px solid #eee;white-space:nowrap}\
th{text-align:left;background:#f6f6f6}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
code{background:#f3f3f3;padding:0 .2em}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto;display:block}@media print{body{margin:0}}";

pub fn report(s: &Summary, charts: &[Drawing]) -> Vec<u8> {
    render(&doc::report(s, charts)).into_bytes()
}

fn inline(text: &str) -> String {
    doc::runs(text).map(|(code, t)| if code { format!("<code>{}</code>", h(t)) } else { h(t) }).collect()
}

pub fn render(d: &Doc) -> String {
    let mut o = String::new();
    let title = d.blocks.iter().find_map(|b| if let Block::Title(t) = b { Some(t.as_str()) } else { None });
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        h(title.unwrap_or("mila report"))
    );
    for block in &d.blocks {
        match block {
            Block::Title(t) => {
                let _ = writeln!(o, "<h1>{}</h1>", inline(t));
            }
            Block::Heading(t) => {
                let _ = writeln!(o, "<h2>{}</h2>", inline(t));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(o, "<p>{}</p>", inline(t));
            }
            Block::Bullets(items) => {
                let _ = writeln!(o, "<ul>");
                for item in items {
                    let _ = writeln!(o, "<li>{}</li>", inline(item));
                }
                let _ = writeln!(o, "</ul>");
            }
            Block::Chart { name, title, svg } => {
                // plotters escapes the text it writes; the namespace is implied inside HTML, and
                // dropping it leaves no URL in the page.
                let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
                // The chart draws its own title; the figure is named for links and assistive tools.
                let svg = svg.trim_start_matches(|c| c != '<');
                let _ = writeln!(o, "<figure id=\"{}\" title=\"{}\">\n{svg}</figure>", h(name), h(title));
            }
            Block::Table(t) => {
                // Numbers are right-aligned.
                let class = |c: &Column| if c.text { "" } else { " class=\"n\"" };
                let _ = write!(o, "<table>\n<thead><tr>");
                for c in &t.columns {
                    let _ = write!(o, "<th{}>{}</th>", class(c), h(&c.header));
                }
                let _ = writeln!(o, "</tr></thead>\n<tbody>");
                for row in &t.rows {
                    let _ = write!(o, "<tr>");
                    for (cell, c) in row.iter().zip(&t.columns) {
                        let _ = write!(o, "<td{}>{}</td>", class(c), h(&cell.shown()));
                    }
                    let _ = writeln!(o, "</tr>");
                }
                let _ = writeln!(o, "</tbody>\n</table>");
            }
        }
    }
    o.push_str("</body>\n</html>\n");
    o
}
