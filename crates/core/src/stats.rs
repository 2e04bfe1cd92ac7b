//! The numbers an operator watches, process-wide and always on: sign-ins by service, method
//! and outcome, refreshes ahead of expiry, re-sign-ins after a dead session, cache hits and
//! misses (memory, disk, Redis), the time callers waited on a sign-in, and 429s with the time
//! waited for them. Also the optional telemetry events (one per sign-in and per call), which
//! travel to Python as DEBUG records of the `tableau_connected_auth.telemetry` logger.
//!
//! Cost: the cache-hit path adds to a count of the calling thread's own (see [`PerThread`]);
//! everything else is counted on paths that do I/O. Counters start at zero in each process; a forked child starts
//! from its parent's numbers.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime};

use super::config::Service;
use super::credentials::Credentials;
use super::error::{Error, Result};

/// How a client signs in, as the counters name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    ConnectedApp,
    ExternalAuthorizationServer,
    UnifiedAccessToken,
    Jwt,
    PersonalAccessToken,
    Password,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::ConnectedApp,
        Method::ExternalAuthorizationServer,
        Method::UnifiedAccessToken,
        Method::Jwt,
        Method::PersonalAccessToken,
        Method::Password,
    ];

    pub fn of(creds: &Credentials) -> Method {
        match creds {
            Credentials::ConnectedApp { .. } => Method::ConnectedApp,
            Credentials::ExternalAuthorizationServer { .. } => Method::ExternalAuthorizationServer,
            Credentials::UnifiedAccessToken { .. } => Method::UnifiedAccessToken,
            Credentials::Jwt(_) => Method::Jwt,
            Credentials::PersonalAccessToken { .. } => Method::PersonalAccessToken,
            Credentials::Password { .. } => Method::Password,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::ConnectedApp => "connected_app",
            Method::ExternalAuthorizationServer => "external_authorization_server",
            Method::UnifiedAccessToken => "unified_access_token",
            Method::Jwt => "jwt",
            Method::PersonalAccessToken => "personal_access_token",
            Method::Password => "password",
        }
    }
}

/// How a sign-in ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A session.
    Ok,
    /// Tableau refused it (a `SignInError`).
    Refused,
    /// Anything else: network, timeout, rate limit, an answer that is not Tableau's.
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Refused, Outcome::Failed];

    pub fn of<T>(result: &Result<T>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(Error::SignIn(_)) => Outcome::Refused,
            Err(_) => Outcome::Failed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// A cache shared with other processes, as the counters name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Disk,
    Redis,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Disk => "disk",
            Store::Redis => "redis",
        }
    }
}

/// Why a sign-in of a cached entry started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The entry had no session yet (or its last one was signed out).
    First,
    /// The session reached its refresh point, ahead of its expiry.
    Refresh,
    /// The session was dropped as dead (a 401, or `invalidate()`).
    Dead,
}

/// Counts of the hot path (memory hits), one slot per thread: a thread adds to its own slot
/// with a plain load and store (no locked instruction, no shared cache line), and a reader sums
/// the slots. Written by hand because it pays: `benchmarks/compare.py`'s cached `session()`
/// went from 58 to 67 ns with a shared atomic counter, and a thread-local one is within noise.
/// A thread's slot is freed when it ends (its count moves to `retired`); threads beyond
/// [`SLOTS`] at once share one atomic counter.
struct PerThread {
    slots: [Slot; SLOTS],
    retired: AtomicU64,
    shared: AtomicU64,
    /// The sum at the last reset.
    base: AtomicU64,
}

const SLOTS: usize = 256;
const UNCLAIMED: usize = usize::MAX;
const NO_SLOT: usize = usize::MAX - 1;

#[repr(align(128))]
struct Slot {
    count: AtomicU64,
    taken: AtomicBool,
}

thread_local! {
    static MY_SLOT: Cell<usize> = const { Cell::new(UNCLAIMED) };
    static RELEASE: SlotRelease = const { SlotRelease };
}

/// Frees this thread's slot when the thread ends.
struct SlotRelease;

