//! Bytes to lines: gzip detection by magic bytes, streaming decompression (multi-member gzip
//! read whole), and line splitting that ignores a BOM, CR before LF and blank lines.

use std::io::{self, BufRead, BufReader, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BOM: &[u8] = b"\xEF\xBB\xBF";
const BUF: usize = 256 * 1024;

/// Compression, decided by the first bytes only (names lie: `.json` files may be gzip and back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    None,
}

pub fn detect(first_bytes: &[u8]) -> Compression {
    if first_bytes.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    }
}

/// Wraps a reader so that it yields decompressed bytes.
pub fn decompressed<'a, R: Read + 'a>(reader: R) -> io::Result<(Compression, Box<dyn BufRead + 'a>)> {
    let mut buffered = BufReader::with_capacity(BUF, reader);
    let kind = detect(buffered.fill_buf()?);
    let out: Box<dyn BufRead + 'a> = match kind {
        Compression::Gzip => Box::new(BufReader::with_capacity(BUF, flate2::bufread::MultiGzDecoder::new(buffered))),
        Compression::None => Box::new(buffered),
    };
    Ok((kind, out))
}

/// Why a whole-object inflate failed; the caller falls back to streaming to keep what it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GunzipError {
    /// Corrupt or truncated: libdeflate cannot say which, nor where.
    BadData,
    TooLarge,
}

/// An owned libdeflate decompressor (one per worker thread).
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

impl Inflater {
    fn new() -> Inflater {
        // SAFETY: allocation has no preconditions; null means out of memory.
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        Inflater(std::ptr::NonNull::new(p).expect("libdeflate could not allocate a decompressor"))
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libdeflate_alloc_decompressor and is freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static INFLATER: std::cell::RefCell<Inflater> = std::cell::RefCell::new(Inflater::new());
}

/// Inflates every gzip member of a whole object into `out` (cleared first) with libdeflate, up to
/// `limit` bytes of output. The last member's size field is the first guess for the output; the
/// buffer doubles as needed.
pub fn gunzip_all(data: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), GunzipError> {
    out.clear();
    let last_isize =
        data.len().checked_sub(4).map_or(0, |i| u32::from_le_bytes(data[i..].try_into().unwrap()) as usize);
    let mut room = last_isize.max(data.len() * 4).clamp(4096, limit.max(4096));
    let mut pos = 0;
    INFLATER.with_borrow_mut(|inflater| {
        while pos < data.len() {
            // Zero padding after the last member (some writers add it) is not another member.
            if data[pos..].iter().all(|&b| b == 0) {
                break;
            }
            out.reserve(room);
            // The spare capacity may exceed what was asked for (a reused buffer): cap it.
            let avail = (out.capacity() - out.len()).min(limit.saturating_sub(out.len()));
            let spare = &mut out.spare_capacity_mut()[..avail];
            let (mut used_in, mut used_out) = (0usize, 0usize);
            // SAFETY: input and output are valid for the lengths given; libdeflate writes at most
            // `spare.len()` bytes and reports how many through `used_out`.
            let ret = unsafe {
                libdeflate_sys::libdeflate_gzip_decompress_ex(
                    inflater.0.as_ptr(),
                    data[pos..].as_ptr().cast(),
                    data.len() - pos,
                    spare.as_mut_ptr().cast(),
                    spare.len(),
                    &mut used_in,
                    &mut used_out,
                )
            };
            match ret {
                libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS => {
                    // SAFETY: libdeflate initialised `used_out` bytes of the spare capacity.
                    unsafe { out.set_len(out.len() + used_out) };
                    pos += used_in;
                }
                libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE if out.len() + avail < limit => {
                    room = (avail * 2).min(limit - out.len())
                }
                libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => return Err(GunzipError::TooLarge),
                _ => return Err(GunzipError::BadData),
            }
        }
        Ok(())
    })
}

/// One line as the splitters hand it on: its bytes, or only its length when it is longer than
/// the limit (never held whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a [u8]),
    TooLong { bytes: u64 },
}

/// Calls `f(line_number, line)` for every non-blank line of an in-memory buffer, with the same
/// rules as `for_each_line`. Returns the number of non-blank lines.
pub fn for_each_line_in(buf: &[u8], max_line: usize, mut f: impl FnMut(u64, Line)) -> u64 {
    let (mut lines, mut number, mut start) = (0, 0u64, 0);
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        number += 1;
        let line = trim_line(&buf[start..end], number == 1);
        if !is_blank(line) {
            lines += 1;
            f(number, checked(line, max_line));
        }
        start = end + 1;
    }
    lines
}

