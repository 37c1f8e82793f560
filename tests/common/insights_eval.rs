//! A small evaluator of the Logs Insights QL mila writes, over events held here: the loopback
//! server of the Insights equality test answers StartQuery with it, because moto's Logs Insights
//! runs only `fields`, `sort` and `limit`. It follows AWS's Logs Insights QL reference
//! (CWL_QuerySyntax and its command pages): a JSON event's fields are discovered flattened
//! (`a.b.c`, array items as `a.0`), at most 200 of them in document order (the `parse` page:
//! "no more than 200 log event fields"); `parse @message /re/` sets its named groups; `fields
//! EXPR as NAME`; `filter`; `stats AGG as NAME, ... by KEY, bin(P) as NAME` (a missing key
//! groups as null and is left out of the row); a `filter` after `stats` filters its rows;
//! without `stats`, a row shows every field a `fields` command named, or what `display` names. `pct()` is nearest-rank.
//! Anything else panics, so a query mila writes that this does not know fails the test.

use std::collections::BTreeMap;

use regex::Regex;

#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    S(String),
    N(f64),
    B(bool),
    /// What `jsonParse` makes.
    J(serde_json::Value),
}

impl V {
    fn num(&self) -> Option<f64> {
        match self {
            V::N(n) => Some(*n),
            V::S(s) => s.parse().ok(),
            _ => None,
        }
    }
    fn present(&self) -> bool {
        !matches!(self, V::Null)
    }
    fn truthy(&self) -> bool {
        matches!(self, V::B(true))
    }
    pub fn show(&self) -> Option<String> {
        match self {
            V::Null => None,
            V::S(s) => Some(s.clone()),
            V::N(n) if n.fract() == 0.0 && n.abs() < 9e15 => Some(format!("{}", *n as i64)),
            V::N(n) => Some(n.to_string()),
            V::B(b) => Some(b.to_string()),
            V::J(j) => Some(j.to_string()),
        }
    }
}

/// A JSON value as a field's value (objects and lists stay maps and lists).
fn of_json(v: &serde_json::Value) -> V {
    match v {
        serde_json::Value::Null => V::Null,
        serde_json::Value::String(s) => V::S(s.clone()),
        serde_json::Value::Number(n) => V::N(n.as_f64().unwrap()),
        serde_json::Value::Bool(b) => V::B(*b),
        other => V::J(other.clone()),
    }
}

/// The fields discovered in one event.
pub fn discover(message: &str) -> BTreeMap<String, V> {
    let mut out = BTreeMap::new();
    let Ok(v) = serde_json::from_str::<serde_json::Value>(message) else { return out };
    if !v.is_object() {
        return out;
    }
    // serde_json keeps document order only with `preserve_order`; walk the text's order by
    // streaming it instead.
    let mut count = 0;
    flatten(&ordered(message), "", &mut out, &mut count);
    out
}

/// A JSON value with object keys in document order.
enum Ordered {
    Obj(Vec<(String, Ordered)>),
    Arr(Vec<Ordered>),
    Leaf(V),
}

fn ordered(text: &str) -> Ordered {
    struct Vis;
    impl<'de> serde::de::Visitor<'de> for Vis {
        type Value = Ordered;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("json")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                out.push((k, m.next_value::<Seed>()?.0));
            }
            Ok(Ordered::Obj(out))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Ordered, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = s.next_element::<Seed>()? {
                out.push(v.0);
            }
            Ok(Ordered::Arr(out))
        }
        fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::S(v.to_string())))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::N(v as f64)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::N(v as f64)))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::N(v)))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::B(v)))
        }
        fn visit_unit<E>(self) -> Result<Ordered, E> {
            Ok(Ordered::Leaf(V::Null))
        }
    }
    struct Seed(Ordered);
    impl<'de> serde::Deserialize<'de> for Seed {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seed, D::Error> {
            d.deserialize_any(Vis).map(Seed)
        }
    }
    serde_json::from_str::<Seed>(text).map(|s| s.0).unwrap_or(Ordered::Obj(Vec::new()))
}