impl Drop for SlotRelease {
    fn drop(&mut self) {
        let Ok(i) = MY_SLOT.try_with(|m| m.replace(NO_SLOT)) else {
            return;
        };
        if let Some(slot) = COUNTERS.memory_hits.slots.get(i) {
            let n = slot.count.swap(0, Relaxed);
            COUNTERS.memory_hits.retired.fetch_add(n, Relaxed);
            slot.taken.store(false, Relaxed);
        }
    }
}

impl PerThread {
    const fn new() -> PerThread {
        PerThread {
            slots: [const {
                Slot {
                    count: AtomicU64::new(0),
                    taken: AtomicBool::new(false),
                }
            }; SLOTS],
            retired: AtomicU64::new(0),
            shared: AtomicU64::new(0),
            base: AtomicU64::new(0),
        }
    }

    #[inline]
    fn add_one(&self) {
        let mine = MY_SLOT.try_with(Cell::get).unwrap_or(NO_SLOT);
        match self.slots.get(mine) {
            // Only this thread writes its slot: a plain load and store is exact.
            Some(slot) => slot.count.store(slot.count.load(Relaxed) + 1, Relaxed),
            None => self.add_one_slowly(mine),
        }
    }

    #[cold]
    fn add_one_slowly(&self, mine: usize) {
        if mine == UNCLAIMED {
            let claimed = self.slots.iter().position(|s| {
                s.taken
                    .compare_exchange(false, true, Relaxed, Relaxed)
                    .is_ok()
            });
            if let Some(i) = claimed {
                // The slot is freed by RELEASE's destructor when the thread ends; a thread
                // whose thread-locals are already gone keeps no slot.
                if RELEASE.try_with(|_| ()).is_ok() && MY_SLOT.try_with(|m| m.set(i)).is_ok() {
                    let slot = &self.slots[i];
                    slot.count.store(slot.count.load(Relaxed) + 1, Relaxed);
                    return;
                }
                self.slots[i].taken.store(false, Relaxed);
            }
            let _ = MY_SLOT.try_with(|m| m.set(NO_SLOT));
        }
        self.shared.fetch_add(1, Relaxed);
    }

    fn total(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.count.load(Relaxed))
            .sum::<u64>()
            + self.retired.load(Relaxed)
            + self.shared.load(Relaxed)
    }

    fn sum(&self) -> u64 {
        self.total().saturating_sub(self.base.load(Relaxed))
    }

    fn reset(&self) {
        self.base.store(self.total(), Relaxed);
    }
}

const METHODS: usize = Method::ALL.len();
const OUTCOMES: usize = Outcome::ALL.len();

struct Counters {
    /// [service][method][outcome].
    sign_ins: [[[AtomicU64; OUTCOMES]; METHODS]; 2],
    refreshes_ahead_of_expiry: AtomicU64,
    re_sign_ins_after_dead_session: AtomicU64,
    memory_hits: PerThread,
    memory_misses: AtomicU64,
    /// [store][hit, miss].
    shared: [[AtomicU64; 2]; 2],
    sign_in_waits: AtomicU64,
    sign_in_wait_ns: AtomicU64,
    rate_limited: AtomicU64,
    rate_limit_waits: AtomicU64,
    rate_limit_wait_ns: AtomicU64,
}

static COUNTERS: Counters = Counters {
    sign_ins: [const { [const { [const { AtomicU64::new(0) }; OUTCOMES] }; METHODS] }; 2],
    refreshes_ahead_of_expiry: AtomicU64::new(0),
    re_sign_ins_after_dead_session: AtomicU64::new(0),
    memory_hits: PerThread::new(),
    memory_misses: AtomicU64::new(0),
    shared: [const { [const { AtomicU64::new(0) }; 2] }; 2],
    sign_in_waits: AtomicU64::new(0),
    sign_in_wait_ns: AtomicU64::new(0),
    rate_limited: AtomicU64::new(0),
    rate_limit_waits: AtomicU64::new(0),
    rate_limit_wait_ns: AtomicU64::new(0),
};

