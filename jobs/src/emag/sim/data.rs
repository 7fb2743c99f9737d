//! Seeded, deterministic data per login: the same seed gives the same catalogue and
//! orders. Shapes follow docs/emag.md §4, including its awkward parts: some numbers as
//! strings, order ids above 2^31 (and 2^32), boolean-or-list GPSR fields.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::config::SimLogin;

/// Money is kept in ten-thousandths of the currency unit (4 decimals, no floats).
const UNIT: i64 = 10_000;

/// A money value with 4 decimals, as eMAG prints it.
pub fn money(ten_thousandths: i64) -> String {
    let sign = if ten_thousandths < 0 { "-" } else { "" };
    let v = ten_thousandths.unsigned_abs();
    format!("{sign}{}.{:04}", v / 10_000, v % 10_000)
}

fn login_seed(seed: u64, login: &str) -> u64 {
    let digest = Sha256::digest(format!("{seed}:{login}").as_bytes());
    u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
}

/// Sends every third money field as a string and the rest as numbers.
fn money_value(i: usize, ten_thousandths: i64) -> Value {
    let s = money(ten_thousandths);
    if i.is_multiple_of(3) {
        Value::String(s)
    } else {
        s.parse::<f64>()
            .map(|f| json!(f))
            .unwrap_or(Value::String(s))
    }
}

/// The timestamp format of eMAG: naive platform-local time.
pub fn emag_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn offers(login: &SimLogin, n: usize, seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(login_seed(seed, &login.username));
    // Each login numbers its own catalogue: the same SKU has different ids on MAIN and FBE.
    let first_id = 1 + (login_seed(seed, &login.username) % 5_000) * 1_000;
    (0..n)
        .map(|i| {
            let id = first_id + i as u64;
            let sale = rng.random_range(10 * UNIT..5_000 * UNIT);
            let stock = if login.fbe { rng.random_range(0..50) } else { rng.random_range(0..500) };
            json!({
                "id": if i.is_multiple_of(7) { json!(id.to_string()) } else { json!(id) },
                "part_number": format!("PN-{}-{i:06}", login.username.to_uppercase()),
                "part_number_key": format!("D{:08X}", login_seed(seed, &format!("{}{i}", login.username)) & 0xFFFF_FFFF),
                "ean": [format!("594{:010}", id)],
                "name": format!("Produs {i} ({})", login.username),
                "brand": format!("Brand {}", i % 25),
                "category_id": 100 + (i % 40),
                "sale_price": money_value(i, sale),
                "recommended_price": money_value(i + 1, sale + sale / 5),
                "min_sale_price": money_value(i + 2, sale / 2),
                "max_sale_price": money_value(i, sale * 2),
                "currency": "RON",
                "vat_id": 1,
                "status": if i.is_multiple_of(11) { 0 } else { 1 },
                "validation_status": [{ "value": 9, "description": "Approved documentation", "errors": null }],
                "offer_validation_status": { "value": 1, "description": "Saleable" },
                "stock": [{ "warehouse_id": 1, "value": stock }],
                "general_stock": stock,
                "estimated_stock": stock,
                "handling_time": [{ "warehouse_id": 1, "value": 1 }],
                "offer_details": { "id": 100_000_000 + id, "warehouse_id": 1, "supply_lead_time": 14 },
                "manufacturer": false,
                "eu_representative": false,
                "number_of_offers": rng.random_range(1..8),
                "buy_button_rank": rng.random_range(1..5),
                "ownership": 1,
                "images": [],
                "characteristics": [],
            })
        })
        .collect()
}

pub fn orders(
    login: &SimLogin,
    offers: &[Value],
    n: usize,
    seed: u64,
    now: chrono::NaiveDateTime,
) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(login_seed(seed, &login.username) ^ 0x5eed);
    // Real ids run from ~4.4e8 to 3.1e9; go past 2^32 too, to prove u64 handling.
    let first_id = 4_294_000_000u64 + (login_seed(seed, &login.username) % 1_000) * 100_000;
    (0..n)
        .map(|i| {
            let id = first_id + (i as u64) * 997;
            let payment_mode = [1, 2, 3][i % 3];
            let payment_name = ["COD", "BANK TRANSFER", "ONLINE CARD"][i % 3];
            let order_type = if login.fbe || i.is_multiple_of(10) { 2 } else { 3 };
            let status = [1, 2, 3, 4, 4, 4, 0, 5][rng.random_range(0..8)];
            let age_minutes = rng.random_range(0..(180 * 24 * 60));
            let date = now - chrono::Duration::minutes(age_minutes);
            let modified = date + chrono::Duration::minutes(rng.random_range(0..age_minutes.max(1)));
            let lines: Vec<Value> = (0..rng.random_range(1..4))
                .map(|l| {
                    let offer = &offers[rng.random_range(0..offers.len().max(1))];
                    let price = rng.random_range(10 * UNIT..2_000 * UNIT);
                    json!({
                        "id": id * 10 + l,
                        "product_id": offer["id"],
                        "part_number_key": offer["part_number_key"],
                        "ext_part_number": offer["part_number"],
                        "name": offer["name"],
                        "status": 1,
                        "quantity": if l % 2 == 0 { json!(rng.random_range(1..4)) } else { json!(rng.random_range(1..4).to_string()) },
                        "sale_price": money(price),
                        "currency": "RON",
                        "vat": "0.2100",
                        "created": emag_time(date),
                        "modified": emag_time(modified),
                    })
                })
                .collect();
            let vouchers = if i.is_multiple_of(9) {
                json!([{ "voucher_id": i, "sale_price": money(-10 * UNIT), "sale_price_vat": money(-21 * UNIT / 10), "vat": "0.2100", "voucher_name": "Reducere" }])
            } else {
                json!([])
            };
            json!({
                "id": if i.is_multiple_of(5) { json!(id.to_string()) } else { json!(id) },
                "status": status,
                "is_complete": 1,
                "type": order_type,
                "payment_mode_id": payment_mode,
                "payment_mode": payment_name,
                "payment_status": if i % 3 == 2 { 1 } else { 0 },
                "delivery_mode": "courier",
                "date": emag_time(date),
                "modified": emag_time(modified),
                "shipping_tax": if i.is_multiple_of(4) { json!("0.0000") } else { json!("19.9900") },
                "customer": {
                    "id": 900_000_000 + i,
                    "name": format!("Client {i}"),
                    "email": format!("{:x}@emag-alias.ro", login_seed(seed, &format!("c{i}")) & 0xFFFF_FFFF),
                    "phone_1": "07xxxxxxxx",
                    "billing_city": "Bucuresti",
                    "shipping_city": "Bucuresti",
                },
                "products": lines,
                "vouchers": vouchers,
                "attachments": [],
            })
        })
        .collect()
}
