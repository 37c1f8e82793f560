//! report.html is one self-contained page, and nothing from a log can become markup: an XSS
//! corpus in every field a report shows, parsed back with an HTML5 parser.

mod common;
use common::*;
use std::rc::Rc;

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use serde_json::json;

const PAYLOADS: [&str; 6] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "'><svg onload=alert(3)>",
    "</td></tr></table><iframe src=javascript:alert(4)>",
    "<a href=\"javascript:alert(5)\">x</a>",
    "&lt;b&gt;&#x3C;style&#x3E;",
];

/// Elements and attributes of the whole document, its text, and the text inside SVG charts.
#[derive(Default)]
struct Page {
    elements: Vec<String>,
    attrs: Vec<(String, String)>,
    text: String,
    svg_text: String,
}

fn walk(node: &Handle, page: &mut Page, in_svg: bool) {
    let mut in_svg = in_svg;
    match &node.data {
        NodeData::Element { name, attrs: a, .. } => {
            page.elements.push(name.local.to_string());
            in_svg |= &*name.local == "svg";
            for at in a.borrow().iter() {
                page.attrs.push((at.name.local.to_string(), at.value.to_string()));
            }
        }
        NodeData::Text { contents } => {
            page.text.push_str(&contents.borrow());
            if in_svg {
                page.svg_text.push_str(&contents.borrow());
            }
        }
        _ => {}
    }
    for child in node.children.borrow().iter() {
        walk(child, page, in_svg);
    }
}

#[test]
fn log_strings_never_become_markup() {
    let dir = tempdir();
    let mut lines = Vec::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        lines.push(
            json!({
                "schemaType": "ModelInvocationLog", "timestamp": "2026-11-10T08:00:00Z", "requestId": format!("x{i}"),
                "region": format!("us-east-1{p}"), "inferenceRegion": format!("eu-west-1{p}"),
                "operation": "Converse", "modelId": format!("anthropic.{p}"), "errorCode": format!("E{p}"),
                "input": {"inputTokenCount": 1}, "output": {"outputTokenCount": 1},
            })
            .to_string(),
        );
    }
    lines.push("not json <script>alert(6)</script>".into());
    std::fs::write(dir.path().join("x.jsonl"), lines.join("\n")).unwrap();
    // A damaged object whose name is markup: it is listed under unreadable input.
    std::fs::write(dir.path().join("<img src=x onerror=alert(7)>.json.gz"), [0x1f, 0x8b, 8, 0, 1, 2]).unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[rule]]\nsource = \"*\"\nallow = [\"us-*\"]\n").unwrap();
    let out = dir.path().join("out");
    let (d, p, o) = (dir.path().to_str().unwrap(), policy.to_str().unwrap(), out.to_str().unwrap());
    ok(&["report", d, "--policy", p, "--out", o]);
    let page = std::fs::read(out.join("report.html")).unwrap();
    let dom = html5ever::parse_document(RcDom::default(), Default::default()).from_utf8().one(&page[..]);
    let mut parsed = Page::default();
    walk(&dom.document, &mut parsed, false);
    let Page { elements, attrs, text, svg_text } = parsed;
    let allowed = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "p",
        "ul",
        "li",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        // The inline SVG charts: shapes and text only.
        "svg",
        "rect",
        "text",
        "polyline",
        "polygon",
        "circle",
        "line",
    ];
    for e in &elements {
        assert!(allowed.contains(&e.as_str()), "element <{e}> in report.html");
    }
    let svg_attrs = [
        "width",
        "height",
        "viewBox",
        "x",
        "y",
        "dy",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "points",
        "fill",
        "stroke",
        "stroke-width",
        "opacity",
        "font-family",
        "font-size",
        "text-anchor",
        "transform",
    ];
    for (name, value) in &attrs {
        assert!(
            ["charset", "http-equiv", "content", "name", "lang", "class", "id", "title"].contains(&name.as_str())
                || svg_attrs.contains(&name.as_str()),
            "attribute {name}={value}"
        );
        assert!(!value.contains("javascript"), "attribute {name}={value}");
    }
    // The charts are there, one inline SVG each, and the payloads reached them as text.
    assert_eq!(elements.iter().filter(|e| *e == "svg").count(), 7);
    assert!(elements.iter().filter(|e| *e == "text").count() > 50);
    assert!(svg_text.contains("us-east-1<script>"), "region payload not drawn as chart text:\n{svg_text}");
    assert!(svg_text.contains("anthropic.\"><img"), "model payload not drawn as chart text:\n{svg_text}");
    let csp: Vec<&(String, String)> =
        attrs.iter().filter(|(n, v)| n == "http-equiv" && v == "Content-Security-Policy").collect();
    assert_eq!(csp.len(), 1);
    assert!(attrs.iter().any(|(n, v)| n == "content" && v.starts_with("default-src 'none'")));
    // Every payload is there, as text.
    for p in PAYLOADS {
        assert!(text.contains(&format!("anthropic.{p}")), "model id {p} not shown as text");
        assert!(text.contains(&format!("E{p}")), "error code {p} not shown as text");
    }
    assert!(text.contains("<img src=x onerror=alert(7)>.json.gz"), "file name not shown as text");
    // Nothing is fetched: no URL anywhere in the markup.
    let raw = String::from_utf8(page).unwrap();
    assert!(!raw.contains("http://") && !raw.contains("https://"), "a URL in:\n{raw}");
    for tag in ["<script", "<img", "<svg onload", "<iframe", "<a "] {
        assert!(!raw.contains(tag), "{tag} in the markup");
    }
    assert_eq!(raw.matches("<svg").count(), 7, "one <svg> per chart, none from a log");
    let _ = Rc::strong_count(&dom.document);
}

#[test]
fn html_and_markdown_show_the_same_tables() {
    let out = tempdir();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let o = out.path().to_str().unwrap();
    ok(&["report", root.to_str().unwrap(), "--profiles", root.join("profiles.toml").to_str().unwrap(), "--out", o]);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    // The same number of headings and table rows, and a known row in both.
    assert_eq!(md.matches("\n## ").count(), html.matches("<h2>").count());
    let md_rows = md.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| ---")).count();
    assert_eq!(md_rows, html.matches("<tr>").count());
    assert!(md.contains("| us-west-2 | 400 | 291 | 86 | 23 | 21.5% |"), "{md}");
    assert!(
        html.contains("<tr><td>us-west-2</td><td class=\"n\">400</td><td class=\"n\">291</td><td class=\"n\">86</td><td class=\"n\">23</td><td class=\"n\">21.5%</td></tr>"),
        "{html}"
    );
}