fn service_index(service: Service) -> usize {
    match service {
        Service::Site => 0,
        Service::CloudManager => 1,
    }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

/// A sign-in ended (`signin::sign_in`, the one function every sign-in goes through).
pub fn sign_in_ended(service: Service, method: Method, outcome: Outcome) {
    let (s, m, o) = (
        service_index(service),
        Method::ALL.iter().position(|x| *x == method).unwrap_or(0),
        Outcome::ALL.iter().position(|x| *x == outcome).unwrap_or(0),
    );
    COUNTERS.sign_ins[s][m][o].fetch_add(1, Relaxed);
}

/// A cached entry started a sign-in, for `why`.
pub fn sign_in_started(why: Why) {
    match why {
        Why::First => {}
        Why::Refresh => {
            COUNTERS.refreshes_ahead_of_expiry.fetch_add(1, Relaxed);
        }
        Why::Dead => {
            COUNTERS
                .re_sign_ins_after_dead_session
                .fetch_add(1, Relaxed);
        }
    }
}

/// The in-memory cache had a fresh session (the hot path).
#[inline]
pub fn memory_hit() {
    COUNTERS.memory_hits.add_one();
}

/// The in-memory cache had none: the caller looks further, or waits on a sign-in.
pub fn memory_miss() {
    COUNTERS.memory_misses.fetch_add(1, Relaxed);
}

/// A shared cache gave a session (`true`) or did not, so this process signed in.
pub fn shared_lookup(store: Store, hit: bool) {
    let s = match store {
        Store::Disk => 0,
        Store::Redis => 1,
    };
    COUNTERS.shared[s][usize::from(!hit)].fetch_add(1, Relaxed);
}

/// A caller waited `waited` for a sign-in (its own, or one in flight).
pub fn waited_for_sign_in(waited: Duration) {
    COUNTERS.sign_in_waits.fetch_add(1, Relaxed);
    COUNTERS.sign_in_wait_ns.fetch_add(nanos(waited), Relaxed);
}

/// Tableau answered 429 (any call).
pub fn rate_limited() {
    COUNTERS.rate_limited.fetch_add(1, Relaxed);
}

/// A 429 was waited out for `waited` before trying again.
pub fn waited_for_rate_limit(waited: Duration) {
    COUNTERS.rate_limit_waits.fetch_add(1, Relaxed);
    COUNTERS
        .rate_limit_wait_ns
        .fetch_add(nanos(waited), Relaxed);
}

/// The counters at one moment (each read on its own: a snapshot taken while others count is
/// not one instant, but every number in it is exact).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// (service, method, outcome, count), every combination, zeros included.
    pub sign_ins: Vec<(Service, Method, Outcome, u64)>,
    pub refreshes_ahead_of_expiry: u64,
    pub re_sign_ins_after_dead_session: u64,
    pub memory_hits: u64,
    pub memory_misses: u64,
    /// (store, hits, misses).
    pub shared: Vec<(Store, u64, u64)>,
    pub sign_in_waits: u64,
    pub sign_in_wait: Duration,
    pub rate_limited: u64,
    pub rate_limit_waits: u64,
    pub rate_limit_wait: Duration,
}

pub fn snapshot() -> Snapshot {
    let c = &COUNTERS;
    let mut sign_ins = Vec::with_capacity(2 * METHODS * OUTCOMES);
    for service in [Service::Site, Service::CloudManager] {
        for (m, method) in Method::ALL.iter().enumerate() {
            for (o, outcome) in Outcome::ALL.iter().enumerate() {
                let n = c.sign_ins[service_index(service)][m][o].load(Relaxed);
                sign_ins.push((service, *method, *outcome, n));
            }
        }
    }
    Snapshot {
        sign_ins,
        refreshes_ahead_of_expiry: c.refreshes_ahead_of_expiry.load(Relaxed),
        re_sign_ins_after_dead_session: c.re_sign_ins_after_dead_session.load(Relaxed),
        memory_hits: c.memory_hits.sum(),
        memory_misses: c.memory_misses.load(Relaxed),
        shared: [Store::Disk, Store::Redis]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    *s,
                    c.shared[i][0].load(Relaxed),
                    c.shared[i][1].load(Relaxed),
                )
            })
            .collect(),
        sign_in_waits: c.sign_in_waits.load(Relaxed),
        sign_in_wait: Duration::from_nanos(c.sign_in_wait_ns.load(Relaxed)),
        rate_limited: c.rate_limited.load(Relaxed),
        rate_limit_waits: c.rate_limit_waits.load(Relaxed),
        rate_limit_wait: Duration::from_nanos(c.rate_limit_wait_ns.load(Relaxed)),
    }
}

