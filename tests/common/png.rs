//! A small PNG reader for the chart tests, written from the PNG specification and independent of
//! mila's encoder: it checks the signature and every chunk's CRC, inflates the IDAT stream and
//! undoes all five row filters, for 8-bit RGB and RGBA images.

use std::io::Read;

pub struct Image {
    pub width: u32,
    pub height: u32,
    /// RGB, 3 bytes a pixel (alpha dropped).
    pub rgb: Vec<u8>,
}

impl Image {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

pub fn decode(png: &[u8]) -> Result<Image, String> {
    if png.len() < 8 || &png[..8] != b"\x89PNG\r\n\x1a\n" {
        return Err("not a PNG signature".into());
    }
    let (mut pos, mut header, mut idat, mut ended) = (8, None, Vec::new(), false);
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let end = pos + 12 + len;
        if end > png.len() {
            return Err("chunk runs past the end".into());
        }
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..pos + 8 + len];
        let crc = u32::from_be_bytes(png[pos + 8 + len..end].try_into().unwrap());
        if crc32(&png[pos + 4..pos + 8 + len]) != crc {
            return Err(format!("bad CRC in {}", String::from_utf8_lossy(kind)));
        }
        match kind {
            b"IHDR" => {
                header = Some((
                    u32::from_be_bytes(data[..4].try_into().unwrap()),
                    u32::from_be_bytes(data[4..8].try_into().unwrap()),
                    data[8],
                    data[9],
                    data[12],
                ))
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => ended = true,
            _ => {}
        }
        pos = end;
    }
    let (width, height, depth, colour, interlace) = header.ok_or("no IHDR")?;
    if !ended {
        return Err("no IEND".into());
    }
    let channels = match (depth, colour, interlace) {
        (8, 2, 0) => 3,
        (8, 6, 0) => 4,
        other => return Err(format!("unsupported depth/colour/interlace {other:?}")),
    };
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).map_err(|e| format!("IDAT: {e}"))?;
    let stride = width as usize * channels;
    if raw.len() != (stride + 1) * height as usize {
        return Err(format!("IDAT holds {} bytes, want {}", raw.len(), (stride + 1) * height as usize));
    }
    let mut prev = vec![0u8; stride];
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for line in raw.chunks_exact(stride + 1) {
        let mut cur = line[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let (b, c) = (prev[i], if i >= channels { prev[i - channels] } else { 0 });
            let predictor = match line[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => paeth(a, b, c),
                f => return Err(format!("unknown filter {f}")),
            };
            cur[i] = cur[i].wrapping_add(predictor);
        }
        for px in cur.chunks_exact(channels) {
            rgb.extend_from_slice(&px[..3]);
        }
        prev = cur;
    }
    Ok(Image { width, height, rgb })
}
