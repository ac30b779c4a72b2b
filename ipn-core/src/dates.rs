//! The dates notifications carry, read by `time`: the HTTP `Date` header and the RFC 3339
//! timestamps of JSON bodies.

use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// Reads an HTTP date (`Thu, 01 Dec 2022 19:08:22 GMT`, RFC 9110), surrounding whitespace
/// ignored. It is read as RFC 2822, which also takes a numeric offset (`+0100`).
///
/// ```
/// let date = ipn_core::link::parse_http_date("Thu, 01 Dec 2022 19:08:22 GMT").unwrap();
/// assert_eq!(date.unix_timestamp(), 1_669_921_702);
/// ```
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc2822).ok()
}

/// Reads an RFC 3339 timestamp (`2022-12-01T19:08:22Z`).
pub(crate) fn parse_rfc3339(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_with_zones_offsets_and_impossible_days() {
        assert_eq!(parse_http_date("  Thu, 01 Dec 2022 19:08:22 GMT\t").unwrap().unix_timestamp(), 1_669_921_702);
        assert_eq!(parse_http_date("Thu, 01 Dec 2022 19:08:22 -0130").unwrap().offset().whole_minutes(), -90);
        assert!(parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT").is_some());
        for refused in ["Thu, 29 Feb 2023 23:59:59 GMT", "Thu, 01 Foo 2022 19:08:22 GMT", "1669921702", ""] {
            assert!(parse_http_date(refused).is_none(), "{refused}");
        }
    }

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(parse_rfc3339("2022-12-01T19:08:22Z").unwrap().unix_timestamp(), 1_669_921_702);
        assert_eq!(parse_rfc3339("2022-12-01T20:08:22+01:00").unwrap().unix_timestamp(), 1_669_921_702);
        assert!(parse_rfc3339("2022-12-01 19:08:22").is_none());
    }
}