/// Every counter back to zero (for tests and for a process that reports and restarts).
pub fn reset() {
    let c = &COUNTERS;
    c.sign_ins
        .iter()
        .flatten()
        .flatten()
        .for_each(|a| a.store(0, Relaxed));
    c.shared.iter().flatten().for_each(|a| a.store(0, Relaxed));
    c.memory_hits.reset();
    for a in [
        &c.refreshes_ahead_of_expiry,
        &c.re_sign_ins_after_dead_session,
        &c.memory_misses,
        &c.sign_in_waits,
        &c.sign_in_wait_ns,
        &c.rate_limited,
        &c.rate_limit_waits,
        &c.rate_limit_wait_ns,
    ] {
        a.store(0, Relaxed);
    }
}

// --- telemetry events ---------------------------------------------------------------------------

/// The `log` target of telemetry events (the Python logger `tableau_connected_auth.telemetry`).
pub const TELEMETRY_TARGET: &str = "tableau_connected_auth::telemetry";

static TELEMETRY: AtomicBool = AtomicBool::new(false);

/// Turn telemetry events on or off (off by default: nothing is made for them then).
pub fn set_telemetry(on: bool) {
    TELEMETRY.store(on, Relaxed);
}

pub fn telemetry_on() -> bool {
    TELEMETRY.load(Relaxed)
}

fn epoch_ns(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(nanos)
        .unwrap_or(0)
}

/// OpenTelemetry's `server.address` (the host alone) and `server.port` (the scheme's default
/// when the address gives none) of a server address such as `https://10ay.online.tableau.com`.
pub fn server_attributes(server: &str) -> (String, Option<u16>) {
    match url::Url::parse(server) {
        Ok(u) => (
            u.host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_string(),
            u.port_or_known_default(),
        ),
        Err(_) => (server.to_string(), None),
    }
}

/// One finished piece of work, for a span: its name, start and end, and attributes (never a
/// secret: no token, JWT, credential secret or query string), made only while telemetry is on.
pub fn event(
    name: &str,
    started: SystemTime,
    ended: SystemTime,
    error: Option<&Error>,
    attributes: impl FnOnce() -> serde_json::Value,
) {
    if !telemetry_on() {
        return;
    }
    let attributes = attributes();
    let record = serde_json::json!({
        "name": name,
        "start_ns": epoch_ns(started),
        "end_ns": epoch_ns(ended),
        "error": error.map(Error::kind),
        "attributes": attributes,
    });
    log::debug!(target: TELEMETRY_TARGET, "{record}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_attributes_split_host_and_port() {
        let of = |s: &str| server_attributes(s);
        assert_eq!(
            of("https://10ay.online.tableau.com"),
            ("10ay.online.tableau.com".into(), Some(443))
        );
        assert_eq!(
            of("http://127.0.0.1:8080"),
            ("127.0.0.1".into(), Some(8080))
        );
        assert_eq!(of("https://[::1]:8443"), ("::1".into(), Some(8443)));
    }

    #[test]
    fn per_thread_counts_add_up_and_their_slots_are_freed() {
        let hits = &COUNTERS.memory_hits;
        let taken = || hits.slots.iter().filter(|s| s.taken.load(Relaxed)).count();
        let (before, taken_before) = (hits.total(), taken());
        // More threads than slots over the rounds: each round's threads free their slots.
        for _ in 0..3 {
            std::thread::scope(|s| {
                for _ in 0..100 {
                    s.spawn(|| (0..100).for_each(|_| memory_hit()));
                }
            });
        }
        // At least: other tests of this binary may count hits at the same time; a lost count
        // would show as fewer.
        assert!(hits.total() - before >= 30_000);
        assert!(
            taken() <= taken_before + 1,
            "{} slots kept",
            taken() - taken_before
        );
    }

    #[test]
    fn outcomes_follow_the_error() {
        assert_eq!(Outcome::of(&Ok::<(), Error>(())), Outcome::Ok);
        let refused = Error::SignIn(Box::default());
        assert_eq!(Outcome::of::<()>(&Err(refused)), Outcome::Refused);
        assert_eq!(
            Outcome::of::<()>(&Err(Error::Timeout("t".into()))),
            Outcome::Failed
        );
    }
}
