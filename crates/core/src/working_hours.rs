//! When a member may be chased: their working days and hours, in their own time zone.
//! A reminder that falls outside them waits for the next slot, so nobody is reminded at
//! 3 a.m. Written as people say it: `mon-fri 09:00-17:00`, `mon,wed,fri 08:30-12:00`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{TimeZone, Timestamp};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkingHours {
    /// Bit 0 is Monday.
    days: u8,
    /// Minutes after midnight; `end` may be 24:00.
    start: u16,
    end: u16,
}

impl Default for WorkingHours {
    /// Monday to Friday, nine to five.
    fn default() -> Self {
        Self { days: 0b001_1111, start: 9 * 60, end: 17 * 60 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not working hours: write days and hours such as 'mon-fri 09:00-17:00' or 'mon,wed 08:30-12:00'")]
pub struct WorkingHoursError(String);

impl FromStr for WorkingHours {
    type Err = WorkingHoursError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || WorkingHoursError(text.trim().to_owned());
        let (days, hours) = text.trim().split_once(' ').ok_or_else(bad)?;
        let mut mask = 0u8;
        for part in days.split(',') {
            let day = |name: &str| DAYS.iter().position(|d| *d == name.trim()).ok_or_else(bad);
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => (day(part)?, day(part)?),
            };
            if first > last {
                return Err(bad());
            }
            for d in first..=last {
                mask |= 1 << d;
            }
        }
        let (start, end) = hours.trim().split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Result<u16, WorkingHoursError> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
            if !two_digits(h) || !two_digits(m) {
                return Err(bad());
            }
            let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if m > 59 || h * 60 + m > 24 * 60 {
                return Err(bad());
            }
            Ok(h * 60 + m)
        };
        let (start, end) = (minute(start)?, minute(end)?);
        if start >= end || start == 24 * 60 {
            return Err(bad());
        }
        Ok(Self { days: mask, start, end })
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut runs: Vec<String> = Vec::new();
        let mut d = 0;
        while d < 7 {
            if self.days & (1 << d) == 0 {
                d += 1;
                continue;
            }
            let first = d;
            while d + 1 < 7 && self.days & (1 << (d + 1)) != 0 {
                d += 1;
            }
            runs.push(if first == d { DAYS[d].to_owned() } else { format!("{}-{}", DAYS[first], DAYS[d]) });
            d += 1;
        }
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{} {}-{}", runs.join(","), hm(self.start), hm(self.end))
    }
}

impl WorkingHours {
    /// The first moment at or after `at` inside these hours in `zone`: `at` itself when it
    /// is inside them.
    pub fn next_slot(&self, zone: &TimeZone, at: Timestamp) -> Timestamp {
        let Ok(tz) = jiff::tz::TimeZone::get(zone.as_str()) else { return at };
        let Ok(instant) = jiff::Timestamp::from_millisecond(at.as_millis()) else { return at };
        let now = instant.to_zoned(tz.clone());
        let date = now.date();
        let minute = u16::try_from(i32::from(now.hour()) * 60 + i32::from(now.minute())).unwrap_or(0);
        for offset in 0..=7i32 {
            let Ok(day) = date.checked_add(jiff::Span::new().days(offset)) else { break };
            let weekday = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0);
            if self.days & (1 << weekday) == 0 {
                continue;
            }
            if offset == 0 && minute >= self.start && minute < self.end {
                return at;
            }
            if offset == 0 && minute >= self.start {
                continue;
            }
            let (h, m) = (i8::try_from(self.start / 60).unwrap_or(0), i8::try_from(self.start % 60).unwrap_or(0));
            let Ok(start) = day.at(h, m, 0, 0).to_zoned(tz.clone()) else { continue };
            return Timestamp::from_millis(start.timestamp().as_millisecond());
        }
        at
    }
}

