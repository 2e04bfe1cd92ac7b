//! Everything that keeps secrets out of what we show (DESIGN.md: "nothing secret is ever
//! shown"), in one place:
//!
//! * [`Secret`]: a string whose `Debug` and `Display` print `***`;
//! * [`mask_url`]: a URL for messages, `repr`s and logs (proxies, Redis), its password and
//!   secret-looking query parameters masked;
//! * [`excerpt()`]: a short, single-line, masked excerpt of a body that is not the answer we
//!   expected, for error messages;
//! * `heuristics`: how secrets are recognised in free text (named values, JWT-shaped and other
//!   long token-like runs), shared by the two above.

mod excerpt;
mod heuristics;
mod secret;
mod urls;

pub use excerpt::excerpt;
pub use secret::Secret;
pub use urls::mask_url;
