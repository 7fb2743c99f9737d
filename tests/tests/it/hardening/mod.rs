//! Issue 13: what a hostile client or an unlucky crash could do, each shut out by a test.

mod bodies;
mod credentials;
mod deleted_account;
mod document;
mod exports;
mod keys;
mod mail;
mod metrics;
mod outbound;
mod parents;
mod recovery;
mod runs;
mod schedules;
mod streams;
mod takeover;
