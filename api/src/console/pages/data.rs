//! `GET /offers`, `GET /orders` and `GET /orders/{account}/{id}`: what syncs stored, with
//! the API's filters (account, status, text, removed offers) and its cursor pages.

use jobs::synced::{self, Common, Cursor, OfferFilter, OrderFilter};
use serde::Deserialize;

use super::prelude::*;
use super::{nonempty, not_found, unavailable};

const PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct DataQuery {
    account: Option<String>,
    status: Option<String>,
    q: Option<String>,
    include_removed: Option<String>,
    cursor: Option<String>,
}

impl DataQuery {
    fn common(&self) -> Common {
        Common {
            account: nonempty(&self.account).map(str::to_owned),
            status: nonempty(&self.status).and_then(|s| s.parse().ok()),
            text: nonempty(&self.q).map(|q| q.chars().take(synced::MAX_TEXT).collect()),
            changed_since: None,
        }
    }

    fn cursor(&self) -> Option<Cursor> {
        nonempty(&self.cursor).and_then(Cursor::parse)
    }

    /// This page's URL with the next cursor.
    fn next_url(&self, path: &str, cursor: Option<String>) -> Option<String> {
        let keep = |name: &str, v: &Option<String>| {
            nonempty(v)
                .map(|v| format!("{name}={}&", url_escape(v)))
                .unwrap_or_default()
        };
        cursor.map(|c| {
            format!(
                "{path}?{}{}{}{}cursor={}",
                keep("account", &self.account),
                keep("status", &self.status),
                keep("q", &self.q),
                keep("include_removed", &self.include_removed),
                url_escape(&c)
            )
        })
    }

    fn filter(&self) -> Value {
        context! {
            account => nonempty(&self.account),
            status => nonempty(&self.status),
            q => nonempty(&self.q).unwrap_or(""),
            include_removed => nonempty(&self.include_removed).is_some(),
        }
    }
}

/// The last row's key when there is a next page, after cutting the extra row.
fn next<T>(rows: &mut Vec<T>, key: impl Fn(&T) -> Cursor) -> Option<String> {
    let more = rows.len() as u64 > PAGE;
    rows.truncate(PAGE as usize);
    rows.last().filter(|_| more).map(|r| key(r).text())
}

async fn account_names(state: &AppState) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(jobs::accounts::list(&state.ctx.db)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect())
}

fn money(amount: Option<rust_decimal::Decimal>) -> Option<String> {
    amount.map(|d| d.normalize().to_string())
}

#[handler]
pub async fn offers(state: Data<&AppState>, me: Signed, Query(q): Query<DataQuery>) -> Response {
    let frame = Frame::of(&me, "offers");
    let filter = OfferFilter {
        common: q.common(),
        include_removed: nonempty(&q.include_removed).is_some(),
    };
    let db = &state.ctx.db;
    let cursor = q.cursor();
    let (mut rows, accounts) = match tokio::try_join!(
        synced::list_offers(db, &filter, cursor.as_ref(), PAGE + 1),
        account_names(&state)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(&frame, "offers", &e),
    };
    let cursor = next(&mut rows, |o| Cursor {
        account: o.account.clone(),
        emag_id: o.emag_id,
    });
    let rows: Vec<Value> = rows
        .iter()
        .map(|o| {
            context! {
                account => o.account, id => o.emag_id, name => o.name,
                part_number => o.part_number, status => o.status,
                sale_price => money(o.sale_price), currency => o.currency.as_deref().unwrap_or(""),
                stock => o.general_stock,
                removed_at => o.removed_at.map(|t| t.to_rfc3339()),
                synced_at => o.last_synced_at.to_rfc3339(),
            }
        })
        .collect();
    let data = context! {
        rows => rows, accounts => accounts, statuses => ["0", "1", "2"],
        filter => q.filter(), next_url => q.next_url("/offers", cursor),
    };
    render::page("offers.html", &frame, data, StatusCode::OK)
}

#[handler]
pub async fn orders(state: Data<&AppState>, me: Signed, Query(q): Query<DataQuery>) -> Response {
    let frame = Frame::of(&me, "orders");
    let filter = OrderFilter { common: q.common() };
    let db = &state.ctx.db;
    let cursor = q.cursor();
    let (mut rows, accounts) = match tokio::try_join!(
        synced::list_orders(db, &filter, cursor.as_ref(), PAGE + 1),
        account_names(&state)
    ) {
        Ok(found) => found,
        Err(e) => return unavailable(&frame, "orders", &e),
    };
    let cursor = next(&mut rows, |o| Cursor {
        account: o.account.clone(),
        emag_id: o.emag_id,
    });
    let rows: Vec<Value> = rows.iter().map(order_json).collect();
    let data = context! {
        rows => rows, accounts => accounts, statuses => ["0", "1", "2", "3", "4", "5"],
        filter => q.filter(), next_url => q.next_url("/orders", cursor),
    };
    render::page("orders.html", &frame, data, StatusCode::OK)
}

fn order_json(o: &entity::order::Model) -> Value {
    context! {
        account => o.account, id => o.emag_id, status => o.status, order_type => o.order_type,
        ordered_at => o.ordered_at.map(|t| t.to_rfc3339()),
        customer => o.customer_name, city => o.shipping_city,
        payment => o.payment_mode, delivery => o.delivery_mode,
        total => o.total_with_vat.normalize().to_string(),
        currency => o.currency.as_deref().unwrap_or(""),
        synced_at => o.last_synced_at.to_rfc3339(),
    }
}

#[handler]
pub async fn order(
    state: Data<&AppState>,
    me: Signed,
    Path((account, id)): Path<(String, String)>,
) -> Response {
    let frame = Frame::of(&me, "orders");
    let Ok(id) = id.parse::<i64>() else {
        return not_found(&frame);
    };
    let (o, lines) = match synced::find_order(&state.ctx.db, &account, id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&frame),
        Err(e) => return unavailable(&frame, "order", &e),
    };
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| {
            context! {
                id => l.line_id, name => l.name, pnk => l.part_number_key, status => l.status,
                quantity => l.quantity, price => l.sale_price.normalize().to_string(),
                vat => (l.vat_rate * rust_decimal::Decimal::ONE_HUNDRED).normalize().to_string(),
            }
        })
        .collect();
    let data = context! {
        o => order_json(&o),
        email => o.customer_email, phone => o.customer_phone, billing_city => o.billing_city,
        lines_total => o.lines_total.normalize().to_string(),
        vat_total => o.vat_total.normalize().to_string(),
        vouchers_total => o.vouchers_total.normalize().to_string(),
        shipping_tax => o.shipping_tax.normalize().to_string(),
        lines => lines,
    };
    render::page("order.html", &frame, data, StatusCode::OK)
}
