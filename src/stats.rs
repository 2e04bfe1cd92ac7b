//! `tca.stats()`, `tca.reset_stats()` and the switch of telemetry events: the core's
//! process-wide counters (`tca_core::stats`) as plain Python dicts.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use tca_core::config::Service;
use tca_core::stats as counters;

fn hits_and_misses(py: Python<'_>, hits: u64, misses: u64) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("hits", hits)?;
    d.set_item("misses", misses)?;
    Ok(d)
}

/// The counters of this process since it started (or since `reset_stats()`): sign-ins by
/// service, method and outcome; refreshes ahead of expiry; re-sign-ins after a dead session;
/// memory, disk and Redis hits and misses; the time callers waited on sign-ins; 429s and the
/// time waited for them. Cheap: read it as often as you like.
#[pyfunction]
pub fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let s = counters::snapshot();
    let sign_ins = PyDict::new(py);
    for (service, method, outcome, n) in &s.sign_ins {
        let service = match service {
            Service::Site => "site",
            Service::CloudManager => "cloud_manager",
        };
        let by_method = match sign_ins.get_item(service)? {
            Some(d) => d.cast_into::<PyDict>()?,
            None => {
                let d = PyDict::new(py);
                sign_ins.set_item(service, &d)?;
                d
            }
        };
        let outcomes = match by_method.get_item(method.name())? {
            Some(d) => d.cast_into::<PyDict>()?,
            None => {
                let d = PyDict::new(py);
                by_method.set_item(method.name(), &d)?;
                d
            }
        };
        outcomes.set_item(outcome.name(), n)?;
    }
    let d = PyDict::new(py);
    d.set_item("sign_ins", sign_ins)?;
    d.set_item("refreshes_ahead_of_expiry", s.refreshes_ahead_of_expiry)?;
    d.set_item(
        "re_sign_ins_after_dead_session",
        s.re_sign_ins_after_dead_session,
    )?;
    d.set_item(
        "memory",
        hits_and_misses(py, s.memory_hits, s.memory_misses)?,
    )?;
    for (store, hits, misses) in &s.shared {
        d.set_item(store.name(), hits_and_misses(py, *hits, *misses)?)?;
    }
    d.set_item("sign_in_waits", s.sign_in_waits)?;
    d.set_item("sign_in_wait_seconds", s.sign_in_wait.as_secs_f64())?;
    d.set_item("rate_limited", s.rate_limited)?;
    d.set_item("rate_limit_waits", s.rate_limit_waits)?;
    d.set_item("rate_limit_wait_seconds", s.rate_limit_wait.as_secs_f64())?;
    Ok(d)
}

/// Every counter of `stats()` back to zero.
#[pyfunction]
pub fn reset_stats() {
    counters::reset();
}

/// Turn the telemetry events on or off (`tableau_connected_auth.telemetry` turns them on).
#[pyfunction]
pub fn set_telemetry(on: bool) {
    counters::set_telemetry(on);
}
