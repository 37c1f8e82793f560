//! RGB pixels -> PNG bytes: signature, IHDR, one zlib IDAT, IEND (PNG spec, section 5).
//! Written here because plotters' own encoder pulls in `image`, whose features rebuild polars.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// `rgb` holds `width * height` pixels, 3 bytes each, rows top to bottom.
pub fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let row = width as usize * 3;
    assert_eq!(rgb.len(), row * height as usize, "pixel buffer does not match {width}x{height}");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8 bits per sample, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // Filter type 1 (Sub) on every row: charts are mostly flat runs, which Sub turns into zeros.
    let mut z = ZlibEncoder::new(Vec::with_capacity(rgb.len() / 8), Compression::default());
    let mut line = vec![0u8; row + 1];
    for r in rgb.chunks_exact(row) {
        line[0] = 1;
        for i in 0..row {
            line[i + 1] = r[i].wrapping_sub(if i >= 3 { r[i - 3] } else { 0 });
        }
        z.write_all(&line).expect("writing to memory");
    }
    let idat = z.finish().expect("writing to memory");
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::ZlibDecoder;
    use std::io::Read;

    /// Reads back what `encode_rgb` wrote: chunk lengths, CRCs, and the unfiltered pixels.
    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (mut pos, mut size, mut idat) = (8, (0, 0), Vec::new());
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let (kind, data) = (&png[pos + 4..pos + 8], &png[pos + 8..pos + 8 + len]);
            let mut crc = Crc::new();
            crc.update(&png[pos + 4..pos + 8 + len]);
            assert_eq!(crc.sum().to_be_bytes(), png[pos + 8 + len..pos + 12 + len], "CRC of {kind:?}");
            match kind {
                b"IHDR" => {
                    size = (
                        u32::from_be_bytes(data[..4].try_into().unwrap()),
                        u32::from_be_bytes(data[4..8].try_into().unwrap()),
                    )
                }
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            pos += 12 + len;
        }
        let mut raw = Vec::new();
        ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
        let row = size.0 as usize * 3;
        let mut pixels = Vec::new();
        for line in raw.chunks_exact(row + 1) {
            assert_eq!(line[0], 1);
            let start = pixels.len();
            for i in 0..row {
                let left = if i >= 3 { pixels[start + i - 3] } else { 0u8 };
                pixels.push(line[i + 1].wrapping_add(left));
            }
        }
        (size.0, size.1, pixels)
    }

    #[test]
    fn round_trips() {
        let cases: [(u32, u32); 4] = [(1, 1), (3, 2), (17, 5), (64, 64)];
        for (w, h) in cases {
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
            assert_eq!(decode(&encode_rgb(&rgb, w, h)), (w, h, rgb), "{w}x{h}");
        }
    }
}
