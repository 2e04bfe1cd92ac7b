//! When and how long to wait before trying a call again: connection errors, 502/503/504 and
//! 429 are transient; a 429 says how long (`Retry-After`, or "retry after N minutes" in the
//! detail) and is raised as `RateLimited` when that is longer than the client will wait.
//! Credential failures are never retried.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;

use super::config::ClientConfig;
use super::error::{Error, Result};
use super::transport::Reply;
use super::wire;

const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How long to wait before another try, or None when `outcome` is final.
pub fn wait_before_retry(
    cfg: &ClientConfig,
    outcome: &Result<Reply>,
    attempt: u32,
) -> Option<Duration> {
    match outcome {
        Err(Error::Transport(_)) => Some(backoff(attempt)),
        Ok(reply) if matches!(reply.status, 502..=504) => Some(backoff(attempt)),
        Ok(reply) if reply.status == 429 => match retry_after(reply) {
            Some(w) if w > cfg.rate_limit_max_wait => None,
            Some(w) => Some(w),
            None => Some(backoff(attempt)),
        },
        _ => None,
    }
}

/// If `outcome` is transient and tries are left: wait, count the attempt, and say so.
pub async fn again(
    cfg: &ClientConfig,
    outcome: &Result<Reply>,
    attempt: &mut u32,
    what: &str,
) -> bool {
    let Some(wait) = wait_before_retry(cfg, outcome, *attempt) else {
        return false;
    };
    if *attempt >= cfg.retries {
        return false;
    }
    *attempt += 1;
    if matches!(outcome, Ok(reply) if reply.status == 429) {
        super::stats::waited_for_rate_limit(wait);
    }
    log::info!(
        "{what} on {} failed transiently (attempt {attempt}); retrying in {} ms",
        cfg.server,
        wait.as_millis()
    );
    tokio::time::sleep(wait).await;
    true
}

/// Exponential backoff with full jitter.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_CAP);
    let mut byte = [0u8; 2];
    let _ = aws_lc_rs::rand::fill(&mut byte);
    let fraction = f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX);
    ceiling.mul_f64(fraction)
}

/// How long a 429 asks us to wait: `Retry-After` seconds, or "retry after N minutes" in the detail.
pub fn retry_after(reply: &Reply) -> Option<Duration> {
    if let Some(secs) = reply
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    let detail = wire::parse_error(&reply.body)?.detail.to_ascii_lowercase();
    let rest = &detail[detail.find("retry after")? + "retry after".len()..];
    let mut words = rest.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    let unit = words.next().unwrap_or("seconds");
    Some(if unit.starts_with("minute") {
        Duration::from_secs(n.saturating_mul(60))
    } else {
        Duration::from_secs(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::test(status, body)
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 0..20 {
            assert!(backoff(attempt) <= BACKOFF_CAP);
        }
        assert!(backoff(0) <= BACKOFF_BASE);
    }

    #[test]
    fn retry_after_reads_the_header_then_the_detail() {
        let mut r = reply(429, "<tsResponse><error code=\"429000\"><summary>Too many</summary><detail>Please retry after 2 minutes</detail></error></tsResponse>");
        assert_eq!(retry_after(&r), Some(Duration::from_secs(120)));
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&r), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&reply(429, "<html>busy</html>")), None);
        // A huge number of minutes saturates instead of overflowing.
        let huge = reply(429, "<tsResponse><error code=\"429000\"><summary>x</summary><detail>retry after 18446744073709551615 minutes</detail></error></tsResponse>");
        assert_eq!(retry_after(&huge), Some(Duration::from_secs(u64::MAX)));
    }
}
