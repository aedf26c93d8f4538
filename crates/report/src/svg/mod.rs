//! A small SVG writer for the report's charts. Colours and fonts come from the page's CSS (classes,
//! `currentColor`), so one drawing serves the light and the dark theme.

mod frame;
mod scale;

pub use frame::{Frame, Margins, ROW_HEIGHT};
pub use scale::{Axis, ScaleKind};

use std::fmt::Write;

/// Escapes text for SVG/HTML character data and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal anchor of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being drawn. Coordinates are in CSS pixels of the viewBox.
#[derive(Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

/// Rounds a coordinate to 0.1 px: enough for the eye, and it keeps big charts small.
fn r(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Svg {
    pub fn new(width: f64, height: f64) -> Self {
        Self {
            width,
            height,
            body: String::with_capacity(16 * 1024),
        }
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" class="{class}"/>"#,
            r(x1),
            r(y1),
            r(x2),
            r(y2)
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" class="{class}"/>"#,
            r(x),
            r(y),
            r(w.max(0.0)),
            r(h.max(0.0))
        );
    }

    /// A rectangle with a hover title.
    pub fn rect_titled(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, title: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" class="{class}"><title>{}</title></rect>"#,
            r(x),
            r(y),
            r(w.max(0.0)),
            r(h.max(0.0)),
            esc(title)
        );
    }

    /// A marker with a hover title (the measurement it stands for).
    pub fn circle(&mut self, cx: f64, cy: f64, radius: f64, class: &str, title: &str) {
        let _ = write!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{radius}" class="{class}"><title>{}</title></circle>"#,
            r(cx),
            r(cy),
            esc(title)
        );
    }

    /// An open path through `points` (a polyline).
    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        if points.len() < 2 {
            return;
        }
        let mut d = String::with_capacity(points.len() * 14);
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { " L" }, r(*x), r(*y));
        }
        let _ = write!(self.body, r#"<path d="{d}" class="{class}"/>"#);
    }

    pub fn text(&mut self, x: f64, y: f64, anchor: Anchor, class: &str, text: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{}" class="{class}">{}</text>"#,
            r(x),
            r(y),
            anchor.as_str(),
            esc(text)
        );
    }

    /// Text with a hover title holding the full string (for labels cut to fit).
    pub fn text_titled(
        &mut self,
        x: f64,
        y: f64,
        anchor: Anchor,
        class: &str,
        text: &str,
        title: &str,
    ) {
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{}" class="{class}"><title>{}</title>{}</text>"#,
            r(x),
            r(y),
            anchor.as_str(),
            esc(title),
            esc(text)
        );
    }

    /// Text rotated by `degrees` (clockwise, SVG convention) about its anchor point.
    pub fn text_rotated(
        &mut self,
        x: f64,
        y: f64,
        degrees: f64,
        anchor: Anchor,
        class: &str,
        text: &str,
    ) {
        let _ = write!(
            self.body,
            r#"<text transform="translate({},{}) rotate({})" text-anchor="{}" class="{class}">{}</text>"#,
            r(x),
            r(y),
            r(degrees),
            anchor.as_str(),
            esc(text)
        );
    }

    /// Text turned 90° counter-clockwise about its anchor point (a y-axis label).
    pub fn text_vertical(&mut self, x: f64, y: f64, class: &str, text: &str) {
        let _ = write!(
            self.body,
            r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle" class="{class}">{}</text>"#,
            r(x),
            r(y),
            esc(text)
        );
    }

    /// Opens a group (`<g class=..>`); close it with [`Svg::end_group`].
    pub fn group(&mut self, class: &str) {
        let _ = write!(self.body, r#"<g class="{class}">"#);
    }

    pub fn end_group(&mut self) {
        self.body.push_str("</g>");
    }

    /// The finished element. `label` is read by screen readers.
    pub fn finish(self, label: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">{body}</svg>"#,
            w = r(self.width),
            h = r(self.height),
            label = esc(label),
            body = self.body
        )
    }
}

/// Approximate width in px of `text` at the chart font size (11px system sans-serif): used to keep
/// labels from overlapping without a font engine.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.text(
            0.0,
            0.0,
            Anchor::Start,
            "t",
            "<script>alert('x')</script> & \"q\"",
        );
        let out = svg.finish("a<b");
        assert!(!out.contains("<script>"));
        assert!(
            out.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        );
        assert!(out.contains(r#"aria-label="a&lt;b""#));
    }

    #[test]
    fn coordinates_are_rounded() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.line(0.123_456, 1.0, 2.0, 3.999_99, "l");
        assert!(svg.finish("x").contains(r#"x1="0.1" y1="1" x2="2" y2="4""#));
    }
}
