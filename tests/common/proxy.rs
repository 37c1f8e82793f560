//! A fault-injecting HTTP proxy on loopback, in front of moto. One request per connection
//! (it answers `Connection: close`), so every retry is a new request it can see and count.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 503 SlowDown (S3) or 400 ThrottlingException (CloudWatch Logs).
    Throttle,
    /// 500 InternalError.
    ServerError,
    /// The connection is closed before any response.
    Reset,
    /// Headers and half the body, then the connection is closed.
    Truncate,
    /// Nothing for `stall`, longer than the client's read timeout; then closed.
    Stall,
    /// 403 AccessDenied (S3) or AccessDeniedException (CloudWatch Logs).
    Deny,
    /// 400 ExpiredToken (S3) or ExpiredTokenException (CloudWatch Logs).
    Expired,
    /// CloudWatch Logs only: an empty page with a `nextToken`, as the service sends while it
    /// searches; the real page is answered to that token.
    EmptyPage,
    /// Headers and half the body, then nothing for `stall`; then closed.
    StallMidBody,
}

pub const ALL_FAULTS: [Fault; 6] =
    [Fault::Throttle, Fault::ServerError, Fault::Reset, Fault::Truncate, Fault::Stall, Fault::StallMidBody];

pub struct Plan {
    /// Every `every`-th request gets the next fault of `faults`, in turn; 0 for none.
    pub every: usize,
    pub faults: Vec<Fault>,
    pub stall: Duration,
    /// From this request on (0-based), every response is cut mid-body and held until the
    /// proxy is dropped: for killing a client mid-way.
    pub hold_from: Option<usize>,
    /// A GET whose path contains this first deletes the object upstream (a real DELETE to
    /// moto): an object deleted between list and get.
    pub delete_before_get: Option<String>,
    /// Requests whose path contains the string always get the fault ("" for every request).
    pub always: Option<(String, Fault)>,
}

impl Plan {
    pub fn clean() -> Plan {
        Plan {
            every: 0,
            faults: Vec::new(),
            stall: Duration::from_secs(3),
            hold_from: None,
            delete_before_get: None,
            always: None,
        }
    }
}

#[derive(Default)]
pub struct Log {
    /// (method, path-and-query, fault, when) per request, in arrival order.
    pub requests: Vec<(String, String, Option<Fault>, std::time::Instant)>,
    /// Responses held back behind an empty page, by the token that fetches them.
    parked: std::collections::HashMap<String, Vec<u8>>,
}

