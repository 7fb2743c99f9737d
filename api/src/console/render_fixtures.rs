//! What the data pages' handlers pass to their templates, for the render tests.

use minijinja::{Value, context};

/// Analytics with a comparison, a best seller and an offer running out.
pub fn analytics() -> Value {
    let svg = Value::from_safe_string("<svg class=\"chart\"></svg>".into());
    context! {
        accounts => vec!["main"], intervals => vec!["day"], compares => vec!["previous"],
        v => context! { account => "", from => "2026-13-01", to => "", interval => "day", compare => "previous" },
        errors => context! { from => "a day as YYYY-MM-DD" },
        a => context! {
            account => (), from => "2026-11-01", to => "2026-11-30", currency => "RON", compared => true,
            keys => vec![context! { key => "revenue", text => "1.234,50 RON", change => "+12.5%", trend => "up" }],
            sales_chart => svg.clone(), top_chart => svg.clone(), stock_chart => svg, has_stock => true,
            points => vec![context! { label => "01.12", revenue => "10 RON", orders => 1, units => 2, before => () }],
            top => vec![context! { name => "Produs", id => 17, account => "main", units => 3, revenue => "99 RON" }],
            running_out => vec![context! { name => "Produs", id => 17, account => "main", stock => 1, pace => "0.5", days => "2.0" }],
        },
    }
}

/// Synced offers and orders, one removed offer and one order with its lines.
pub fn data_pages() -> Vec<(&'static str, Value)> {
    let order = context! {
        account => "main", id => 4_294_001_997_i64, status => 1, order_type => 3,
        ordered_at => "2026-12-02T12:00:00Z", customer => "Ana", city => "Cluj", payment => "COD",
        delivery => "courier", total => "2071.0433", currency => "RON", synced_at => "2026-12-02T12:00:00Z",
    };
    let filter = context! { account => "main", status => "1", q => "pn", include_removed => true };
    vec![
        (
            "offers.html",
            context! {
                rows => vec![context! {
                    account => "main", id => 17, name => "Produs", part_number => "PN-17", status => 1,
                    sale_price => "406.4515", currency => "RON", stock => 3,
                    removed_at => "2026-12-02T12:00:00Z", synced_at => "2026-12-02T12:00:00Z",
                }],
                accounts => vec!["main"], statuses => vec!["0", "1", "2"], filter => filter.clone(),
                next_url => "/offers?cursor=main.17",
            },
        ),
        (
            "orders.html",
            context! {
                rows => vec![order.clone()], accounts => vec!["main"], statuses => vec!["0", "5"],
                filter => filter, next_url => (),
            },
        ),
        (
            "order.html",
            context! {
                o => order, email => "a@emag-alias.ro", phone => (), billing_city => "Cluj",
                lines_total => "1721.606", vat_total => "361.5373", vouchers_total => "-12.1",
                shipping_tax => "0",
                lines => vec![context! { id => 1, name => "Produs", pnk => "D1", status => 1, quantity => 2, price => "860.803", vat => "21" }],
            },
        ),
    ]
}
