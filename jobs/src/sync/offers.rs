//! Offers: count (for progress and ETA), then every page of `product_offer/read`.

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
};

type Page = Result<Vec<Parsed<Offer>>, EmagError>;

/// A prefetch that stops when the run stops (cancel, shutdown, error).
struct AbortOnDrop(tokio::task::JoinHandle<Page>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::future::Future for AbortOnDrop {
    type Output = Result<Page, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
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
    let count = s
        .fetch(progress, "product_offer/count", |c| {
            let f = filter.clone();
            async move { c.count_offers(&f).await }
        })
        .await?;
    let pages = count.items.div_ceil(u64::from(per_page));
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
    let mut page = start;
    // The next page is requested while this one is written, so the database and eMAG
    // work at the same time; it is written only after this page's checkpoint commits.
    let mut next: Option<AbortOnDrop> = None;
    loop {
        let prefetched = match next.take() {
            Some(handle) => handle.await.ok().and_then(Result::ok),
            None => None,
        };
        let items = match prefetched {
            Some(items) => items,
            // Not prefetched, or the prefetch failed: the normal path retries, pauses
            // or fails as the error deserves.
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
        if n == per_page as usize {
            let (client, f) = (s.client.clone(), filter.clone());
            next = Some(AbortOnDrop(tokio::spawn(async move {
                client.read_offers(&f, page + 1, per_page).await
            })));
        }
        let txn = crate::db::begin_write(s.db()).await?;
        let outcome = store::save_offers(&txn, s.name(), items, Utc::now()).await?;
        s.record(progress, &outcome);
        progress.page_done();
        progress.set_checkpoint(json!({ "page": page + 1 }));
        progress.flush_with(&txn).await?;
        txn.commit().await?;
        progress.tick().await?;
        if n < per_page as usize {
            break;
        }
        page += 1;
    }
    record_success(s.db(), s.name(), "offers", progress.run_id(), None).await?;
    Ok(())
}
