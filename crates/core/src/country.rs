//! An ISO 3166-1 alpha-2 country code (`DE`), checked against the assigned codes.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an ISO 3166-1 alpha-2 country code such as DE, US or BR")]
pub struct CountryError(String);

/// Officially assigned ISO 3166-1 alpha-2 codes, plus XK (Kosovo), in common use.
const ASSIGNED: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

impl Country {
    /// Every assigned code, upper case, in alphabetical order.
    pub fn assigned() -> impl Iterator<Item = &'static str> {
        ASSIGNED.split(' ')
    }

    pub fn parse(text: &str) -> Result<Self, CountryError> {
        let code = text.trim().to_ascii_uppercase();
        let assigned = code.len() == 2 && ASSIGNED.split(' ').any(|c| c == code);
        if !assigned {
            return Err(CountryError(text.trim().to_owned()));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Country {
    type Error = CountryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}
impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_codes_are_accepted_in_any_case() {
        assert_eq!(Country::parse(" de ").ok().map(String::from), Some("DE".into()));
        assert!(Country::parse("US").is_ok());
    }

    #[test]
    fn unassigned_codes_and_names_are_refused() {
        for bad in ["", "XX", "Germany", "DEU", "D"] {
            assert!(Country::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
