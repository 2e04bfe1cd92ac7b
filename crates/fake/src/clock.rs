//! Wall-clock time as the wire writes it: seconds since the Unix epoch, and RFC 3339 UTC text
//! (`2026-12-01T07:00:00Z`, with milliseconds when asked).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in seconds since the Unix epoch (0 for a clock set before 1970).
pub(crate) fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`, or `…SS.mmmZ` with `millis`.
pub(crate) fn rfc3339(secs: i64, millis: Option<u32>) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fraction = millis.map(|ms| format!(".{ms:03}")).unwrap_or_default();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
    )
}

/// Now as `2026-12-01T00:45:57.123Z`.
pub(crate) fn rfc3339_now_millis() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_secs() as i64, Some(now.subsec_millis()))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400, None), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_108_400, None), "2026-12-01T07:00:00Z");
        assert_eq!(rfc3339(1_796_108_400, Some(7)), "2026-12-01T07:00:00.007Z");
        assert_eq!(rfc3339(-1, None), "1969-12-31T23:59:59Z");
    }
}