impl WorkingHours {
    /// The next start of these hours after `at` in `zone`: the member's next morning (for
    /// a daily digest), or with `weekly` the start of their week's first working day.
    pub fn next_start(&self, zone: &TimeZone, at: Timestamp, weekly: bool) -> Timestamp {
        let Ok(tz) = jiff::tz::TimeZone::get(zone.as_str()) else { return at };
        let Ok(instant) = jiff::Timestamp::from_millisecond(at.as_millis()) else { return at };
        let date = instant.to_zoned(tz.clone()).date();
        let first_day = self.days.trailing_zeros() as usize;
        for offset in 0..=14i32 {
            let Ok(day) = date.checked_add(jiff::Span::new().days(offset)) else { break };
            let weekday = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0);
            if self.days & (1 << weekday) == 0 || (weekly && weekday != first_day) {
                continue;
            }
            let (h, m) = (i8::try_from(self.start / 60).unwrap_or(0), i8::try_from(self.start % 60).unwrap_or(0));
            let Ok(start) = day.at(h, m, 0, 0).to_zoned(tz.clone()) else { continue };
            let start = Timestamp::from_millis(start.timestamp().as_millisecond());
            if start > at {
                return start;
            }
        }
        at
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for WorkingHours {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .examples(["mon-fri 09:00-17:00"])
            .description(Some("Working days and hours, such as `mon-fri 09:00-17:00`, in the member's time zone"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for WorkingHours {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(zone: &str, text: &str) -> Timestamp {
        let zoned: jiff::Zoned = format!("{text}[{zone}]").parse().unwrap();
        Timestamp::from_millis(zoned.timestamp().as_millisecond())
    }

    #[test]
    fn reads_back_as_written() {
        for text in ["mon-fri 09:00-17:00", "mon,wed,fri 08:30-12:00", "sat-sun 00:00-24:00", "mon-tue,thu 07:00-19:30"]
        {
            assert_eq!(text.parse::<WorkingHours>().unwrap().to_string(), text);
        }
        assert_eq!(WorkingHours::default().to_string(), "mon-fri 09:00-17:00");
    }

    #[test]
    fn other_forms_are_refused() {
        for bad in [
            "",
            "mon-fri",
            "09:00-17:00",
            "fri-mon 09:00-17:00",
            "mon-fri 17:00-09:00",
            "mon-fri 9:00-17:00",
            "mon-fri 09:00-24:01",
            "monday 09:00-17:00",
            "mon-fri 09:60-17:00",
            "mon-fri 24:00-24:00",
        ] {
            assert!(bad.parse::<WorkingHours>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_time_outside_hours_waits_for_the_next_working_morning_in_the_members_zone() {
        let hours = WorkingHours::default();
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        // Friday 2026-12-04 03:00 in Berlin: that morning at nine.
        let slot = hours.next_slot(&berlin, at("Europe/Berlin", "2026-12-04T03:00"));
        assert_eq!(slot, at("Europe/Berlin", "2026-12-04T09:00"));
        // Friday 18:00: Monday at nine.
        let slot = hours.next_slot(&berlin, at("Europe/Berlin", "2026-12-04T18:00"));
        assert_eq!(slot, at("Europe/Berlin", "2026-12-07T09:00"));
        // Inside hours: at once.
        let inside = at("Europe/Berlin", "2026-12-04T10:15");
        assert_eq!(hours.next_slot(&berlin, inside), inside);
        // The same instant is night in Tokyo, and the slot is Tokyo's morning.
        let tokyo = TimeZone::parse("Asia/Tokyo").unwrap();
        assert_eq!(hours.next_slot(&tokyo, inside), at("Asia/Tokyo", "2026-12-07T09:00"));
    }

    #[test]
    fn digests_go_at_the_start_of_the_next_working_morning_or_week() {
        let hours = WorkingHours::default();
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        // Wednesday 2026-12-02 10:15, inside hours: the daily digest is Thursday's morning.
        let wednesday = at("Europe/Berlin", "2026-12-02T10:15");
        assert_eq!(hours.next_start(&berlin, wednesday, false), at("Europe/Berlin", "2026-12-03T09:00"));
        // Before that morning's start: the same morning.
        let early = at("Europe/Berlin", "2026-12-03T06:00");
        assert_eq!(hours.next_start(&berlin, early, false), at("Europe/Berlin", "2026-12-03T09:00"));
        // Friday evening: Monday.
        let friday = at("Europe/Berlin", "2026-12-04T18:00");
        assert_eq!(hours.next_start(&berlin, friday, false), at("Europe/Berlin", "2026-12-07T09:00"));
        // Weekly: the first working day's start, a Monday at nine, even from Monday at ten.
        assert_eq!(hours.next_start(&berlin, wednesday, true), at("Europe/Berlin", "2026-12-07T09:00"));
        let monday = at("Europe/Berlin", "2026-12-07T10:00");
        assert_eq!(hours.next_start(&berlin, monday, true), at("Europe/Berlin", "2026-12-14T09:00"));
        let tue_thu: WorkingHours = "tue-thu 08:00-12:00".parse().unwrap();
        assert_eq!(tue_thu.next_start(&berlin, monday, true), at("Europe/Berlin", "2026-12-08T08:00"));
    }

    #[test]
    fn a_morning_lost_to_daylight_saving_still_has_a_slot() {
        // 02:30 does not exist in New York on 2026-03-08; hours starting then begin at 03:30.
        let hours: WorkingHours = "sun 02:30-05:00".parse().unwrap();
        let ny = TimeZone::parse("America/New_York").unwrap();
        let slot = hours.next_slot(&ny, at("America/New_York", "2026-03-08T00:00"));
        assert_eq!(slot, at("America/New_York", "2026-03-08T03:30"));
    }
}
