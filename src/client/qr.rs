//! QR codes as SVG markup, drawn here from bytes (never from text a server
//! or another person chose): a safety number's 65 bytes, in byte mode. The
//! markup is one path of the dark modules' horizontal runs, written here
//! rather than by the crate's generic renderer, which costs the download
//! about 11 KB (brotli) for the same picture.

use std::fmt::Write;

use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};

/// The smallest version whose byte mode at level M holds a safety
/// number's 65 bytes (version 5 holds 84).
const VERSION: Version = Version::Normal(5);
const LEVEL: EcLevel = EcLevel::M;
/// The light margin a reader needs around the code, in modules.
const QUIET: usize = 4;

/// `data` as an SVG QR code in byte mode, or `None` if it does not fit.
pub fn svg(data: &[u8]) -> Option<String> {
    let mut bits = Bits::new(VERSION);
    bits.push_byte_data(data).ok()?;
    bits.push_terminator(LEVEL).ok()?;
    let code = QrCode::with_bits(bits, LEVEL).ok()?;
    let width = code.width();
    let side = width + 2 * QUIET;
    let mut path = String::new();
    for (y, row) in code.to_colors().chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            let _ = write!(path, "M{} {}h{run}v1h-{run}z", x + QUIET, y + QUIET);
            x += run;
        }
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}
