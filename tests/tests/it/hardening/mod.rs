//! Issue 13: what a hostile client or an unlucky crash could do, each shut out by a test.

mod bodies;
mod credentials;
mod exports;
mod keys;
mod metrics;
mod outbound;
mod parents;
mod runs;
mod streams;