pub struct Proxy {
    pub url: String,
    pub log: Arc<Mutex<Log>>,
    held: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(upstream: &str, plan: Plan) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let (held, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let plan = Arc::new(plan);
        let count = Arc::new(AtomicUsize::new(0));
        {
            let (log, held, stop) = (log.clone(), held.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let (upstream, plan, log, held, stop, count) =
                        (upstream.clone(), plan.clone(), log.clone(), held.clone(), stop.clone(), count.clone());
                    std::thread::spawn(move || serve(conn, &upstream, &plan, &log, &held, &stop, &count));
                }
            });
        }
        Proxy { url, log, held, stop }
    }

    /// Responses being held open (see `Plan::hold_from`).
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> std::collections::BTreeMap<Fault, usize> {
        let mut out = std::collections::BTreeMap::new();
        for (_, _, f, _) in &self.log.lock().unwrap().requests {
            if let Some(f) = f {
                *out.entry(*f).or_insert(0) += 1;
            }
        }
        out
    }

    /// GET requests for objects (not listings) seen so far.
    pub fn object_gets(&self) -> usize {
        let log = self.log.lock().unwrap();
        log.requests.iter().filter(|(m, p, _, _)| m == "GET" && p.contains(".json") && !p.contains("list-type")).count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// Reads one HTTP message head (through the blank line) and returns it with any body bytes
/// that came with it.
fn read_head(conn: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(at + 4);
            return Some((buf, rest));
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The error AWS itself would answer with, for the faults that are an answer:
/// (status line, content type, body), in S3's XML or CloudWatch Logs' JSON.
fn answer(fault: Fault, cloudwatch: bool) -> Option<(&'static str, &'static str, &'static str)> {
    const JSON: &str = "application/x-amz-json-1.1";
    const XML: &str = "application/xml";
    Some(match (fault, cloudwatch) {
        (Fault::Throttle, true) => {
            ("400 Bad Request", JSON, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#)
        }
        (Fault::Throttle, false) => (
            "503 Slow Down",
            XML,
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        ),
        (Fault::ServerError, true) => {
            ("500 Internal Server Error", JSON, r#"{"__type":"ServiceUnavailableException","message":"injected"}"#)
        }
        (Fault::ServerError, false) => {
            ("500 Internal Server Error", XML, "<Error><Code>InternalError</Code><Message>injected</Message></Error>")
        }
        (Fault::Deny, true) => (
            "400 Bad Request",
            JSON,
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/t is not authorized to perform: logs:FilterLogEvents"}"#,
        ),
        (Fault::Deny, false) => {
            ("403 Forbidden", XML, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
        }
        (Fault::Expired, true) => (
            "400 Bad Request",
            JSON,
            r#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#,
        ),
        (Fault::Expired, false) => (
            "400 Bad Request",
            XML,
            "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>",
        ),
        _ => return None,
    })
}

fn serve(
    mut conn: TcpStream,
    upstream: &str,
    plan: &Plan,
    log: &Mutex<Log>,
    held: &AtomicUsize,
    stop: &AtomicBool,
    count: &AtomicUsize,
) {
    let Some((head, mut body)) = read_head(&mut conn) else { return };
    let head_text = String::from_utf8_lossy(&head).into_owned();
    let length: usize = header(&head_text, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let mut request_line = head_text.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (request_line.next().unwrap_or("").to_string(), request_line.next().unwrap_or("").to_string());
    let n = count.fetch_add(1, Ordering::SeqCst);
    let hold = plan.hold_from.is_some_and(|from| n >= from);
    let fault = match &plan.always {
        Some((part, fault)) if path.contains(part.as_str()) => Some(*fault),
        _ => (!hold && plan.every > 0 && n % plan.every == plan.every - 1)
            .then(|| plan.faults[(n / plan.every) % plan.faults.len()]),
    };
    if method == "GET" && plan.delete_before_get.as_ref().is_some_and(|d| path.contains(d.as_str())) {
        if let Ok(mut up) = TcpStream::connect(upstream) {
            let path_only = path.split('?').next().unwrap_or(&path);
            // moto refuses anonymous requests but does not check signatures.
            let auth = "AWS4-HMAC-SHA256 Credential=AKIAMILATESTKEY/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
            let req = format!("DELETE {path_only} HTTP/1.1\r\nHost: {upstream}\r\nAuthorization: {auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = up.write_all(req.as_bytes());
            let _ = up.read_to_end(&mut Vec::new());
        }
    }
    log.lock().unwrap().requests.push((method, path, fault, std::time::Instant::now()));
    let cloudwatch = header(&head_text, "x-amz-target").is_some();
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("nextToken").and_then(|t| t.as_str()).map(str::to_string));
    if let Some(parked) = token.and_then(|t| log.lock().unwrap().parked.remove(&t)) {
        let _ = conn.write_all(&parked);
        return;
    }
    if let Some((status, content_type, body)) = fault.and_then(|f| answer(f, cloudwatch)) {
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(response.as_bytes());
        return;
    }
    match fault {
        Some(Fault::Reset) => {
            let _ = conn.shutdown(Shutdown::Both);
            return;
        }
        Some(Fault::Stall) => {
            std::thread::sleep(plan.stall);
            return;
        }
        _ => {}
    }
    // Forward, asking the upstream to close after its response so it can be read to the end.
    let Ok(mut up) = TcpStream::connect(upstream) else { return };
    let mut forwarded = String::new();
    for (i, line) in head_text.split("\r\n").enumerate() {
        if i > 0 && (line.to_ascii_lowercase().starts_with("connection:") || line.is_empty()) {
            continue;
        }
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    if up.write_all(forwarded.as_bytes()).and_then(|_| up.write_all(&body)).is_err() {
        return;
    }
    let mut response = Vec::new();
    if up.read_to_end(&mut response).is_err() {
        return;
    }
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else { return };
    if cloudwatch && fault == Some(Fault::EmptyPage) {
        let token = format!("mila-proxy-empty-page-{n}");
        let page = format!(r#"{{"events":[],"searchedLogStreams":[],"nextToken":"{token}"}}"#);
        log.lock().unwrap().parked.insert(token, response);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            page.len()
        );
        let _ = conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(page.as_bytes()));
        return;
    }
    let (resp_head, resp_body) = response.split_at(split);
    // Same head, but this side closes too.
    let mut out = String::new();
    for line in String::from_utf8_lossy(resp_head).split("\r\n") {
        if line.is_empty() || line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let half = &resp_body[..resp_body.len() / 2];
    let _ = conn.write_all(out.as_bytes());
    if hold {
        let _ = conn.write_all(half);
        held.fetch_add(1, Ordering::SeqCst);
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    }
    match fault {
        Some(Fault::Truncate) if !resp_body.is_empty() => {
            let _ = conn.write_all(half);
        }
        Some(Fault::StallMidBody) if !resp_body.is_empty() => {
            let _ = conn.write_all(half);
            let _ = conn.flush();
            std::thread::sleep(plan.stall);
        }
        _ => {
            let _ = conn.write_all(resp_body);
        }
    }
}
