//! Splits rule text into tokens, each with the byte offset where it starts.

use super::parser::RuleError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Dot,
    Comma,
    Open,
    Close,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Word(w) => format!("'{w}'"),
            Self::Text(t) => format!("\"{t}\""),
            Self::Number(n) => format!("{n}"),
            Self::Dot => "'.'".into(),
            Self::Comma => "','".into(),
            Self::Open => "'('".into(),
            Self::Close => "')'".into(),
            Self::Eq => "'='".into(),
            Self::Ne => "'!='".into(),
            Self::Lt => "'<'".into(),
            Self::Le => "'<='".into(),
            Self::Gt => "'>'".into(),
            Self::Ge => "'>='".into(),
        }
    }
}

pub(super) fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, RuleError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let token = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Token::Dot
            }
            b',' => {
                i += 1;
                Token::Comma
            }
            b'(' => {
                i += 1;
                Token::Open
            }
            b')' => {
                i += 1;
                Token::Close
            }
            b'=' => {
                i += if bytes.get(i + 1) == Some(&b'=') { 2 } else { 1 };
                Token::Eq
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Token::Ne
            }
            b'<' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Token::Le
            }
            b'<' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                Token::Ne
            }
            b'<' => {
                i += 1;
                Token::Lt
            }
            b'>' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Token::Ge
            }
            b'>' => {
                i += 1;
                Token::Gt
            }
            b'"' | b'\'' => {
                let (value, next) = quoted(text, i)?;
                i = next;
                Token::Text(value)
            }
            b'0'..=b'9' | b'-' | b'.' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let literal = &text[start..i];
                let number = literal.parse::<f64>().ok().filter(|n| n.is_finite());
                Token::Number(number.ok_or_else(|| RuleError::at(start, format!("'{literal}' is not a number")))?)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-') {
                    i += 1;
                }
                Token::Word(text[start..i].to_owned())
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                return Err(RuleError::at(start, format!("unexpected character '{ch}'")));
            }
        };
        tokens.push((start, token));
    }
    Ok(tokens)
}

/// Reads a quoted string starting at `start`; a doubled quote or a backslash escapes one.
fn quoted(text: &str, start: usize) -> Result<(String, usize), RuleError> {
    let quote = text.as_bytes()[start] as char;
    let mut value = String::new();
    let mut chars = text[start + 1..].char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            c if c == quote => {
                if chars.peek().is_some_and(|(_, next)| *next == quote) {
                    chars.next();
                    value.push(quote);
                } else {
                    return Ok((value, start + 1 + offset + c.len_utf8()));
                }
            }
            c => value.push(c),
        }
    }
    Err(RuleError::at(start, "this text has no closing quote".to_owned()))
}