/// `line` as it is handed on under the limit `max_line`.
pub fn checked(line: &[u8], max_line: usize) -> Line<'_> {
    if line.len() > max_line {
        Line::TooLong { bytes: line.len() as u64 }
    } else {
        Line::Text(line)
    }
}

/// What happened while splitting a stream into lines.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineStats {
    /// Non-blank lines handed to the callback.
    pub lines: u64,
    /// Last physical line number read.
    pub last_line: u64,
}

/// A read error part-way, with the partial line that was cut short (if any, non-blank).
#[derive(Debug)]
pub struct ReadFailure {
    pub error: io::Error,
    pub at_line: u64,
    pub partial_line: bool,
    /// The cut-off line's bytes, when it was short enough to keep (a CloudTrail document is
    /// one line: its events before the cut can still be read).
    pub partial: Vec<u8>,
}

/// Calls `f(line_number, line)` for every non-blank line, with BOM (first line only) and the
/// trailing CR removed. A line longer than `max_line` bytes is not held: the rest of it is read
/// past and it is handed on as `TooLong`, so one huge line costs `max_line` bytes of memory. On a
/// read error returns what was read so far and the failure.
pub fn for_each_line<R: BufRead + ?Sized>(
    reader: &mut R,
    max_line: usize,
    mut f: impl FnMut(u64, Line),
) -> (LineStats, Option<ReadFailure>) {
    let mut stats = LineStats::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    // The line's end (CR, LF) and a first-line BOM may take up to 5 bytes past the limit.
    let keep = (max_line as u64).saturating_add(5);
    loop {
        buf.clear();
        // Bytes of the current line seen so far; past the limit they are counted, not kept.
        let mut length = 0u64;
        let mut ended = false;
        let mut read_any = false;
        let (mut last, mut before_end) = (0u8, 0u8);
        let failure = loop {
            let chunk = match reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Some(e),
            };
            if chunk.is_empty() {
                break None;
            }
            read_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            length += take as u64;
            // Whether the byte before this chunk's end is a CR (the line's CR LF).
            before_end = match take {
                0 => before_end,
                1 => std::mem::replace(&mut last, chunk[0]),
                n => {
                    last = chunk[n - 1];
                    chunk[n - 2]
                }
            };
            if length <= keep {
                buf.extend_from_slice(&chunk[..take]);
            } else {
                buf.clear();
            }
            reader.consume(take);
            if done {
                ended = true;
                break None;
            }
        };
        if !read_any && failure.is_none() {
            return (stats, None);
        }
        if let Some(error) = failure {
            let partial = length > max_line as u64 || !is_blank(trim_line(&buf, stats.last_line == 0));
            let kept = if length <= keep { trim_line(&buf, stats.last_line == 0).to_vec() } else { Vec::new() };
            let failure = ReadFailure { error, at_line: stats.last_line + 1, partial_line: partial, partial: kept };
            return (stats.clone(), Some(failure));
        }
        stats.last_line += 1;
        let line = trim_line(&buf, stats.last_line == 1);
        let line = if length > keep {
            // Too long to have kept: its length without the line end.
            let end = if !ended {
                0
            } else if before_end == b'\r' {
                2
            } else {
                1
            };
            Line::TooLong { bytes: length - end }
        } else {
            checked(line, max_line)
        };
        if !matches!(line, Line::Text(l) if is_blank(l)) {
            stats.lines += 1;
            f(stats.last_line, line);
        }
    }
}

