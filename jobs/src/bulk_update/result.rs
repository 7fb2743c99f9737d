//! A bulk update's outcome per item, as CSV: the file a seller opens to see what eMAG
//! refused and why.

use entity::bulk_item;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::plan::FIELDS;

/// What an order item changes (`id` is then the order's id).
const ORDER_COLUMNS: [&str; 4] = ["action", "order_status", "invoice_url", "reason"];
use crate::csv_cells;

const PAGE: u64 = 5000;

/// `row, account, id, part_number`, the new value of each offer field, an order item's
/// action, target status, invoice and reason, `outcome`, `message`.
pub async fn result_csv<C: ConnectionTrait>(db: &C, run_id: Uuid) -> Result<Vec<u8>, DbErr> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["row", "account", "id", "part_number"];
    header.extend(FIELDS);
    header.extend(ORDER_COLUMNS);
    header.extend(["outcome", "message"]);
    let write = |out: &mut csv::Writer<Vec<u8>>, record: Vec<String>| {
        out.write_record(record)
            .map_err(|e| DbErr::Custom(format!("writing the result CSV: {e}")))
    };
    write(&mut out, header.iter().map(|h| (*h).to_owned()).collect())?;
    let mut after = -1;
    loop {
        let items = bulk_item::Entity::find()
            .filter(bulk_item::Column::RunId.eq(run_id))
            .filter(bulk_item::Column::Seq.gt(after))
            .order_by_asc(bulk_item::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = items.last() else { break };
        after = last.seq;
        for item in &items {
            let text = |t: &str| csv_cells::text(t).into_owned();
            let mut record = vec![
                item.row.to_string(),
                text(&item.account),
                item.emag_id.to_string(),
                text(item.part_number.as_deref().unwrap_or_default()),
            ];
            for field in FIELDS.iter().chain(ORDER_COLUMNS.iter()) {
                record.push(match item.change.get(field) {
                    Some(Value::String(s)) => text(s),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                });
            }
            record.push(text(item.state.as_str()));
            record.push(text(item.message.as_deref().unwrap_or_default()));
            write(&mut out, record)?;
        }
    }
    out.into_inner()
        .map_err(|e| DbErr::Custom(format!("writing the result CSV: {e}")))
}
