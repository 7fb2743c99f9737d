//! Drawing on a PDF page (krilla): text in the embedded DejaVu Sans (every Romanian
//! letter, ă â î ș ț included; krilla embeds only the glyphs used), rectangles, lines,
//! and table rows. Coordinates are points from the page's top left.

use krilla::{
    color::rgb,
    geom::{PathBuilder, Point, Rect},
    num::NormalizedF32,
    paint::{Fill, FillRule, Stroke, StrokeDash},
    surface::Surface,
    text::{Font, TextDirection},
};

/// A4 portrait, in points.
pub const PAGE_W: f32 = 595.0;
pub const PAGE_H: f32 = 842.0;
pub const MARGIN: f32 = 50.0;

pub const INK: (u8, u8, u8) = (27, 31, 36);
pub const MUTED: (u8, u8, u8) = (79, 90, 102);
pub const ACCENT: (u8, u8, u8) = (11, 92, 173);
pub const COMPARE: (u8, u8, u8) = (190, 110, 0);
pub const RULE: (u8, u8, u8) = (213, 218, 224);
pub const GOOD: (u8, u8, u8) = (29, 107, 47);
pub const BAD: (u8, u8, u8) = (164, 22, 26);

/// The two faces, for drawing and for measuring.
pub struct Fonts {
    pub regular: Font,
    pub bold: Font,
    regular_face: ttf_parser::Face<'static>,
    bold_face: ttf_parser::Face<'static>,
}

impl Fonts {
    pub fn load() -> Option<Fonts> {
        let regular: &'static [u8] = dejavu::sans::regular();
        let bold: &'static [u8] = dejavu::sans::bold();
        Some(Fonts {
            regular: Font::new(regular.into(), 0)?,
            bold: Font::new(bold.into(), 0)?,
            regular_face: ttf_parser::Face::parse(regular, 0).ok()?,
            bold_face: ttf_parser::Face::parse(bold, 0).ok()?,
        })
    }

    /// How wide `text` is at `size`.
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let units: u32 = text
            .chars()
            .filter_map(|c| face.glyph_index(c))
            .filter_map(|g| face.glyph_hor_advance(g))
            .map(u32::from)
            .sum();
        units as f32 * size / f32::from(face.units_per_em())
    }

    /// `text` cut with an ellipsis to fit `room`.
    pub fn fit(&self, text: &str, size: f32, room: f32) -> String {
        if self.width(text, size, false) <= room {
            return text.to_owned();
        }
        let mut cut: String = text.to_owned();
        while !cut.is_empty() && self.width(&format!("{cut}…"), size, false) > room {
            cut.pop();
        }
        format!("{}…", cut.trim_end())
    }
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Where text sits against its x.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One page being drawn.
pub struct Canvas<'a, 'b> {
    pub surface: &'a mut Surface<'b>,
    pub fonts: &'a Fonts,
}

impl Canvas<'_, '_> {
    #[allow(clippy::too_many_arguments, reason = "a text run is all of these")]
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: (u8, u8, u8),
        align: Align,
        text: &str,
    ) {
        let x = match align {
            Align::Left => x,
            Align::Right => x - self.fonts.width(text, size, bold),
        };
        let font = if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        };
        self.surface.set_fill(Some(fill(colour)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
        let Some(rect) = Rect::from_xywh(x, y, w.max(0.1), h.max(0.1)) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        if let Some(path) = path.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill(colour)));
            self.surface.draw_path(&path);
        }
    }

    /// A line through `points`, dashed if asked.
    pub fn line(&mut self, points: &[(f32, f32)], colour: (u8, u8, u8), width: f32, dashed: bool) {
        let mut path = PathBuilder::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i == 0 {
                path.move_to(*x, *y);
            } else {
                path.line_to(*x, *y);
            }
        }
        let Some(path) = path.finish() else {
            return;
        };
        let (r, g, b) = colour;
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(r, g, b).into(),
            width,
            dash: dashed.then(|| StrokeDash {
                array: vec![4.0, 3.0],
                offset: 0.0,
            }),
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
    }

    /// A section title with a rule under it; the y below it.
    pub fn heading(&mut self, y: f32, text: &str) -> f32 {
        self.text(MARGIN, y, 14.0, true, INK, Align::Left, text);
        self.rect(MARGIN, y + 5.0, PAGE_W - 2.0 * MARGIN, 0.8, RULE);
        y + 24.0
    }

    /// One table row: each cell at its column's x, aligned as the column says; the y of
    /// the next row.
    pub fn row(&mut self, y: f32, columns: &[(f32, Align)], cells: &[String], bold: bool) -> f32 {
        for ((x, align), cell) in columns.iter().zip(cells) {
            let colour = if bold { MUTED } else { INK };
            self.text(*x, y, 9.5, bold, colour, *align, cell);
        }
        self.rect(MARGIN, y + 4.5, PAGE_W - 2.0 * MARGIN, 0.4, RULE);
        y + 17.0
    }

    /// Bars for `now` (one per label) with `before` as a dashed line over the same
    /// slots, three grid lines with their values, and the first, middle and last
    /// labels; the y below it.
    pub fn bar_chart(
        &mut self,
        top: f32,
        now: &[f64],
        before: &[f64],
        labels: &[String],
        fmt: &dyn Fn(f64) -> String,
    ) -> f32 {
        let (left, right, height) = (MARGIN + 60.0, PAGE_W - MARGIN, 220.0);
        let max = now.iter().chain(before).fold(0.0f64, |a, b| a.max(*b));
        let scale = crate::analytics::axis_top(max);
        let y_of = |v: f64| top + height - (f64::from(height) * (v / scale).clamp(0.0, 1.0)) as f32;
        for i in 0..=2 {
            let v = scale * f64::from(i) / 2.0;
            let y = y_of(v);
            self.rect(left, y, right - left, 0.5, RULE);
            self.text(
                left - 6.0,
                y + 3.0,
                8.0,
                false,
                MUTED,
                Align::Right,
                &fmt(v),
            );
        }
        let slot = (right - left) / now.len().max(1) as f32;
        for (i, v) in now.iter().enumerate() {
            let y = y_of(*v);
            let x = left + slot * i as f32 + slot * 0.15;
            self.rect(x, y, slot * 0.7, top + height - y, ACCENT);
        }
        let line: Vec<(f32, f32)> = before
            .iter()
            .enumerate()
            .map(|(i, v)| (left + slot * (i as f32 + 0.5), y_of(*v)))
            .collect();
        if line.len() > 1 {
            self.line(&line, COMPARE, 1.5, true);
        }
        let mut shown = vec![0, labels.len() / 2, labels.len().saturating_sub(1)];
        shown.dedup();
        for i in shown {
            if let Some(label) = labels.get(i) {
                let x = left + slot * (i as f32 + 0.5) - self.fonts.width(label, 8.0, false) / 2.0;
                self.text(
                    x,
                    top + height + 14.0,
                    8.0,
                    false,
                    MUTED,
                    Align::Left,
                    label,
                );
            }
        }
        top + height + 20.0
    }
}
