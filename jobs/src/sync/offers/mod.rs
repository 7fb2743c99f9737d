//! Offers: count (for progress and ETA), then every page of `product_offer/read`.
//!
//! eMAG takes 3–4 s to answer a page (docs/emag.md §5.5) but allows 3 requests a second:
//! one request at a time would use a tenth of the budget. The first pages go out with the
//! count, and up to [`IN_FLIGHT`] pages are requested ahead (each still waits for its slot
//! in the shared rate limit) and written strictly in order with their checkpoint. Pages
//! that are already here when one is written go into the same transaction (up to
//! [`write::GROUP_ROWS`] offers): against eMAG's pace that is one page, but a database
//! slower than the reads then pays its per-transaction cost once for several. On
//! PostgreSQL, when the next pages are already here, their group is written on a
//! connection of its own while the ones before it commit (commits stay in page order). A crash loses
//! at most the pages not yet committed, which the next attempt requests again. A page read
//! ahead is parsed, hashed and made into rows, and a group's statement built, on threads
//! of their own (`JobContext::prepare`), while the pages before it are written: the
//! runtime's threads are left to answer the commits, which wait in page order.

use std::collections::VecDeque;

use chrono::Utc;
use entity::sync_state;
use sea_orm::EntityTrait;
use serde_json::Value;
use uuid::Uuid;

mod write;

use super::{
    Session, record_success,
    store::{self, OfferBatch},
};
use crate::{
    emag::{
        EmagClient, EmagError,
        types::{Count, OfferFilter, Parsed},
    },
    error::JobError,
    progress::{Level, Progress},
    spawned::{InOrder, Spawned},
    thread::Thread,
};
use write::{Group, Writer};

/// Pages requested ahead of the one being written.
const IN_FLIGHT: u32 = 16;

/// Pages requested while the count is in flight on an account's first read, when
/// nothing says how many it has: the budget's 3 requests/s over the count's 3–4 s. An
/// account with fewer pages costs that many requests that come back empty, once.
const BEFORE_COUNT_FIRST: u32 = 12;

/// A page read ahead, its rows made in the task that read it (while an earlier page is
/// being written).
type Page = Result<OfferBatch, EmagError>;

/// Pages to request while the count is in flight: after a first read, those the offers
/// it stored fill from `start` on, and the one past them (eMAG's answer takes seconds, and
/// the budget would otherwise idle until the count comes back).
async fn before_count(s: &Session<'_>, start: u32) -> Result<u32, JobError> {
    let key = (s.name().to_owned(), "offers".to_owned());
    if sync_state::Entity::find_by_id(key)
        .one(&s.ctx.db)
        .await?
        .is_none()
    {
        return Ok(BEFORE_COUNT_FIRST);
    }
    let stored = store::live_offers(&s.ctx.db, s.name(), s.params.offer_status).await?;
    let pages = u32::try_from(stored.div_ceil(u64::from(s.params.per_page))).unwrap_or(u32::MAX);
    Ok(pages
        .saturating_add(2)
        .saturating_sub(start)
        .clamp(1, IN_FLIGHT))
}

/// Counts the offers and sets the run's totals; the pages the read needs: the counted
/// ones, and the one past them when the last is full (offers added since the count
/// would be there), so it too is requested ahead.
async fn count_pages(
    s: &mut Session<'_>,
    progress: &mut Progress,
    filter: &OfferFilter,
    start: u32,
    answered: Option<Count>,
) -> Result<u32, JobError> {
    let count = match answered {
        Some(count) => {
            s.answered().await?;
            count
        }
        None => {
            s.fetch(progress, "product_offer/count", |c| {
                let f = filter.clone();
                async move { c.count_offers(&f).await }
            })
            .await?
        }
    };
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
    let past = u64::from(count.items.is_multiple_of(u64::from(s.params.per_page)));
    Ok(u32::try_from(pages + past).unwrap_or(u32::MAX))
}

/// Requests made ahead of need, each tried once (if it fails, the page is read in order
/// through `Session::fetch`, which retries, pauses or fails as the error deserves), and
/// asking for their rate-limit slots in the order made.
struct Ahead {
    reader: EmagClient,
    filter: OfferFilter,
    per_page: u32,
    queue: InOrder,
    /// Whose offers, read by which run: what a page's rows say.
    account: String,
    run: Uuid,
    /// Where a page read ahead is parsed and made into rows: off the runtime's threads,
    /// which are then free to answer the ordered commits. With pages prepared beside it,
    /// the loop that commits groups waited about 3 ms a group for its progress flush, a
    /// statement of 0.1 ms.
    prepare: Thread,
}

impl Ahead {
    /// The count, made first so it takes the first slot: its answer is then back before
    /// the pages sent with it run out.
    fn count(&mut self) -> Spawned<Result<Count, EmagError>> {
        let (client, f) = (self.reader.clone(), self.filter.clone());
        self.queue
            .spawn(async move { client.count_offers(&f).await })
    }

