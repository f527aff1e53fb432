//! How many items one page of a list may hold, as a client asks for it.

use serde::de::{Deserialize, Deserializer, Error};

pub const MAX: u32 = 500;

/// Reads an optional `limit`, refusing one outside 1 to [`MAX`]: quietly clamping it would
/// hide a client's mistake and break the documented range.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    match Option::<u32>::deserialize(deserializer)? {
        Some(n) if !(1..=MAX).contains(&n) => Err(D::Error::custom(format!("limit must be 1 to {MAX}, not {n}"))),
        limit => Ok(limit),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[derive(serde::Deserialize, Debug)]
    struct Query {
        #[serde(default, deserialize_with = "super::deserialize")]
        limit: Option<u32>,
    }

    #[test]
    fn a_limit_outside_the_range_is_refused_and_an_absent_one_is_none() {
        let parse = |json: &str| serde_json::from_str::<Query>(json).map(|q| q.limit);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"limit": 500}"#).unwrap(), Some(500));
        for bad in ["0", "501", "2147483648"] {
            let error = parse(&format!(r#"{{"limit": {bad}}}"#)).unwrap_err().to_string();
            assert!(error.contains("limit must be 1 to 500") || error.contains("invalid value"), "{bad}: {error}");
        }
    }
}