fn trim_line(raw: &[u8], first: bool) -> &[u8] {
    let mut line = raw;
    if first {
        line = line.strip_prefix(BOM).unwrap_or(line);
    }
    line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression as Level};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Level::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn text(line: Line) -> String {
        match line {
            Line::Text(l) => String::from_utf8_lossy(l).into_owned(),
            Line::TooLong { bytes } => format!("<{bytes} bytes>"),
        }
    }

    fn lines_of(bytes: &[u8]) -> (Vec<(u64, String)>, LineStats, Option<String>) {
        let (_, mut r) = decompressed(bytes).unwrap();
        let mut out = Vec::new();
        let (stats, fail) = for_each_line(&mut r, usize::MAX, |n, l| out.push((n, text(l))));
        (out, stats, fail.map(|f| format!("{}@{}:{}", f.error.kind(), f.at_line, f.partial_line)))
    }

    #[test]
    fn detect_table() {
        let cases: &[(&[u8], Compression)] = &[
            (&[0x1f, 0x8b, 8, 0], Compression::Gzip),
            (b"{\"a\":1}", Compression::None),
            (&[0x1f], Compression::None),
            (b"", Compression::None),
            (b"\xEF\xBB\xBF{", Compression::None),
        ];
        for (bytes, want) in cases {
            assert_eq!(detect(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn splitting_table() {
        type Case<'a> = (&'a [u8], &'a [(u64, &'a str)]);
        let cases: &[Case] = &[
            (b"a\nb\n", &[(1, "a"), (2, "b")]),
            (b"a\r\nb\r\n", &[(1, "a"), (2, "b")]),
            (b"a\nb", &[(1, "a"), (2, "b")]),
            (b"\xEF\xBB\xBFa\nb\n", &[(1, "a"), (2, "b")]),
            (b"a\n\n  \r\nb\n", &[(1, "a"), (4, "b")]),
            (b"", &[]),
            (b"\n\n", &[]),
        ];
        for (input, want) in cases {
            let (got, stats, fail) = lines_of(input);
            let want: Vec<(u64, String)> = want.iter().map(|(n, s)| (*n, s.to_string())).collect();
            assert_eq!(got, want, "{input:?}");
            assert_eq!(stats.lines as usize, want.len());
            assert_eq!(fail, None);
        }
    }

    /// The in-memory splitter and the streaming one agree on every case.
    #[test]
    fn in_memory_splitting_matches_streaming() {
        let cases: &[&[u8]] =
            &[b"a\nb\n", b"a\r\nb\r\n", b"a\nb", b"\xEF\xBB\xBFa\nb\n", b"a\n\n  \r\nb\n", b"", b"\n\n", b"\n", b"x"];
        for input in cases {
            let (want, stats, _) = lines_of(input);
            let mut got = Vec::new();
            let n = for_each_line_in(input, usize::MAX, |n, l| got.push((n, text(l))));
            assert_eq!(got, want, "{input:?}");
            assert_eq!(n, stats.lines);
        }
    }

    /// A line past the limit is handed on as its length only, in both splitters, through any
    /// buffer boundary; the lines around it are read as usual.
    #[test]
    fn long_lines_are_measured_not_held() {
        let long = vec![b'y'; 300_000];
        let mut input = b"\xEF\xBB\xBFab\r\n".to_vec();
        input.extend(&long);
        input.extend(b"\r\ncdef\n12345\n");
        input.extend(&long);
        let want = [(1, "ab"), (2, "<300000 bytes>"), (3, "cdef"), (4, "<5 bytes>"), (5, "<300000 bytes>")];
        let want: Vec<(u64, String)> = want.iter().map(|(n, s)| (*n, s.to_string())).collect();
        let mut streamed = Vec::new();
        let (_, mut r) = decompressed(&input[..]).unwrap();
        let (stats, fail) = for_each_line(&mut r, 4, |n, l| streamed.push((n, text(l))));
        assert_eq!((streamed, stats.lines, fail.is_none()), (want.clone(), 5, true));
        let mut whole = Vec::new();
        for_each_line_in(&input, 4, |n, l| whole.push((n, text(l))));
        assert_eq!(whole, want);
    }

    #[test]
    fn gunzip_all_reads_every_member_and_rejects_damage() {
        let mut two = gz(b"a\nb\n");
        two.extend(gz(&vec![b'c'; 100_000]));
        two.extend([0, 0, 0, 0]);
        let mut out = Vec::new();
        gunzip_all(&two, &mut out, 1 << 20).unwrap();
        assert_eq!(out.len(), 4 + 100_000);
        assert!(out.starts_with(b"a\nb\nccc"));
        let whole = gz(&vec![b'x'; 50_000]);
        assert_eq!(gunzip_all(&whole[..whole.len() / 2], &mut out, 1 << 20), Err(GunzipError::BadData));
        assert_eq!(gunzip_all(b"\x1f\x8bnot really", &mut out, 1 << 20), Err(GunzipError::BadData));
        // Past the limit the caller streams instead of holding it all.
        assert_eq!(gunzip_all(&whole, &mut out, 10_000), Err(GunzipError::TooLarge));
    }

    #[test]
    fn gzip_by_magic_and_multi_member() {
        let mut two = gz(b"a\nb\n");
        two.extend(gz(b"c\n"));
        let (got, _, fail) = lines_of(&two);
        assert_eq!(got.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(fail, None);
    }

    #[test]
    fn truncated_gzip_keeps_what_was_read_and_reports_the_rest() {
        let body: Vec<u8> =
            (0..2000).flat_map(|i| format!("line number {i} with some padding text\n").into_bytes()).collect();
        let whole = gz(&body);
        let cut = &whole[..whole.len() / 2];
        let (got, stats, fail) = lines_of(cut);
        assert!(!got.is_empty() && got.len() < 2000, "{}", got.len());
        assert_eq!(stats.lines as usize, got.len());
        assert!(fail.unwrap().starts_with("unexpected end of file@"));
    }
}
