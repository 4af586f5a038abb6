//! Test peers for the connectors, real servers on the loopback (feature `testing`):
//!
//! - [`HttpPeer`]: an HTTP/1.1 server (plain, or TLS with a [`TestCa`] certificate)
//!   that records every request and *acts* once per `Idempotency-Key`, the way
//!   Stripe-style APIs do: a request with a key it has acted on gets the first answer
//!   back, marked replayed. It can be told to be slow, to fail the next requests with
//!   503 or 429, or to hang; [`HttpPeer::acted`] tells how often each key was acted on,
//!   so a test asserts "each key exactly once".
//! - [`SmtpPeer`]: Python's `aiosmtpd` delivering into a maildir the test reads.
//!
//! The peers live in the test process, so they outlive a responder process a test
//! kills and restarts.
// Test support: a peer that cannot start must fail the test at once, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http;
mod smtp;
mod tls;

pub use http::{HttpPeer, RecordedRequest};
pub use smtp::{MailMessage, SmtpPeer};
pub use tls::TestCa;
