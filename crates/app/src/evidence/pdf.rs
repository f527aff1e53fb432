//! The evidence pack's report as a PDF, for people who print, sign and file it: the same
//! facts as `report.html`, set in Courier (one of the fonts every PDF reader carries, so
//! nothing is embedded) on A4 pages. Text outside the Windows-1252 characters Courier has
//! is shown as `?`; the JSON files hold every character. A report of a very large message
//! lists its first rows and says how many more the pack's files hold.

use std::path::Path;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FONT_SIZE: f32 = 8.5;
const LEADING: f32 = 11.0;
/// Courier's glyphs are 0.6 em wide.
const COLUMNS: usize = ((PAGE_WIDTH - 2.0 * MARGIN) / (0.6 * FONT_SIZE)) as usize;
const LINES_PER_PAGE: usize = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
/// Rows listed at most; the leaves file has them all.
const ROWS_MAX: u64 = 20_000;

#[derive(Default)]
pub(super) struct PdfReport {
    lines: Vec<String>,
    rows: u64,
}

impl PdfReport {
    /// A line of text, wrapped between words at the page's width (a word longer than a
    /// line is cut).
    pub(super) fn line(&mut self, text: &str) {
        let mut current = String::new();
        let mut width = 0;
        for word in text.split(' ') {
            let len = word.chars().count();
            if width > 0 && width + 1 + len > COLUMNS {
                self.lines.push(std::mem::take(&mut current));
                current.push_str("    ");
                width = 4;
            } else if width > 0 {
                current.push(' ');
                width += 1;
            }
            let mut rest: Vec<char> = word.chars().collect();
            while width + rest.len() > COLUMNS {
                let room = COLUMNS.saturating_sub(width).max(1);
                current.extend(rest.drain(..room.min(rest.len())));
                self.lines.push(std::mem::take(&mut current));
                current.push_str("    ");
                width = 4;
            }
            width += rest.len();
            current.extend(rest);
        }
        self.lines.push(current);
    }

    pub(super) fn heading(&mut self, text: &str) {
        self.line("");
        self.line(text);
        self.line(&"=".repeat(text.chars().count().min(COLUMNS)));
    }

    /// One row of the evidence; past `ROWS_MAX` rows only counted.
    pub(super) fn row(&mut self, text: &str) {
        self.rows += 1;
        if self.rows <= ROWS_MAX {
            self.line(text);
        }
    }

    pub(super) fn finish(mut self, path: &Path) -> std::io::Result<()> {
        if self.rows > ROWS_MAX {
            let more = self.rows - ROWS_MAX;
            self.line(&format!("... and {more} rows more: see leaves.jsonl and report.html."));
        }
        let pages: Vec<&[String]> = self.lines.chunks(LINES_PER_PAGE).collect();
        let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
        let page_ref = |i: usize| Ref::new(4 + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(5 + 2 * i as i32);
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids((0..pages.len()).map(page_ref)).count(pages.len() as i32);
        pdf.type1_font(font).base_font(Name(b"Courier")).encoding_predefined(Name(b"WinAnsiEncoding"));
        let total = pages.len();
        for (i, lines) in pages.into_iter().enumerate() {
            let mut page = pdf.page(page_ref(i));
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree);
            page.contents(content_ref(i));
            page.resources().fonts().pair(Name(b"F1"), font);
            page.finish();
            let mut content = Content::new();
            content.begin_text();
            content.set_font(Name(b"F1"), FONT_SIZE);
            content.set_leading(LEADING);
            content.next_line(MARGIN, PAGE_HEIGHT - MARGIN);
            for line in lines {
                content.show(Str(&win_ansi(line)));
                content.next_line_using_leading();
            }
            content.end_text();
            content.begin_text();
            content.set_font(Name(b"F1"), FONT_SIZE);
            content.next_line(PAGE_WIDTH - MARGIN - 60.0, MARGIN / 2.0);
            content.show(Str(format!("page {} of {total}", i + 1).as_bytes()));
            content.end_text();
            pdf.stream(content_ref(i), &content.finish());
        }
        std::fs::write(path, pdf.finish())
    }
}

/// `text` in Windows-1252, the encoding the page's font is set in; what it lacks is `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '•' => 0x95,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_set_in_windows_1252() {
        assert_eq!(win_ansi("Grüße “ok” – 5 €"), b"Gr\xfc\xdfe \x93ok\x94 \x96 5 \x80".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }

    #[test]
    fn long_lines_wrap_between_words() {
        let mut report = PdfReport::default();
        let words = vec!["word"; 60].join(" ");
        report.line(&words);
        assert!(report.lines.len() > 1);
        assert!(report.lines.iter().all(|l| l.chars().count() <= COLUMNS), "{:?}", report.lines);
        assert!(report.lines.iter().all(|l| !l.trim().is_empty() && l.trim().split(' ').all(|w| w == "word")));
        report.line(&"x".repeat(COLUMNS * 2));
        assert!(report.lines.iter().all(|l| l.chars().count() <= COLUMNS));
    }

    #[test]
    fn a_report_is_a_pdf_with_a_page_per_screenful() -> std::io::Result<()> {
        let mut report = PdfReport::default();
        report.heading("Evidence: Recall");
        for i in 0..150 {
            report.row(&format!("acknowledged  ana@acme.example  row {i}"));
        }
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("report.pdf");
        report.finish(&path)?;
        let bytes = std::fs::read(&path)?;
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(b"/Count 3".len()).any(|w| w == b"/Count 3"), "153 lines: three pages");
        assert!(bytes.windows(b"(page 3 of 3)".len()).any(|w| w == b"(page 3 of 3)"));
        Ok(())
    }
}
