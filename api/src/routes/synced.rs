//! `/api/v1/offers` and `/api/v1/orders`: what syncs stored, for any key. Money is a
//! decimal string (exact, 4 places at most), as eMAG writes it.

use chrono::{DateTime, Utc};
use entity::{offer, order, order_line};
use jobs::synced::{self, Common, Cursor, OfferFilter, OrderFilter};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{auth::ApiKey, error::ApiError, routes::ApiTags, state::AppState};

pub struct SyncedApi {
    pub state: AppState,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OfferView {
    pub account: String,
    /// The seller's product id at eMAG.
    pub id: i64,
    pub name: Option<String>,
    pub part_number: Option<String>,
    pub part_number_key: Option<String>,
    pub brand: Option<String>,
    /// 0 inactive, 1 active, 2 end of life.
    pub status: Option<i32>,
    /// Without VAT.
    pub sale_price: Option<String>,
    pub currency: Option<String>,
    pub general_stock: Option<i64>,
    pub estimated_stock: Option<i64>,
    /// When a full sync found it gone from eMAG (only with `include_removed`).
    pub removed_at: Option<DateTime<Utc>>,
    pub last_synced_at: DateTime<Utc>,
    /// When a sync last changed the stored row.
    pub updated_at: DateTime<Utc>,
}

impl From<&offer::Model> for OfferView {
    fn from(o: &offer::Model) -> Self {
        OfferView {
            account: o.account.clone(),
            id: o.emag_id,
            name: o.name.clone(),
            part_number: o.part_number.clone(),
            part_number_key: o.part_number_key.clone(),
            brand: o.brand.clone(),
            status: o.status,
            sale_price: o.sale_price.map(|d| d.normalize().to_string()),
            currency: o.currency.clone(),
            general_stock: o.general_stock,
            estimated_stock: o.estimated_stock,
            removed_at: o.removed_at,
            last_synced_at: o.last_synced_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderView {
    pub account: String,
    pub id: i64,
    /// 2 fulfilled by eMAG, 3 by the seller.
    pub order_type: i32,
    /// 0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalised, 5 returned.
    pub status: i32,
    pub ordered_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub customer_name: Option<String>,
    pub payment_mode: Option<String>,
    pub delivery_mode: Option<String>,
    pub shipping_city: Option<String>,
    /// With VAT, vouchers and shipping.
    pub total_with_vat: String,
    pub currency: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<&order::Model> for OrderView {
    fn from(o: &order::Model) -> Self {
        OrderView {
            account: o.account.clone(),
            id: o.emag_id,
            order_type: o.order_type,
            status: o.status,
            ordered_at: o.ordered_at,
            modified_at: o.modified_at,
            customer_name: o.customer_name.clone(),
            payment_mode: o.payment_mode.clone(),
            delivery_mode: o.delivery_mode.clone(),
            shipping_city: o.shipping_city.clone(),
            total_with_vat: o.total_with_vat.normalize().to_string(),
            currency: o.currency.clone(),
            updated_at: o.updated_at,
        }
    }
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderLineView {
    pub line_id: i64,
    pub product_id: Option<i64>,
    pub part_number_key: Option<String>,
    pub name: Option<String>,
    /// 0 removed, 1 active.
    pub status: Option<i32>,
    pub quantity: i64,
    /// Per unit, without VAT.
    pub sale_price: String,
    /// e.g. `0.21`.
    pub vat_rate: String,
    pub currency: Option<String>,
}

impl From<&order_line::Model> for OrderLineView {
    fn from(l: &order_line::Model) -> Self {
        OrderLineView {
            line_id: l.line_id,
            product_id: l.product_id,
            part_number_key: l.part_number_key.clone(),
            name: l.name.clone(),
            status: l.status,
            quantity: l.quantity,
            sale_price: l.sale_price.normalize().to_string(),
            vat_rate: l.vat_rate.normalize().to_string(),
            currency: l.currency.clone(),
        }
    }
}

/// One order with its lines and sums.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderDetail {
    #[oai(flatten)]
    pub order: OrderView,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub billing_city: Option<String>,
    pub payment_status: Option<i32>,
    pub lines_total: String,
    pub vat_total: String,
    pub vouchers_total: String,
    pub shipping_tax: String,
    pub lines: Vec<OrderLineView>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OfferPage {
    pub items: Vec<OfferView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// The filters both lists take, checked (422 naming the field).
fn common(
    account: Option<String>,
    status: Option<i32>,
    statuses: std::ops::RangeInclusive<i32>,
    q: Option<String>,
    changed_since: Option<DateTime<Utc>>,
) -> Result<Common, ApiError> {
    if let Some(s) = status.filter(|s| !statuses.contains(s)) {
        return Err(ApiError::invalid(
            "status",
            format!(
                "{s} is not a status: use {} to {}",
                statuses.start(),
                statuses.end()
            ),
        ));
    }
    if q.as_ref()
        .is_some_and(|q| q.chars().count() > synced::MAX_TEXT)
    {
        return Err(ApiError::invalid(
            "q",
            format!("at most {} characters", synced::MAX_TEXT),
        ));
    }
    Ok(Common {
        account,
        status,
        text: q,
        changed_since,
    })
}

fn page(cursor: Option<&str>, limit: Option<u64>) -> Result<(Option<Cursor>, u64), ApiError> {
    let cursor = cursor
        .map(|c| {
            Cursor::parse(c)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 200"));
    }
    Ok((cursor, limit))
}

/// The next page's cursor: the last row shown, when there is more.
fn next<T>(rows: &mut Vec<T>, limit: u64, key: impl Fn(&T) -> Cursor) -> Option<String> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    rows.last().filter(|_| more).map(|r| key(r).text())
}

#[OpenApi(tag = "ApiTags::Data")]
impl SyncedApi {
    /// List synced offers
    ///
    /// By account, then eMAG id. Offers a full sync found gone from eMAG are left out
    /// unless `include_removed`.
    #[oai(path = "/api/v1/offers", method = "get", operation_id = "list_offers")]
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per query parameter is how poem-openapi documents them"
    )]
    async fn offers(
        &self,
        _auth: ApiKey,
        /// Only this eMAG account.
        account: Query<Option<String>>,
        /// 0 inactive, 1 active, 2 end of life.
        status: Query<Option<i32>>,
        /// Text in the name, part number or part number key (any case), or the id.
        q: Query<Option<String>>,
        /// Only offers a sync changed at or after this instant (RFC 3339).
        changed_since: Query<Option<DateTime<Utc>>>,
        /// Also offers eMAG no longer lists.
        include_removed: Query<Option<bool>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u64>>,
    ) -> Result<Json<OfferPage>, ApiError> {
        let filter = OfferFilter {
            common: common(account.0, status.0, 0..=2, q.0, changed_since.0)?,
            include_removed: include_removed.0.unwrap_or(false),
        };
        let (cursor, limit) = page(cursor.0.as_deref(), limit.0)?;
        let db = &self.state.ctx.db;
        let mut rows = synced::list_offers(db, &filter, cursor.as_ref(), limit + 1).await?;
        let next_cursor = next(&mut rows, limit, |o| Cursor {
            account: o.account.clone(),
            emag_id: o.emag_id,
        });
        let items = rows.iter().map(OfferView::from).collect();
        Ok(Json(OfferPage { items, next_cursor }))
    }

    /// List synced orders, newest first
    #[oai(path = "/api/v1/orders", method = "get", operation_id = "list_orders")]
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per query parameter is how poem-openapi documents them"
    )]
    async fn orders(
        &self,
        _auth: ApiKey,
        /// Only this eMAG account.
        account: Query<Option<String>>,
        /// 0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalised, 5 returned.
        status: Query<Option<i32>>,
        /// The order id, or text in the customer's name (any case).
        q: Query<Option<String>>,
        /// Only orders a sync changed at or after this instant (RFC 3339).
        changed_since: Query<Option<DateTime<Utc>>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u64>>,
    ) -> Result<Json<OrderPage>, ApiError> {
        let filter = OrderFilter {
            common: common(account.0, status.0, 0..=5, q.0, changed_since.0)?,
        };
        let (cursor, limit) = page(cursor.0.as_deref(), limit.0)?;
        let db = &self.state.ctx.db;
        let mut rows = synced::list_orders(db, &filter, cursor.as_ref(), limit + 1).await?;
        let next_cursor = next(&mut rows, limit, |o| Cursor {
            account: o.account.clone(),
            emag_id: o.emag_id,
        });
        let items = rows.iter().map(OrderView::from).collect();
        Ok(Json(OrderPage { items, next_cursor }))
    }

    /// Get one synced order with its lines
    #[oai(
        path = "/api/v1/orders/:account/:id",
        method = "get",
        operation_id = "get_order"
    )]
    async fn order(
        &self,
        _auth: ApiKey,
        account: Path<String>,
        id: Path<i64>,
    ) -> Result<Json<OrderDetail>, ApiError> {
        let db = &self.state.ctx.db;
        let (o, lines) = synced::find_order(db, &account, id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        Ok(Json(OrderDetail {
            order: OrderView::from(&o),
            customer_email: o.customer_email.clone(),
            customer_phone: o.customer_phone.clone(),
            billing_city: o.billing_city.clone(),
            payment_status: o.payment_status,
            lines_total: o.lines_total.normalize().to_string(),
            vat_total: o.vat_total.normalize().to_string(),
            vouchers_total: o.vouchers_total.normalize().to_string(),
            shipping_tax: o.shipping_tax.normalize().to_string(),
            lines: lines.iter().map(OrderLineView::from).collect(),
        }))
    }
}