    fn page(&mut self, page: u32) -> Spawned<Page> {
        let (client, f, per_page) = (self.reader.clone(), self.filter.clone(), self.per_page);
        let (account, run, prepare) = (self.account.clone(), self.run, self.prepare.clone());
        self.queue.spawn(async move {
            let texts = client.read_offer_texts(&f, page, per_page).await?;
            let items = prepare.spawn(async move {
                let items = texts.into_iter().map(Parsed::from_raw).collect();
                store::prepare_offers(&account, run, items, Utc::now())
            });
            // Only when the thread is gone (the worker stopping): the page is read
            // again in order.
            items
                .await
                .map_err(|e| EmagError::Transport(format!("preparing the page stopped: {e}")))
        })
    }
}

/// Pages requested ahead, in page order.
type InFlight = VecDeque<(u32, Spawned<Page>)>;

/// Sends the count and, with it, the first pages; returns the pages in flight (from
/// `start` on) and the pages the read needs.
async fn count_with_pages(
    s: &mut Session<'_>,
    progress: &mut Progress,
    ahead: &mut Ahead,
    start: u32,
) -> Result<(InFlight, u32), JobError> {
    s.unless_degraded().await?;
    let first = before_count(s, start).await?;
    let count = ahead.count();
    let mut pages: InFlight = (start..start + first).map(|p| (p, ahead.page(p))).collect();
    let counted = match count.await {
        Ok(Ok(count)) => Some(count),
        failed => {
            // The pages sent with it would most likely fail too (an outage, a refusal):
            // stopped, so they use no more of the budget, and asked again once the
            // count answers.
            pages.clear();
            if let Ok(Err(e)) = failed
                && e.is_retryable()
            {
                s.tried_ahead();
                progress.log(
                    Level::Warn,
                    format!("product_offer/count failed ({e}); trying again"),
                );
            }
            None
        }
    };
    let needed = count_pages(s, progress, &ahead.filter, start, counted).await?;
    Ok((pages, needed))
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
    let mut ahead = Ahead {
        reader: s.client.single_try(),
        filter: filter.clone(),
        per_page,
        queue: InOrder::default(),
        account: s.name().to_owned(),
        run: progress.run_id(),
        prepare: s.ctx.prepare.clone(),
    };
    // The first pages go out with the count, so eMAG's answer time is paid once; then
    // the pages the count says are there are requested ahead. Past them (offers added
    // since the count) the loop goes on one page at a time until a short or empty page.
    let (mut pages, needed) = count_with_pages(s, progress, &mut ahead, start).await?;
    // At most IN_FLIGHT pages, from `start` on.
    let mut requested = start - 1 + pages.len() as u32;
    let mut page = start;
    // Whether any attempt of this run wrote a page (a resumed one did, before it).
    let mut wrote = start > 1;
    let mut writer = Writer::new(s);
    loop {
        while pages.len() < IN_FLIGHT as usize && requested < needed {
            requested += 1;
            pages.push_back((requested, ahead.page(requested)));
        }
        let ready = matches!(pages.front(), Some((p, h)) if *p == page && h.is_finished());
        if !ready {
            writer.settle(s, progress).await?;
        }
        let prefetched = match pages.pop_front() {
            Some((p, handle)) if p == page => handle.await.ok().and_then(Result::ok),
            _ => None,
        };
        let batch = match prefetched {
            Some(batch) => batch,
            // Not requested ahead, or that request failed: the normal path retries,
            // pauses or fails as the error deserves.
            None => {
                // Read in order, this may wait (retries, a pause) and open the breaker,
                // which writes the account's row: nothing of this run stays open
                // meanwhile, or that write would wait for the run's own transactions.
                writer.settle(s, progress).await?;
                let items = s
                    .fetch(progress, &format!("product_offer/read page {page}"), |c| {
                        let f = filter.clone();
                        async move { c.read_offers(&f, page, per_page).await }
                    })
                    .await?;
                store::prepare_offers(s.name(), progress.run_id(), items, Utc::now())
            }
        };
        if batch.read() == 0 {
            break;
        }
        let mut group = Group::of(page, batch, per_page);
        group.join_ready(&mut pages, per_page).await;
        wrote = true;
        let (last, ended) = (group.last, group.ended);
        writer.write(s, progress, page, group).await?;
        if ended {
            break;
        }
        page = last + 1;
    }
    writer.settle(s, progress).await?;
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
        let (unseen, stock) = crate::analytics::seen_stock(&txn, s.name(), run).await?;
        s.stock = Some(stock);
        let removed = if unseen > 0 {
            store::mark_removed(&txn, s.name(), run, Utc::now()).await?
        } else {
            0
        };
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
