//! The six-monthly report (Đ17) as a PDF in the Vietnamese administrative layout (Nghị định
//! 30/2020/NĐ-CP): the superior body and the issuer with "Số: …/BC-…" top left, the quốc hiệu
//! and tiêu ngữ with the place and date top right, the title "BÁO CÁO" and its subject, the
//! province's figures, a table per unit (its header repeated on each page it continues to),
//! then "Nơi nhận:" and the signature block.
//!
//! The text is real text: Liberation Serif (SIL OFL 1.1, `assets/fonts/`, embedded whole) set
//! with printpdf, whose ToUnicode map makes it selectable and extractable (pdftotext) with its
//! Vietnamese marks. Lines are broken and centred with the font's own advance widths
//! (owned_ttf_parser).

use owned_ttf_parser::Face;
use printpdf::{
    IndirectFontRef, Line, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference, Point,
};

static REGULAR: &[u8] = include_bytes!("../assets/fonts/LiberationSerif-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/LiberationSerif-Bold.ttf");

/// A4, in millimetres.
const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
/// Margins of an administrative document: 30 mm left, 15 mm right, 20 mm top and bottom.
const LEFT: f32 = 30.0;
const RIGHT: f32 = PAGE_W - 15.0;
const TOP: f32 = PAGE_H - 20.0;
const BOTTOM: f32 = 20.0;
/// Points to millimetres.
const PT: f32 = 25.4 / 72.0;

/// What the header says.
pub struct Heading<'a> {
    /// "UBND TỈNH CAO BẰNG".
    pub superior: &'a str,
    /// The issuing body, e.g. "Sở Khoa học và Công nghệ".
    pub issuer: &'a str,
    /// "12/BC-SKHCN", or "/BC-SKHCN" left for the clerk to number.
    pub reference: &'a str,
    /// "Cao Bằng".
    pub place: &'a str,
    /// The date of the report (day, month, year).
    pub date: (u32, u32, i32),
    /// The period, first and last day included.
    pub from: (u32, u32, i32),
    pub to: (u32, u32, i32),
}

/// A unit's figures, or the province's (`code` empty).
pub struct Row<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub active: u64,
    pub new: u64,
    pub revoked: u64,
    pub received: u64,
    pub sent: u64,
    /// Đ13.1, between 0 and 1.
    pub open_share: Option<f64>,
    pub incidents: u64,
    pub incidents_resolved: u64,
    pub documents: u64,
}

/// "ngày 04 tháng 02 năm 2026": a day below 10 and the months January and February with a
/// leading zero (Nghị định 30/2020, appendix I).
fn date_words((d, m, y): (u32, u32, i32)) -> String {
    let month = if m < 3 {
        format!("{m:02}")
    } else {
        m.to_string()
    };
    format!("ngày {d:02} tháng {month} năm {y}")
}

fn dmy((d, m, y): (u32, u32, i32)) -> String {
    format!("{d:02}/{m:02}/{y}")
}

/// The Đ13.1 share as a percentage with one decimal, Vietnamese style ("43,8%").
pub fn percent(share: Option<f64>) -> String {
    match share {
        Some(s) => format!("{:.1}%", s * 100.0).replace('.', ","),
        None => "—".into(),
    }
}

/// A font as printpdf knows it and as measured.
struct Font {
    pdf: IndirectFontRef,
    face: Face<'static>,
}

impl Font {
    /// The width of `text` at `size` points, in millimetres.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.face.units_per_em());
        let advance: f32 = text
            .chars()
            .filter_map(|c| self.face.glyph_index(c))
            .filter_map(|g| self.face.glyph_hor_advance(g))
            .map(f32::from)
            .sum();
        advance / units * size * PT
    }

    /// `text` broken into lines no wider than `width` mm (a word wider than that stands alone).
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size) > width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// The pages being written and where the next line goes.
struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: Font,
    bold: Font,
    /// The baseline of the next line, mm from the bottom.
    y: f32,
    pages: u32,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Centre,
    Right,
}

impl Writer {
    fn font(&self, bold: bool) -> &Font {
        if bold { &self.bold } else { &self.regular }
    }

