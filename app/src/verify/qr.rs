//! The slip's QR code, drawn on the server as SVG: crisp at any print size, nothing for
//! the browser to compute, and no script needed to show it.

use qrcode::{EcLevel, QrCode, render::svg};

/// The QR code of `text` as an SVG element: black modules on white with the standard
/// four-module quiet zone, error correction level M (a creased or smudged printout still
/// scans). Sized by the stylesheet; the renderer's `shape-rendering="crispEdges"` keeps
/// module edges sharp on paper and on screen.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML declaration first: not allowed inside HTML.
    let start = image.find("<svg")?;
    Some(image[start..].replacen(
        "<svg ",
        "<svg class=\"slip-qr\" role=\"img\" aria-label=\"离校流程单验证二维码\" ",
        1,
    ))
}
