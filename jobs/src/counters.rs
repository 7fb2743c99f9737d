//! A run's counters, one type for every place that reads or writes them: the row
//! (`job_runs`), a handler's [`Progress`](crate::progress::Progress), a parent's sums and
//! the API's views. A new counter is a field here, its column, and its line in each of
//! the four functions below.

use entity::job_run;
use sea_orm::{ActiveValue::Set, UpdateMany, sea_query::Expr};

/// Counters of one run, as stored in `job_runs`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    pub total: Option<i64>,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub pages_done: i32,
    pub pages_total: Option<i32>,
    pub emag_requests: i64,
    pub rate_limit_waits: i64,
    pub emag_errors: i64,
    pub rate_limited: i64,
    pub emag_latency_ms: i64,
}

impl Counters {
    pub fn from_run(run: &job_run::Model) -> Counters {
        Counters {
            total: run.total,
            processed: run.processed,
            created: run.created,
            updated: run.updated,
            unchanged: run.unchanged,
            failed: run.failed,
            pages_done: run.pages_done,
            pages_total: run.pages_total,
            emag_requests: run.emag_requests,
            rate_limit_waits: run.rate_limit_waits,
            emag_errors: run.emag_errors,
            rate_limited: run.rate_limited,
            emag_latency_ms: run.emag_latency_ms,
        }
    }

    /// Sets these counters on a run about to be inserted.
    pub fn set_on(&self, run: &mut job_run::ActiveModel) {
        run.total = Set(self.total);
        run.processed = Set(self.processed);
        run.created = Set(self.created);
        run.updated = Set(self.updated);
        run.unchanged = Set(self.unchanged);
        run.failed = Set(self.failed);
        run.pages_done = Set(self.pages_done);
        run.pages_total = Set(self.pages_total);
        run.emag_requests = Set(self.emag_requests);
        run.rate_limit_waits = Set(self.rate_limit_waits);
        run.emag_errors = Set(self.emag_errors);
        run.rate_limited = Set(self.rate_limited);
        run.emag_latency_ms = Set(self.emag_latency_ms);
    }

    /// `update` with every counter column set to these counters.
    pub fn write(&self, update: UpdateMany<job_run::Entity>) -> UpdateMany<job_run::Entity> {
        use job_run::Column as C;
        update
            .col_expr(C::Total, Expr::value(self.total))
            .col_expr(C::Processed, Expr::value(self.processed))
            .col_expr(C::Created, Expr::value(self.created))
            .col_expr(C::Updated, Expr::value(self.updated))
            .col_expr(C::Unchanged, Expr::value(self.unchanged))
            .col_expr(C::Failed, Expr::value(self.failed))
            .col_expr(C::PagesDone, Expr::value(self.pages_done))
            .col_expr(C::PagesTotal, Expr::value(self.pages_total))
            .col_expr(C::EmagRequests, Expr::value(self.emag_requests))
            .col_expr(C::RateLimitWaits, Expr::value(self.rate_limit_waits))
            .col_expr(C::EmagErrors, Expr::value(self.emag_errors))
            .col_expr(C::RateLimited, Expr::value(self.rate_limited))
            .col_expr(C::EmagLatencyMs, Expr::value(self.emag_latency_ms))
    }

    /// The counters of several runs together (a parent's): each count summed, and a
    /// total known only when every run's is.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counters>) -> Counters {
        let mut sum = Counters {
            total: Some(0),
            pages_total: Some(0),
            ..Counters::default()
        };
        for c in all {
            sum.total = sum.total.zip(c.total).map(|(a, b)| a + b);
            sum.processed += c.processed;
            sum.created += c.created;
            sum.updated += c.updated;
            sum.unchanged += c.unchanged;
            sum.failed += c.failed;
            sum.pages_done += c.pages_done;
            sum.pages_total = sum.pages_total.zip(c.pages_total).map(|(a, b)| a + b);
            sum.emag_requests += c.emag_requests;
            sum.rate_limit_waits += c.rate_limit_waits;
            sum.emag_errors += c.emag_errors;
            sum.rate_limited += c.rate_limited;
            sum.emag_latency_ms += c.emag_latency_ms;
        }
        sum
    }

    /// processed ÷ total × 100 to one decimal, when the total is known.
    pub fn percent(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| ((self.processed as f64 / t as f64) * 1000.0).round() / 10.0)
    }

    /// The mean eMAG response time, once there was a request.
    pub fn mean_latency_ms(&self) -> Option<f64> {
        (self.emag_requests > 0).then(|| self.emag_latency_ms as f64 / self.emag_requests as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::Counters;

    #[test]
    fn a_sum_knows_its_total_only_when_every_run_does() {
        let a = Counters {
            total: Some(10),
            processed: 4,
            pages_total: Some(2),
            emag_requests: 3,
            ..Counters::default()
        };
        let b = Counters {
            total: Some(5),
            processed: 1,
            pages_total: None,
            emag_requests: 1,
            ..Counters::default()
        };
        let sum = Counters::sum([&a, &b]);
        assert_eq!(sum.total, Some(15));
        assert_eq!(sum.processed, 5);
        assert_eq!(sum.pages_total, None);
        assert_eq!(sum.emag_requests, 4);
        assert_eq!(Counters::sum([]).total, Some(0));
        let unknown = Counters::default();
        assert_eq!(Counters::sum([&a, &unknown]).total, None);
        assert_eq!(a.percent(), Some(40.0));
        assert_eq!(unknown.percent(), None);
    }
}