    /// One line of text at the baseline `y`, placed in the box `[x0, x1]`.
    /// `style` is (size in points, bold), `span` the box (x0, x1).
    fn text_at(&self, text: &str, style: (f32, bool), span: (f32, f32), align: Align, y: f32) {
        let ((size, bold), (x0, x1)) = (style, span);
        let font = self.font(bold);
        let w = font.width(text, size);
        let x = match align {
            Align::Left => x0,
            Align::Centre => x0 + ((x1 - x0) - w) / 2.0,
            Align::Right => x1 - w,
        };
        self.layer.use_text(text, size, Mm(x), Mm(y), &font.pdf);
    }

    fn rule(&self, x0: f32, y0: f32, x1: f32, y1: f32) {
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(x0), Mm(y0)), false),
                (Point::new(Mm(x1), Mm(y1)), false),
            ],
            is_closed: false,
        });
    }

    /// A new page; from the second on, its number at the top centre.
    fn new_page(&mut self) {
        let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "trang");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.pages += 1;
        self.text_at(
            &self.pages.to_string(),
            (12.0, false),
            (LEFT, RIGHT),
            Align::Centre,
            PAGE_H - 12.0,
        );
        self.y = TOP;
    }

    /// Room for `height` mm below the current line, or a new page.
    fn room(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// A paragraph across the text width, broken into lines; `indent` mm on the first.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, align: Align, indent: f32) {
        let leading = size * PT * 1.35;
        let lines = self.font(bold).wrap(text, size, RIGHT - LEFT - indent);
        for (i, line) in lines.iter().enumerate() {
            self.room(leading);
            let x0 = if i == 0 { LEFT + indent } else { LEFT };
            self.text_at(line, (size, bold), (x0, RIGHT), align, self.y);
            self.y -= leading;
        }
    }
}

/// The table's columns: heading, width (mm), right-aligned.
const COLUMNS: [(&str, f32, bool); 10] = [
    ("Mã đơn vị", 19.0, false),
    ("Tên đơn vị", 37.0, false),
    ("Hộp thư hoạt động", 14.0, true),
    ("Cấp mới", 11.0, true),
    ("Thu hồi", 11.0, true),
    ("Thư nhận", 14.0, true),
    ("Thư gửi", 14.0, true),
    ("Tỷ lệ mở hộp thư (Đ13.1)", 16.0, true),
    ("Sự cố", 12.0, true),
    ("Văn bản điện tử", 17.0, true),
];
const CELL_SIZE: f32 = 9.0;
const PAD: f32 = 1.2;

fn cells(r: &Row<'_>) -> [String; 10] {
    [
        r.code.to_string(),
        r.name.to_string(),
        r.active.to_string(),
        r.new.to_string(),
        r.revoked.to_string(),
        r.received.to_string(),
        r.sent.to_string(),
        percent(r.open_share),
        r.incidents.to_string(),
        r.documents.to_string(),
    ]
}

impl Writer {
    /// One table row: each cell broken to its column, the row as tall as its tallest cell,
    /// with its borders. `header` repeats on a new page when the row does not fit.
    fn table_row(&mut self, texts: &[String; 10], bold: bool, header: Option<&[String; 10]>) {
        let leading = CELL_SIZE * PT * 1.25;
        let wrapped: Vec<Vec<String>> = texts
            .iter()
            .zip(COLUMNS)
            .map(|(t, (_, w, _))| self.font(bold).wrap(t, CELL_SIZE, w - 2.0 * PAD))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1) as f32 * leading + 2.0 * PAD;
        if self.room(height)
            && let Some(h) = header
        {
            self.table_row(h, true, None);
        }
        let top = self.y;
        let bottom = top - height;
        let mut x = LEFT;
        self.rule(LEFT, top, RIGHT, top);
        self.rule(LEFT, bottom, RIGHT, bottom);
        for (lines, (_, w, right)) in wrapped.iter().zip(COLUMNS) {
            self.rule(x, top, x, bottom);
            for (i, line) in lines.iter().enumerate() {
                let baseline = top - PAD - CELL_SIZE * PT * 0.85 - i as f32 * leading;
                let align = if header.is_none() && bold {
                    Align::Centre
                } else if right {
                    Align::Right
                } else {
                    Align::Left
                };
                self.text_at(
                    line,
                    (CELL_SIZE, bold),
                    (x + PAD, x + w - PAD),
                    align,
                    baseline,
                );
            }
            x += w;
        }
        self.rule(RIGHT, top, RIGHT, bottom);
        self.y = bottom;
    }
}

