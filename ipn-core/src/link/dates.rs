//! The dates a link notification carries: the `Date` header (RFC 2822 / IMF-fixdate) and the
//! body's RFC 3339 timestamps.
//!
//! `time`'s parsers walk a general grammar (comments and folding whitespace, optional weekday
//! and seconds, one- or two-digit days, zone names; fractions and any separator for RFC 3339):
//! about 500 and 350 instructions a date. Senders use one fixed layout, so each parser first
//! tries that layout alone and hands anything else to `time`, unchanged. A fast path answers
//! only where `time` would give the very same value; wherever it is unsure (another layout, a
//! leap second, a field out of range) it answers nothing and `time` decides, errors included.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// Parses an HTTP date: IMF-fixdate (`Thu, 01 Dec 2022 19:08:22 GMT`) or with a numeric zone
/// (`Thu, 01 Dec 2022 19:08:22 +0000`).
///
/// ```
/// let date = ipn_core::link::parse_http_date("Thu, 01 Dec 2022 19:08:22 +0000").unwrap();
/// assert_eq!(date.unix_timestamp(), 1_669_921_702);
/// assert!(ipn_core::link::parse_http_date("2022-12-01T19:08:22Z").is_none());
/// ```
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let value = crate::text::trim(value);
    fixed_http_date(value.as_bytes()).or_else(|| OffsetDateTime::parse(value, &Rfc2822).ok())
}

/// An RFC 3339 timestamp (`2026-11-20T10:00:00Z`, `2026-12-20T10:00:00.5+01:00`).
pub(crate) fn parse_rfc3339(value: &str) -> Option<OffsetDateTime> {
    fixed_rfc3339(value.as_bytes()).or_else(|| OffsetDateTime::parse(value, &Rfc3339).ok())
}

/// Two ASCII digits as a number.
fn two_digits(tens: u8, units: u8) -> Option<u8> {
    (tens.is_ascii_digit() && units.is_ascii_digit()).then(|| (tens - b'0') * 10 + (units - b'0'))
}

/// Four ASCII digits as a number.
fn four_digits(a: u8, b: u8, c: u8, d: u8) -> Option<u16> {
    Some(u16::from(two_digits(a, b)?) * 100 + u16::from(two_digits(c, d)?))
}

/// A month by its English abbreviation, as RFC 2822 writes it.
fn month(name: [u8; 3]) -> Option<Month> {
    Some(match &name {
        b"Jan" => Month::January,
        b"Feb" => Month::February,
        b"Mar" => Month::March,
        b"Apr" => Month::April,
        b"May" => Month::May,
        b"Jun" => Month::June,
        b"Jul" => Month::July,
        b"Aug" => Month::August,
        b"Sep" => Month::September,
        b"Oct" => Month::October,
        b"Nov" => Month::November,
        b"Dec" => Month::December,
        _ => return None,
    })
}

