//! Everything that keeps secrets out of what we show (DESIGN.md: "nothing secret is ever
//! shown"), in one place:
//!
//! * [`Secret`]: a string whose `Debug` and `Display` print `***`;
//! * [`excerpt`]: a short, single-line, masked excerpt of a body that is not the answer we
//!   expected, for error messages;
//! * `heuristics`: how secrets are recognised in free text (named values, JWT-shaped and other
//!   long token-like runs), used by the excerpts.

mod excerpt;
mod heuristics;
mod secret;

pub use excerpt::excerpt;
pub use secret::Secret;