/// The report as PDF bytes.
pub fn render(h: &Heading<'_>, units: &[Row<'_>], province: &Row<'_>) -> anyhow::Result<Vec<u8>> {
    let title = format!(
        "Báo cáo tình hình sử dụng hệ thống thư điện tử từ ngày {} đến ngày {}",
        dmy(h.from),
        dmy(h.to)
    );
    let (doc, page, layer) = PdfDocument::new(&title, Mm(PAGE_W), Mm(PAGE_H), "trang");
    let face = |bytes: &'static [u8]| {
        Face::parse(bytes, 0).map_err(|e| anyhow::anyhow!("embedded font: {e}"))
    };
    let regular = Font {
        pdf: doc.add_external_font(REGULAR)?,
        face: face(REGULAR)?,
    };
    let bold = Font {
        pdf: doc.add_external_font(BOLD)?,
        face: face(BOLD)?,
    };
    let layer = doc.get_page(page).get_layer(layer);
    let mut w = Writer {
        doc,
        layer,
        regular,
        bold,
        y: TOP,
        pages: 1,
    };

    // The header: two blocks side by side, each centred in its own column.
    let (l0, l1) = (LEFT - 12.0, LEFT + 62.0);
    let (r0, r1) = (LEFT + 62.0, RIGHT + 5.0);
    let mut y = TOP;
    w.text_at(h.superior, (12.0, false), (l0, l1), Align::Centre, y);
    w.text_at(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        (12.0, true),
        (r0, r1),
        Align::Centre,
        y,
    );
    y -= 5.5;
    let issuer = h.issuer.to_uppercase();
    let issuer_lines = w.bold.wrap(&issuer, 12.0, l1 - l0);
    let mut ly = y;
    for line in &issuer_lines {
        w.text_at(line, (12.0, true), (l0, l1), Align::Centre, ly);
        ly -= 5.5;
    }
    let motto = "Độc lập - Tự do - Hạnh phúc";
    w.text_at(motto, (13.0, true), (r0, r1), Align::Centre, y);
    // The short rules under the issuer and the motto.
    let last_issuer = issuer_lines.last().map(String::as_str).unwrap_or("");
    let rule_w = w.bold.width(last_issuer, 12.0) / 3.0;
    let lc = (l0 + l1) / 2.0;
    w.rule(lc - rule_w / 2.0, ly + 4.0, lc + rule_w / 2.0, ly + 4.0);
    let motto_w = w.bold.width(motto, 13.0);
    let rc = (r0 + r1) / 2.0;
    w.rule(rc - motto_w / 2.0, y - 1.5, rc + motto_w / 2.0, y - 1.5);
    ly -= 2.0;
    let reference = format!("Số: {}", h.reference);
    w.text_at(&reference, (13.0, false), (l0, l1), Align::Centre, ly);
    w.text_at(
        &format!("{}, {}", h.place, date_words(h.date)),
        (13.0, false),
        (r0, r1),
        Align::Centre,
        ly,
    );
    w.y = ly - 14.0;

    // Title and subject.
    w.paragraph("BÁO CÁO", 14.0, true, Align::Centre, 0.0);
    w.paragraph(
        "Tình hình sử dụng hệ thống thư điện tử",
        13.0,
        true,
        Align::Centre,
        0.0,
    );
    w.paragraph(
        &format!("từ ngày {} đến ngày {}", dmy(h.from), dmy(h.to)),
        13.0,
        true,
        Align::Centre,
        0.0,
    );
    w.y -= 6.0;
    w.paragraph(
        &format!(
            "Thực hiện Quy chế sử dụng thư điện tử trong hoạt động của cơ quan nhà nước tỉnh {} \
             (Điều 17), {} báo cáo tình hình sử dụng hệ thống thư điện tử từ ngày {} đến ngày {} \
             như sau:",
            h.place,
            h.issuer,
            dmy(h.from),
            dmy(h.to)
        ),
        13.0,
        false,
        Align::Left,
        10.0,
    );
    w.y -= 2.0;

    w.paragraph("I. SỐ LIỆU TOÀN TỈNH", 13.0, true, Align::Left, 10.0);
    for line in [
        format!(
            "- Hộp thư cá nhân đang hoạt động: {}; cấp mới trong kỳ: {}; thu hồi trong kỳ: {}.",
            province.active, province.new, province.revoked
        ),
        format!(
            "- Thư nhận: {}; thư gửi: {}.",
            province.received, province.sent
        ),
        format!(
            "- Tỷ lệ ngày làm việc cán bộ mở hộp thư ít nhất hai lần (Điều 13 khoản 1): {}.",
            percent(province.open_share)
        ),
        format!(
            "- Sự cố được báo: {} (đã xử lý: {}); văn bản gửi qua thư điện tử: {}.",
            province.incidents, province.incidents_resolved, province.documents
        ),
    ] {
        w.paragraph(&line, 13.0, false, Align::Left, 10.0);
    }
    w.y -= 2.0;
    w.paragraph(
        &format!("II. SỐ LIỆU THEO ĐƠN VỊ ({} đơn vị)", units.len()),
        13.0,
        true,
        Align::Left,
        10.0,
    );
    w.y -= 1.0;
    let header: [String; 10] = COLUMNS.map(|(h, _, _)| h.to_string());
    w.table_row(&header, true, None);
    for u in units {
        w.table_row(&cells(u), false, Some(&header));
    }
    let mut total = cells(province);
    total[0] = String::new();
    total[1] = "Toàn tỉnh".into();
    w.table_row(&total, true, Some(&header));

    // Recipients left, signature right.
    w.y -= 8.0;
    w.room(40.0);
    let y = w.y;
    w.text_at("Nơi nhận:", (12.0, true), (LEFT, RIGHT), Align::Left, y);
    let mut ry = y - 5.0;
    for line in [
        format!("- UBND tỉnh {} (để báo cáo);", h.place),
        "- Các đơn vị trong tỉnh;".to_string(),
        "- Lưu: VT.".to_string(),
    ] {
        w.text_at(&line, (11.0, false), (LEFT, RIGHT), Align::Left, ry);
        ry -= 4.8;
    }
    let (s0, s1) = (LEFT + 85.0, RIGHT);
    w.text_at(
        "THỦ TRƯỞNG CƠ QUAN",
        (13.0, true),
        (s0, s1),
        Align::Centre,
        y,
    );
    w.text_at(
        "(Ký, ghi rõ họ tên và đóng dấu)",
        (12.0, false),
        (s0, s1),
        Align::Centre,
        y - 6.0,
    );
    let Writer { doc, .. } = w;
    Ok(doc.save_to_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_shares_are_written_the_vietnamese_way() {
        assert_eq!(date_words((4, 2, 2026)), "ngày 04 tháng 02 năm 2026");
        assert_eq!(date_words((15, 12, 2026)), "ngày 15 tháng 12 năm 2026");
        assert_eq!(percent(Some(7.0 / 16.0)), "43,8%");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn lines_break_within_their_width() {
        let regular = Face::parse(REGULAR, 0).unwrap();
        // Every letter of Vietnamese has a glyph.
        for c in
            "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ".chars()
        {
            assert!(regular.glyph_index(c).is_some(), "{c}");
        }
        let doc = PdfDocument::empty("t");
        let font = Font {
            pdf: doc.add_external_font(REGULAR).unwrap(),
            face: regular,
        };
        let text = "Ủy ban nhân dân xã Hưng Đạo thuộc tỉnh Cao Bằng";
        let lines = font.wrap(text, 9.0, 30.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| font.width(l, 9.0) <= 30.0),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), text);
    }
}