const MAX_FIELDS: usize = 200;

fn flatten(v: &Ordered, path: &str, out: &mut BTreeMap<String, V>, count: &mut usize) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match v {
        Ordered::Obj(items) => items.iter().for_each(|(k, v)| flatten(v, &join(k), out, count)),
        Ordered::Arr(items) => {
            items.iter().enumerate().for_each(|(i, v)| flatten(v, &join(&i.to_string()), out, count))
        }
        Ordered::Leaf(V::Null) => {}
        Ordered::Leaf(leaf) => {
            if *count < MAX_FIELDS {
                *count += 1;
                out.insert(path.to_string(), leaf.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Num(f64),
    Str(String),
    Re(String),
    P(&'static str),
}

fn lex(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut v = String::new();
            i += 1;
            while b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                v.push(b[i] as char);
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(v));
        } else if c == '/' && matches!(out.last(), Some(Tok::P("=~"))) {
            let start = i + 1;
            i = start;
            while b[i] != b'/' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push(Tok::Re(s[start..i].to_string()));
            i += 1;
        } else if c == '`' {
            let end = s[i + 1..].find('`').unwrap() + i + 1;
            out.push(Tok::Id(s[i + 1..end].to_string()));
            i = end + 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            // `1m`, `1d`: a period.
            if i < b.len() && b[i].is_ascii_alphabetic() {
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Tok::Id(s[start..i].to_string()));
            } else {
                out.push(Tok::Num(s[start..i].parse().unwrap()));
            }
        } else if c.is_ascii_alphabetic() || c == '@' || c == '_' {
            let mut name = String::new();
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b"@_.`".contains(&b[i])) {
                if b[i] == b'`' {
                    // `a.`b-c``: a segment with characters a name cannot hold.
                    let end = s[i + 1..].find('`').unwrap() + i + 1;
                    name.push_str(&s[i + 1..end]);
                    i = end + 1;
                } else {
                    name.push(b[i] as char);
                    i += 1;
                }
            }
            out.push(Tok::Id(name));
        } else {
            let two = &s[i..(i + 2).min(s.len())];
            let p = ["=~", "!=", "<=", ">="].into_iter().find(|p| *p == two);
            match p {
                Some(p) => {
                    out.push(Tok::P(p));
                    i += 2;
                }
                None => {
                    let one = ["(", ")", ",", "[", "]", "+", "-", "=", "<", ">", "*"]
                        .into_iter()
                        .find(|p| p.as_bytes()[0] == b[i])
                        .unwrap_or_else(|| panic!("evaluator: unexpected `{c}` in {s}"));
                    out.push(Tok::P(one));
                    i += 1;
                }
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum E {
    Field(String),
    Lit(V),
    Call(String, Vec<E>),
    Bin(&'static str, Box<E>, Box<E>),
    Not(Box<E>),
    In(Box<E>, Vec<E>),
    Match(Box<E>, Regex),
    Star,
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Tok {
        self.i += 1;
        self.t[self.i - 1].clone()
    }
    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::P(q)) if *q == p) || matches!(self.peek(), Some(Tok::Id(q)) if q == p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expr(&mut self) -> E {
        let mut l = self.and();
        while self.eat("or") {
            l = E::Bin("or", Box::new(l), Box::new(self.and()));
        }
        l
    }
    fn and(&mut self) -> E {
        let mut l = self.not();
        while self.eat("and") {
            l = E::Bin("and", Box::new(l), Box::new(self.not()));
        }
        l
    }
    fn not(&mut self) -> E {
        if self.eat("not") {
            return E::Not(Box::new(self.not()));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> E {
        let l = self.sum();
        for p in ["=", "!=", "<", "<=", ">", ">="] {
            if self.eat(p) {
                return E::Bin(p, Box::new(l), Box::new(self.sum()));
            }
        }
        if self.eat("=~") {
            let Tok::Re(r) = self.next() else { panic!("evaluator: =~ without a regex") };
            return E::Match(Box::new(l), Regex::new(&r).unwrap());
        }
        if self.eat("in") {
            assert!(self.eat("["));
            let mut items = vec![self.expr()];
            while self.eat(",") {
                items.push(self.expr());
            }
            assert!(self.eat("]"));
            return E::In(Box::new(l), items);
        }
        l
    }
    fn sum(&mut self) -> E {
        let mut l = self.atom();
        loop {
            let op = match () {
                _ if self.eat("+") => "+",
                _ if self.eat("-") => "-",
                _ => return l,
            };
            l = E::Bin(op, Box::new(l), Box::new(self.atom()));
        }
    }
    fn atom(&mut self) -> E {
        match self.next() {
            Tok::Num(n) => E::Lit(V::N(n)),
            Tok::Str(s) => E::Lit(V::S(s)),
            Tok::P("(") => {
                let e = self.expr();
                assert!(self.eat(")"));
                e
            }
            Tok::P("*") => E::Star,
            Tok::Id(name) if self.eat("(") => {
                let mut args = Vec::new();
                if !self.eat(")") {
                    args.push(self.expr());
                    while self.eat(",") {
                        args.push(self.expr());
                    }
                    assert!(self.eat(")"), "evaluator: unclosed call of {name}");
                }
                E::Call(name, args)
            }
            Tok::Id(name) => E::Field(name),
            t => panic!("evaluator: unexpected {t:?}"),
        }
    }
}

fn parse_expr(s: &str) -> E {
    let mut p = Parser { t: lex(s), i: 0 };
    let e = p.expr();
    assert_eq!(p.i, p.t.len(), "evaluator: trailing tokens in `{s}`");
    e
}

fn eval(e: &E, r: &BTreeMap<String, V>) -> V {
    match e {
        E::Field(f) => match r.get(f) {
            Some(v) => v.clone(),
            // `map.attribute.attribute`: through what jsonParse made.
            None => {
                let mut parts = f.split('.');
                let head = parts.next().unwrap_or("");
                let Some(V::J(mut at)) = r.get(head).cloned() else { return V::Null };
                for p in parts {
                    at = match at {
                        serde_json::Value::Object(mut o) => o.remove(p).unwrap_or(serde_json::Value::Null),
                        _ => serde_json::Value::Null,
                    };
                }
                of_json(&at)
            }
        },
        E::Lit(v) => v.clone(),
        E::Star => V::B(true),
        E::Not(x) => V::B(!eval(x, r).truthy()),
        E::Match(x, re) => match eval(x, r) {
            V::S(s) => V::B(re.is_match(&s)),
            _ => V::B(false),
        },
        E::In(x, items) => {
            let v = eval(x, r);
            V::B(v.present() && items.iter().any(|i| eval(i, r) == v))
        }
        E::Bin(op, a, b) => {
            let (a, b) = (eval(a, r), eval(b, r));
            match *op {
                "and" => V::B(a.truthy() && b.truthy()),
                "or" => V::B(a.truthy() || b.truthy()),
                "+" | "-" => match (a.num(), b.num()) {
                    (Some(x), Some(y)) if *op == "+" => V::N(x + y),
                    (Some(x), Some(y)) => V::N(x - y),
                    _ => V::Null,
                },
                _ if !a.present() || !b.present() => V::B(false),
                op => {
                    let ord = match (a.num(), b.num()) {
                        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap(),
                        _ => a.show().cmp(&b.show()),
                    };
                    use std::cmp::Ordering::*;
                    V::B(match op {
                        "=" => ord == Equal,
                        "!=" => ord != Equal,
                        "<" => ord == Less,
                        "<=" => ord != Greater,
                        ">" => ord == Greater,
                        ">=" => ord != Less,
                        _ => unreachable!(),
                    })
                }
            }
        }
        E::Call(name, args) => {
            let vals: Vec<V> = args.iter().map(|a| eval(a, r)).collect();
            match name.as_str() {
                "coalesce" => vals.into_iter().find(V::present).unwrap_or(V::Null),
                "ispresent" => V::B(vals[0].present()),
                "jsonParse" => match &vals[0] {
                    V::S(s) => serde_json::from_str::<serde_json::Value>(s).map_or(V::Null, |j| of_json(&j)),
                    _ => V::Null,
                },
                "least" => {
                    let nums: Vec<f64> = vals.iter().filter_map(V::num).collect();
                    nums.into_iter().reduce(f64::min).map_or(V::Null, V::N)
                }
                "greatest" => {
                    let nums: Vec<f64> = vals.iter().filter_map(V::num).collect();
                    nums.into_iter().reduce(f64::max).map_or(V::Null, V::N)
                }
                other => panic!("evaluator: no function {other}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands.

/// Splits `a, b(c, d) as e, f` at top-level commas.
fn items(s: &str) -> Vec<String> {
    let (mut depth, mut cur, mut out) = (0, String::new(), Vec::new());
    let mut in_str = false;
    for c in s.chars() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' if !in_str => depth += 1,
            ')' | ']' if !in_str => depth -= 1,
            ',' if depth == 0 && !in_str => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// `EXPR as NAME` -> (expr, name); without `as`, the expression's text names it.
fn named(item: &str) -> (String, String) {
    match item.rsplit_once(" as ") {
        Some((e, n)) => (e.trim().to_string(), n.trim().to_string()),
        None => (item.to_string(), item.to_string()),
    }
}

pub struct Event {
    pub ts_ms: i64,
    pub message: String,
}

fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn period_ms(p: &str) -> i64 {
    let (n, unit) = p.split_at(p.find(|c: char| c.is_ascii_alphabetic()).unwrap());
    let n: i64 = n.parse().unwrap();
    n * match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        u => panic!("evaluator: no period unit {u}"),
    }
}

/// Runs `query` over `events` (already those of the query's time range): its rows, each field by
/// name as GetQueryResults gives them.
pub fn run(query: &str, events: &[&Event]) -> Vec<Vec<(String, String)>> {
    let mut records: Vec<BTreeMap<String, V>> = events
        .iter()
        .map(|e| {
            let mut r = discover(&e.message);
            r.insert("@timestamp".into(), V::N(e.ts_ms as f64));
            r.insert("@message".into(), V::S(e.message.clone()));
            r
        })
        .collect();
    let mut shown: Vec<String> = Vec::new();
    for line in query.lines() {
        let cmd = line.trim().trim_start_matches('|').trim();
        let (verb, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
        match verb {
            "filter" => {
                let e = parse_expr(rest);
                records.retain(|r| eval(&e, r).truthy());
            }
            "parse" => {
                let re =
                    rest.strip_prefix("@message /").and_then(|r| r.strip_suffix('/')).expect("parse @message /re/");
                let re = Regex::new(re).unwrap();
                let names: Vec<String> = re.capture_names().flatten().map(str::to_string).collect();
                for r in &mut records {
                    let V::S(m) = r["@message"].clone() else { unreachable!() };
                    if let Some(c) = re.captures(&m) {
                        for n in &names {
                            if let Some(v) = c.name(n) {
                                r.insert(n.clone(), V::S(v.as_str().to_string()));
                            }
                        }
                    }
                }
            }
            // Only these fields are shown.
            "display" => shown = items(rest),
            "fields" => {
                let list: Vec<(E, String)> = items(rest)
                    .iter()
                    .map(|i| {
                        let (e, n) = named(i);
                        (parse_expr(&e), n)
                    })
                    .collect();
                for r in &mut records {
                    let vals: Vec<V> = list
                        .iter()
                        .map(|(e, _)| match e {
                            // Shown as GetQueryResults shows a time.
                            E::Field(f) if f == "@timestamp" => V::S(time_text(r[f].num().unwrap() as i64)),
                            e => eval(e, r),
                        })
                        .collect();
                    for ((_, n), v) in list.iter().zip(vals) {
                        match v {
                            V::Null => r.remove(n),
                            v => r.insert(n.clone(), v),
                        };
                    }
                }
                shown.extend(list.into_iter().map(|(_, n)| n));
            }
            "stats" => {
                let (aggs, keys) = rest.split_once(" by ").unwrap_or((rest, ""));
                let aggs: Vec<(E, String)> = items(aggs)
                    .iter()
                    .map(|i| {
                        let (e, n) = named(i);
                        (parse_expr(&e), n)
                    })
                    .collect();
                let keys: Vec<(E, String)> = if keys.is_empty() {
                    Vec::new()
                } else {
                    items(keys)
                        .iter()
                        .map(|i| {
                            let (e, n) = named(i);
                            (parse_expr(&e), n)
                        })
                        .collect()
                };
                let mut groups: BTreeMap<Vec<Option<String>>, Vec<usize>> = BTreeMap::new();
                for (i, r) in records.iter().enumerate() {
                    let key = keys
                        .iter()
                        .map(|(e, _)| match e {
                            E::Call(f, a) if f == "bin" => {
                                let E::Field(p) = &a[0] else { panic!("bin(period)") };
                                let p = period_ms(p);
                                let t = r["@timestamp"].num().unwrap() as i64;
                                Some(time_text(t.div_euclid(p) * p))
                            }
                            e => eval(e, r).show(),
                        })
                        .collect();
                    groups.entry(key).or_default().push(i);
                }
                let mut rows = Vec::new();
                for (key, members) in groups {
                    let mut row = BTreeMap::new();
                    for ((_, n), k) in keys.iter().zip(key) {
                        if let Some(k) = k {
                            row.insert(n.clone(), V::S(k));
                        }
                    }
                    for (e, n) in &aggs {
                        let E::Call(f, a) = e else { panic!("evaluator: not an aggregate: {e:?}") };
                        let values = |x: &E| -> Vec<f64> {
                            members.iter().filter_map(|&i| eval(x, &records[i]).num()).collect()
                        };
                        let v = match f.as_str() {
                            "count" if matches!(a[0], E::Star) => V::N(members.len() as f64),
                            "count" => {
                                V::N(members.iter().filter(|&&i| eval(&a[0], &records[i]).present()).count() as f64)
                            }
                            "sum" => {
                                let v = values(&a[0]);
                                if v.is_empty() {
                                    V::Null
                                } else {
                                    V::N(v.iter().sum())
                                }
                            }
                            "min" | "max" => {
                                let v = values(&a[0]);
                                let pick = if f == "min" { f64::min } else { f64::max };
                                v.into_iter().reduce(pick).map_or(V::Null, V::N)
                            }
                            "pct" => {
                                let mut v = values(&a[0]);
                                let E::Lit(V::N(p)) = a[1] else { panic!("pct(x, N)") };
                                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                                if v.is_empty() {
                                    V::Null
                                } else {
                                    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
                                    V::N(v[rank.min(v.len()) - 1])
                                }
                            }
                            other => panic!("evaluator: no aggregate {other}"),
                        };
                        if v.present() {
                            row.insert(n.clone(), v);
                        }
                    }
                    rows.push(row);
                }
                records = rows;
                shown = keys.iter().chain(aggs.iter()).map(|(_, n)| n.clone()).collect();
            }
            other => panic!("evaluator: no command {other}"),
        }
    }
    records
        .into_iter()
        .map(|r| {
            shown
                .iter()
                .filter_map(|n| {
                    let v = r.get(n)?;
                    let text = match (n.as_str(), v) {
                        ("@timestamp", V::N(t)) => time_text(*t as i64),
                        _ => v.show()?,
                    };
                    Some((n.clone(), text))
                })
                .collect()
        })
        .collect()
}
