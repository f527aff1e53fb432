//! How many SMS segments a text costs. A text in the GSM 03.38 alphabet takes 7 bits a
//! character: 160 fit one message, 153 each part of a longer one (the rest is the
//! concatenation header), and the extension characters (`^{}[]~|€\`) take two. Any other
//! character makes the whole text UCS-2: 70 UTF-16 units, or 67 a part.

/// The alphabet a text is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "gsm7",
            Self::Ucs2 => "ucs2",
        }
    }
}

/// A text's cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    pub count: usize,
}

const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// The septets a character takes in GSM-7, or `None` when it has no GSM-7 form.
fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn count(text: &str) -> Segments {
    let gsm: Option<usize> = text.chars().map(septets).sum();
    let (encoding, units, single, part) = match gsm {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let count = if units <= single { 1 } else { units.div_ceil(part) };
    Segments { encoding, units, count }
}

/// Whether `c` keeps a text in GSM-7.
pub fn is_gsm7(c: char) -> bool {
    septets(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_the_gsm_and_ucs2_limits() {
        let gsm = |n: usize| count(&"a".repeat(n));
        assert_eq!(gsm(160), Segments { encoding: Encoding::Gsm7, units: 160, count: 1 });
        assert_eq!(gsm(161).count, 2);
        assert_eq!(gsm(306).count, 2);
        assert_eq!(gsm(307).count, 3);
        // Extension characters take two septets.
        assert_eq!(count(&"€".repeat(80)).units, 160);
        assert_eq!(count(&"€".repeat(81)).count, 2);
        // One character outside the alphabet makes the whole text UCS-2.
        let ucs = |n: usize| count(&format!("ł{}", "a".repeat(n - 1)));
        assert_eq!(ucs(70), Segments { encoding: Encoding::Ucs2, units: 70, count: 1 });
        assert_eq!(ucs(71).count, 2);
        assert_eq!(ucs(134).count, 2);
        assert_eq!(ucs(135).count, 3);
        // An emoji is two UTF-16 units.
        assert_eq!(count("🙂").units, 2);
        assert_eq!(count("").count, 1);
    }
}
