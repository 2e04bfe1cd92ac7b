//! Tableau Cloud Manager (TCM): tenant administration of Tableau Cloud, with a sign-in of its
//! own. A TCM client is a [`crate::client::Client`] whose configuration says
//! [`crate::config::Service::CloudManager`]: the same cache, single-flight, refresh, re-sign-in
//! on a 401 and shared caches as a site client, and never the same cache entry (the service is
//! part of the cache key).
//!
//! The wire (`../shared/spec/beyond-signin.md` §3; the paths and field names are from
//! Tableau's own code, not its reference pages, so a wrong guess fails loudly):
//!
//! | file | what it knows |
//! |---|---|
//! | `login.rs` | `POST /api/v1/pat/login` and `/api/v1/jwt/login` (`{"token": …}`), their answer, sign-out (`DELETE /api/v2/sessions`) |
//! | `errors.rs` | TCM's JSON errors (`message`, `errorCode`) as our errors, with hints |
//! | `pages.rs` | TCM lists: the `pageNumber` and the `pageToken` styles |

mod errors;
mod login;
mod pages;

pub use errors::failure;
pub use login::{check_credentials, parse_login_answer, sign_in, sign_out, LoginAnswer};
pub use pages::Listing;
