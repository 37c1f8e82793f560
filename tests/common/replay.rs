//! A loopback HTTP server that answers with recorded responses: for AWS APIs moto does not
//! serve (Bedrock's inference profiles). mila's real SDK client, signing, retries and
//! pagination run against it unchanged, over the wire, like against moto.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, still percent-encoded.
    pub target: String,
    /// The region and service of the SigV4 credential scope; empty when unsigned.
    pub region: String,
    pub service: String,
    /// The operation of an awsJson service (`X-Amz-Target`); empty for restJson ones.
    pub operation: String,
    pub body: String,
    /// When the request arrived.
    pub at: std::time::Instant,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// (status code, JSON body); an error status names its type in `x-amzn-ErrorType`, as
/// restJson1 services do, taken from the body's `__type`.
pub type Response = (u16, String);

pub struct Replay {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Replay {
    pub fn start(answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answer = Arc::new(answer);
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let (requests, answer) = (requests.clone(), answer.clone());
                    std::thread::spawn(move || serve(conn, &*answer, &requests));
                }
            });
        }
        Replay { url, requests, stop }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Serves requests on one connection until the client closes it (the SDK keeps connections
/// alive and reuses them).
fn serve(mut conn: TcpStream, answer: &(dyn Fn(&Request) -> Response + Send + Sync), log: &Mutex<Vec<Request>>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let at = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..at]).into_owned();
        let length: usize = header(&head, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < at + 4 + length {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[at + 4..at + 4 + length]).into_owned();
        buf.drain(..at + 4 + length);
        let mut line = head.lines().next().unwrap_or("").split_whitespace();
        let (method, target) = (line.next().unwrap_or("").to_string(), line.next().unwrap_or("").to_string());
        // Credential=AKID/20261122/us-east-1/bedrock/aws4_request
        let scope: Vec<String> = header(&head, "authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .map(|c| c.split([',', ' ']).next().unwrap_or("").split('/').map(str::to_string).collect())
            .unwrap_or_default();
        let request = Request {
            method,
            target,
            region: scope.get(2).cloned().unwrap_or_default(),
            service: scope.get(3).cloned().unwrap_or_default(),
            operation: header(&head, "x-amz-target").unwrap_or("").to_string(),
            body,
            at: std::time::Instant::now(),
        };
        log.lock().unwrap().push(request.clone());
        let (status, body) = answer(&request);
        let error_type = (status >= 400)
            .then(|| serde_json::from_str::<serde_json::Value>(&body).ok())
            .flatten()
            .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_string))
            .map(|t| format!("x-amzn-ErrorType: {t}\r\n"))
            .unwrap_or_default();
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nx-amzn-RequestId: replay-{}\r\n{error_type}Content-Length: {}\r\n\r\n{body}",
            if status < 400 { "OK" } else { "Error" },
            log.lock().unwrap().len(),
            body.len()
        );
        if conn.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
