//! Offers: count (for progress and ETA), then every page of `product_offer/read`.
//!
//! eMAG takes 3–4 s to answer a page (docs/emag.md §5.5) but allows 3 requests a second:
//! one request at a time would use a tenth of the budget. The first pages go out with the
//! count, and up to [`IN_FLIGHT`] pages are requested ahead (each still waits for its slot
//! in the shared rate limit) and written strictly in order, each with its checkpoint, so a
//! crash still loses at most the pages not yet written, which the next attempt requests
//! again.

use std::collections::VecDeque;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Session, record_success, store};
use crate::{
    emag::{
        EmagError,
        types::{Offer, OfferFilter, Parsed},
    },
    error::JobError,
    progress::{Level, Progress},
    spawned::Spawned,
};

/// Pages requested ahead of the one being written.
const IN_FLIGHT: u32 = 16;

/// Pages requested while the count is in flight, before the number of pages is known:
/// an account with fewer pages costs at most this many requests that come back empty.
const BEFORE_COUNT: u32 = 4;

type Page = Result<Vec<Parsed<Offer>>, EmagError>;

/// Counts the offers and sets the run's totals; the number of pages.
async fn count_pages(
    s: &mut Session<'_>,
    progress: &mut Progress,
    filter: &OfferFilter,
    start: u32,
) -> Result<u32, JobError> {
    let count = s
        .fetch(progress, "product_offer/count", |c| {
            let f = filter.clone();
            async move { c.count_offers(&f).await }
        })
        .await?;
    let pages = count.items.div_ceil(u64::from(s.params.per_page));
    progress.set_total(count.items);
    progress.set_pages_total(u32::try_from(pages).unwrap_or(u32::MAX));
    if start > 1 {
        progress.log(
            Level::Info,
            format!("resuming offers at page {start} of {pages}"),
        );
    } else {
        progress.log(
            Level::Info,
            format!("{} offers on eMAG in {pages} pages", count.items),
        );
    }
    Ok(u32::try_from(pages).unwrap_or(u32::MAX))
}

pub(super) async fn run(s: &mut Session<'_>, progress: &mut Progress) -> Result<(), JobError> {
    let filter = OfferFilter {
        status: s.params.offer_status,
        ..OfferFilter::default()
    };
    let per_page = s.params.per_page;
    let start = progress
        .checkpoint()
        .and_then(|c| c.get("page"))
        .and_then(Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(1)
        .max(1);
    // A page read ahead is tried once: if it fails, the page is read in order through
    // `Session::fetch`, which retries, pauses or fails as the error deserves.
    let reader = s.client.single_try();
    let request = |p: u32| {
        let (client, f) = (reader.clone(), filter.clone());
        Spawned::new(async move { client.read_offers(&f, p, per_page).await })
    };
    // The first pages go out with the count, so eMAG's answer time is paid once; then
    // the counted pages are requested ahead. Past them (offers added since the count) the
    // loop goes on one page at a time until a short or empty page.
    let mut ahead: VecDeque<(u32, Spawned<Page>)> = (start..start + BEFORE_COUNT)
        .map(|p| (p, request(p)))
        .collect();
    let mut requested = start + BEFORE_COUNT - 1;
    let counted = count_pages(s, progress, &filter, start).await?;
    let mut page = start;
    // Whether any attempt of this run wrote a page (a resumed one did, before it).
    let mut wrote = start > 1;
    loop {
        while ahead.len() < IN_FLIGHT as usize && requested < counted {
            requested += 1;
            ahead.push_back((requested, request(requested)));
        }
        let prefetched = match ahead.pop_front() {
            Some((p, handle)) if p == page => handle.await.ok().and_then(Result::ok),
            _ => None,
        };
        let items = match prefetched {
            Some(items) => items,
            // Not requested ahead, or that request failed: the normal path retries,
            // pauses or fails as the error deserves.
            None => {
                s.fetch(progress, &format!("product_offer/read page {page}"), |c| {
                    let f = filter.clone();
                    async move { c.read_offers(&f, page, per_page).await }
                })
                .await?
            }
        };
        if items.is_empty() {
            break;
        }
        let n = items.len();
        wrote = true;
        let txn = s.begin_page().await?;
        let run = progress.run_id();
        let outcome = store::save_offers(&txn, s.name(), run, items, Utc::now()).await?;
        s.record(progress, &outcome);
        progress.page_done();
        progress.set_checkpoint(json!({ "page": page + 1 }));
        progress.flush_with(&txn).await?;
        txn.commit().await?;
        progress.track_emag(s.client.stats());
        progress.tick().await?;
        if n < per_page as usize {
            break;
        }
        page += 1;
    }
    finish(s, progress, s.params.offer_status.is_none() && wrote).await
}

/// Records the sync's success; when `whole` (every page read, under the same run id by
/// this attempt or the ones before it), what the run did not see is gone from eMAG. Not
/// when the read was narrowed to one status, and not when eMAG listed nothing at all (an
/// empty first page is more likely a glitch than a seller who deleted every offer).
async fn finish(s: &mut Session<'_>, progress: &mut Progress, whole: bool) -> Result<(), JobError> {
    // In a page's transaction: a deleted account gets no bookmark back.
    let txn = s.begin_page().await?;
    if whole {
        let run = progress.run_id();
        let removed = store::mark_removed(&txn, s.name(), run, Utc::now()).await?;
        if removed > 0 {
            progress.log(
                Level::Info,
                format!("{removed} offers no longer on eMAG: marked removed"),
            );
        }
    }
    record_success(&txn, s.name(), "offers", progress.run_id(), None).await?;
    progress.flush_with(&txn).await?;
    txn.commit().await?;
    Ok(())
}