/// `Thu, 01 Dec 2022 19:08:22 GMT` or `... +0000` exactly: weekday and month as written in
/// RFC 2822, two-digit day, single spaces, seconds present and not a leap second. `time` reads
/// such a date the same way: the weekday is not checked against the date, a year before 1900 is
/// refused, the zone's sign applies to its hours (`-0030` is half an hour east, as `time` has
/// it), `GMT` is UTC.
fn fixed_http_date(value: &[u8]) -> Option<OffsetDateTime> {
    let [
        w0,
        w1,
        w2,
        b',',
        b' ',
        d0,
        d1,
        b' ',
        m0,
        m1,
        m2,
        b' ',
        y0,
        y1,
        y2,
        y3,
        b' ',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
        b' ',
        zone @ ..,
    ] = value
    else {
        return None;
    };
    if !matches!(&[*w0, *w1, *w2], b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun") {
        return None;
    }
    let month = month([*m0, *m1, *m2])?;
    let year = four_digits(*y0, *y1, *y2, *y3).filter(|year| *year >= 1900)?;
    let second = two_digits(*s0, *s1).filter(|second| *second < 60)?;
    let (offset_hour, offset_minute) = match zone {
        b"GMT" => (0, 0),
        [sign @ (b'+' | b'-'), h0, h1, n0, n1] => {
            let hours = i8::try_from(two_digits(*h0, *h1)?).ok()?;
            let minutes = i8::try_from(two_digits(*n0, *n1)?).ok()?;
            (if *sign == b'-' { -hours } else { hours }, minutes)
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(i32::from(year), month, two_digits(*d0, *d1)?).ok()?;
    let time = Time::from_hms(two_digits(*h0, *h1)?, two_digits(*n0, *n1)?, second).ok()?;
    let offset = UtcOffset::from_hms(offset_hour, offset_minute, 0).ok()?;
    Some(OffsetDateTime::new_in_offset(date, time, offset))
}

/// `2026-11-20T10:00:00Z` exactly: `T`, no fraction, `Z`, not a leap second.
fn fixed_rfc3339(value: &[u8]) -> Option<OffsetDateTime> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1, b'Z'] = value else {
        return None;
    };
    let month = Month::try_from(two_digits(*m0, *m1)?).ok()?;
    let date = Date::from_calendar_date(i32::from(four_digits(*y0, *y1, *y2, *y3)?), month, two_digits(*d0, *d1)?);
    let second = two_digits(*s0, *s1).filter(|second| *second < 60)?;
    let time = Time::from_hms(two_digits(*h0, *h1)?, two_digits(*n0, *n1)?, second).ok()?;
    Some(OffsetDateTime::new_in_offset(date.ok()?, time, UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of the given pieces, joined.
    fn combinations(parts: &[&[&str]]) -> Vec<String> {
        parts.iter().fold(vec![String::new()], |done, choices| {
            done.iter().flat_map(|head| choices.iter().map(move |choice| format!("{head}{choice}"))).collect()
        })
    }

    #[test]
    fn http_dates_read_as_time_reads_them() {
        let cases = combinations(&[
            &["Thu, ", "Sun, ", "thu, ", "Xyz, ", "Thu,", "", "Thu ,  "],
            &["01", "1", "00", "28", "29", "30", "31", "32", "0x"],
            &[" Feb ", " Dec ", " dec ", " Foo ", "  Jan "],
            &["1899", "1900", "2000", "2022", "2024", "2100", "9999", "22", "20x2"],
            &[" 00:00:00 ", " 19:08:22 ", " 23:59:59 ", " 23:59:60 ", " 24:00:00 ", " 12:60:00 ", " 12:00 "],
            &["GMT", "UT", "Z", "gmt", "+0000", "-0000", "+0100", "-0130", "-0030", "+2359", "+2400", "+9999", "+00"],
        ]);
        assert!(cases.len() > 100_000);
        let mut fast = 0;
        for case in &cases {
            let expected = OffsetDateTime::parse(case, &Rfc2822).ok();
            let ours = fixed_http_date(case.as_bytes());
            if ours.is_some() {
                fast += 1;
                assert_eq!(ours, expected, "{case}");
                assert_eq!(ours.map(|d| d.offset()), expected.map(|d| d.offset()), "{case}");
            }
            assert_eq!(parse_http_date(case), expected, "{case}");
        }
        // The fast path does answer the usual layout, leap days included.
        assert!(fast > 1_000, "{fast}");
        let leap = fixed_http_date(b"Thu, 29 Feb 2024 23:59:59 GMT").unwrap();
        assert_eq!((leap.month(), leap.day()), (Month::February, 29));
        assert!(fixed_http_date(b"Thu, 29 Feb 2023 23:59:59 GMT").is_none());
        assert!(parse_http_date("Thu, 29 Feb 2023 23:59:59 GMT").is_none());
        assert!(fixed_http_date(b"Thu, 29 Feb 1900 00:00:00 GMT").is_none());
        assert!(fixed_http_date(b"Tue, 29 Feb 2000 00:00:00 GMT").is_some());
        let east = parse_http_date("Thu, 01 Dec 2022 19:08:22 -0130").unwrap();
        assert_eq!(east.offset().whole_minutes(), -90);
        assert_eq!(parse_http_date("  Thu, 01 Dec 2022 19:08:22 GMT\t").unwrap().unix_timestamp(), 1_669_921_702);
    }

    #[test]
    fn rfc3339_dates_read_as_time_reads_them() {
        let cases = combinations(&[
            &["0000", "1899", "2000", "2023", "2024", "2100", "9999", "20x4", "202"],
            &["-01", "-02", "-12", "-00", "-13", "-1x"],
            &["-01", "-28", "-29", "-30", "-31", "-32", "-00"],
            &["T", "t", " ", "x"],
            &["00:00:00", "10:00:00", "23:59:59", "23:59:60", "24:00:00", "12:60:00", "12:00:61", "12:00"],
            &["", ".5", ".123456789", "."],
            &["Z", "z", "+00:00", "-00:00", "+01:00", "-01:30", "+23:59", "+24:00", "+0100", ""],
        ]);
        assert!(cases.len() > 100_000);
        let mut fast = 0;
        for case in &cases {
            let expected = OffsetDateTime::parse(case, &Rfc3339).ok();
            let ours = fixed_rfc3339(case.as_bytes());
            if ours.is_some() {
                fast += 1;
                assert_eq!(ours, expected, "{case}");
                assert_eq!(ours.map(|d| d.offset()), expected.map(|d| d.offset()), "{case}");
            }
            assert_eq!(parse_rfc3339(case), expected, "{case}");
        }
        assert!(fast > 200, "{fast}");
        assert!(fixed_rfc3339(b"2024-02-29T00:00:00Z").is_some());
        assert!(fixed_rfc3339(b"2023-02-29T00:00:00Z").is_none());
        assert!(parse_rfc3339("2023-02-29T00:00:00Z").is_none());
        assert_eq!(parse_rfc3339("2026-11-20T10:00:00Z").unwrap().unix_timestamp(), 1_795_168_800);
    }
}
