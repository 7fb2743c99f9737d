//! The report's three A4 pages: the cover with the key figures; the sales chart with
//! the best sellers; the offers running out with the syncs' health.

use chrono_tz::Tz;
use krilla::{Document, metadata::Metadata, page::PageSettings};
use rust_decimal::{Decimal, prelude::ToPrimitive};

use super::{
    draw::{ACCENT, Align, BAD, Canvas, Fonts, GOOD, INK, MARGIN, MUTED, PAGE_H, PAGE_W},
    figures::ReportData,
    words::Words,
};
use crate::analytics::{Figures, Interval, sales::change};

const PAGES: usize = 3;

/// The report as PDF bytes.
pub fn render(data: &ReportData, w: &Words) -> Result<Vec<u8>, String> {
    let fonts = Fonts::load().ok_or("the embedded font does not load")?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} · {}", w.title, period_text(data, w)))
            .language(w.lang.to_owned())
            .creator("magflow".to_owned()),
    );
    let draws: [fn(&mut Canvas, &ReportData, &Words); PAGES] = [cover, sales_page, stock_page];
    for (i, draw) in draws.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut canvas = Canvas {
            surface: &mut surface,
            fonts: &fonts,
        };
        draw(&mut canvas, data, w);
        footer(&mut canvas, w, i + 1);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

fn period_text(data: &ReportData, w: &Words) -> String {
    format!("{} – {}", w.day(data.period.from), w.day(data.period.to))
}

fn currency(data: &ReportData) -> &str {
    data.sales.currency.as_deref().unwrap_or("")
}

fn footer(c: &mut Canvas, w: &Words, page: usize) {
    let y = PAGE_H - 30.0;
    c.text(MARGIN, y, 8.0, false, MUTED, Align::Left, "magflow");
    let text = format!("{} {page} / {PAGES}", w.page);
    c.text(PAGE_W - MARGIN, y, 8.0, false, MUTED, Align::Right, &text);
}

fn cover(c: &mut Canvas, data: &ReportData, w: &Words) {
    c.rect(0.0, 0.0, PAGE_W, 8.0, ACCENT);
    c.text(MARGIN, 110.0, 28.0, true, INK, Align::Left, w.title);
    let account = data.scope.account.as_deref().unwrap_or(w.all_accounts);
    let tz: Tz = data.scope.tz;
    let generated = data
        .generated_at
        .with_timezone(&tz)
        .format("%d.%m.%Y %H:%M");
    let lines = [
        (w.account, account.to_owned()),
        (w.period, period_text(data, w)),
        (
            w.compared_with,
            data.sales.compared.as_ref().map_or_else(String::new, |s| {
                format!("{} – {}", w.day(s.period.from), w.day(s.period.to))
            }),
        ),
        (w.generated, format!("{generated} ({tz})")),
    ];
    let mut y = 150.0;
    for (label, value) in lines {
        c.text(MARGIN, y, 11.0, false, MUTED, Align::Left, label);
        c.text(MARGIN + 120.0, y, 11.0, false, INK, Align::Left, &value);
        y += 18.0;
    }
    let y = c.heading(y + 40.0, w.key_figures);
    key_figures(c, data, w, y);
}

/// Each total now, before and its change.
fn key_figures(c: &mut Canvas, data: &ReportData, w: &Words, y: f32) {
    let cur = currency(data);
    let now = &data.sales.current.totals;
    let zero = Figures::default();
    let before = data.sales.compared.as_ref().map_or(&zero, |s| &s.totals);
    let money = |d: Decimal| w.money(d, cur);
    let aov = |f: &Figures| f.average_order_value();
    let counted = |label, now: i64, before: i64| {
        let ratio = change(Decimal::from(now), Decimal::from(before)).1;
        (label, w.count(now), w.count(before), ratio)
    };
    let amount = |label, now: Decimal, before: Decimal| {
        (label, money(now), money(before), change(now, before).1)
    };
    let rows: Vec<(&str, String, String, Option<Decimal>)> = vec![
        amount(w.revenue, now.revenue, before.revenue),
        counted(w.sales, now.finalised_orders, before.finalised_orders),
        counted(w.units_sold, now.units_sold, before.units_sold),
        (
            w.average_order,
            aov(now).map_or_else(|| "–".into(), money),
            aov(before).map_or_else(|| "–".into(), money),
            aov(now).zip(aov(before)).and_then(|(a, b)| change(a, b).1),
        ),
        counted(w.orders_placed, now.orders, before.orders),
        counted(w.cancelled, now.cancelled_orders, before.cancelled_orders),
        amount(
            w.cancelled_value,
            now.cancelled_value,
            before.cancelled_value,
        ),
    ];
    let columns = [
        (MARGIN, Align::Left),
        (360.0, Align::Right),
        (460.0, Align::Right),
        (PAGE_W - MARGIN, Align::Right),
    ];
    let header = [w.figure, w.this_period, w.previous, w.change].map(str::to_owned);
    let mut y = c.row(y, &columns, &header, true);
    for (label, now, before, ratio) in rows {
        let cells = [label.to_owned(), now, before, String::new()];
        c.row(y, &columns, &cells, false);
        if let Some(r) = ratio.and_then(|r| r.to_f64()) {
            let colour = if r < 0.0 { BAD } else { GOOD };
            c.text(
                PAGE_W - MARGIN,
                y,
                9.5,
                true,
                colour,
                Align::Right,
                &w.percent(r),
            );
        }
        y += 17.0;
    }
}

fn sales_page(c: &mut Canvas, data: &ReportData, w: &Words) {
    let title = if data.interval == Interval::Week {
        w.sales_chart_week
    } else {
        w.sales_chart
    };
    let y = c.heading(70.0, title);
    c.text(
        MARGIN,
        y - 6.0,
        8.5,
        false,
        MUTED,
        Align::Left,
        w.chart_legend,
    );
    let y = chart(c, data, w, y + 4.0);
    let mut y = c.heading(y + 30.0, w.top_products);
    if data.top.is_empty() {
        c.text(MARGIN, y, 10.0, false, MUTED, Align::Left, w.no_sales);
        return;
    }
    let columns = [
        (MARGIN, Align::Left),
        (420.0, Align::Right),
        (PAGE_W - MARGIN, Align::Right),
    ];
    y = c.row(
        y,
        &columns,
        &[w.product, w.units, w.revenue].map(str::to_owned),
        true,
    );
    for (i, p) in data.top.iter().enumerate() {
        let name = p.name.clone().unwrap_or_else(|| p.product_id.to_string());
        let name = c.fonts.fit(&format!("{}. {name}", i + 1), 9.5, 300.0);
        let cells = [name, w.count(p.units), w.money(p.revenue, currency(data))];
        y = c.row(y, &columns, &cells, false);
    }
}

/// Revenue per bucket as bars, the compared period's as a dashed line; the y below.
fn chart(c: &mut Canvas, data: &ReportData, w: &Words, top: f32) -> f32 {
    let value = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let points = &data.sales.current.points;
    let now: Vec<f64> = points.iter().map(|p| value(p.figures.revenue)).collect();
    let before: Vec<f64> = data
        .sales
        .compared
        .iter()
        .flat_map(|s| &s.points)
        .map(|p| value(p.figures.revenue))
        .collect();
    let labels: Vec<String> = points
        .iter()
        .map(|p| p.period.from.format("%d.%m").to_string())
        .collect();
    c.bar_chart(top, &now, &before, &labels, &|v| w.count(v.round() as i64))
}

fn stock_page(c: &mut Canvas, data: &ReportData, w: &Words) {
    let mut y = c.heading(70.0, w.running_out);
    c.text(
        MARGIN,
        y - 6.0,
        8.5,
        false,
        MUTED,
        Align::Left,
        w.running_out_help,
    );
    y += 10.0;
    if data.running_out.is_empty() {
        c.text(
            MARGIN,
            y,
            10.0,
            false,
            MUTED,
            Align::Left,
            w.none_running_out,
        );
        y += 17.0;
    } else {
        let columns = [
            (MARGIN, Align::Left),
            (380.0, Align::Right),
            (460.0, Align::Right),
            (PAGE_W - MARGIN, Align::Right),
        ];
        y = c.row(
            y,
            &columns,
            &[w.product, w.stock, w.per_day, w.days_left].map(str::to_owned),
            true,
        );
        for o in &data.running_out {
            let name = o.name.clone().unwrap_or_else(|| o.product_id.to_string());
            let cells = [
                c.fonts.fit(&name, 9.5, 260.0),
                w.count(o.stock),
                w.decimal(o.pace),
                o.days.map_or_else(|| "–".into(), |d| w.decimal(d)),
            ];
            y = c.row(y, &columns, &cells, false);
        }
    }
    health(c, data, w, y + 30.0);
}

fn health(c: &mut Canvas, data: &ReportData, w: &Words, y: f32) {
    let h = &data.health;
    let mut y = c.heading(y, w.sync_health);
    let rate = match h.success_rate() {
        Some(r) => format!(
            "{}% ({} / {})",
            w.decimal(r * 100.0),
            w.count(h.succeeded as i64),
            w.count(h.syncs as i64)
        ),
        None => w.no_syncs.to_owned(),
    };
    c.text(MARGIN, y, 10.0, false, MUTED, Align::Left, w.success_rate);
    c.text(MARGIN + 200.0, y, 10.0, true, INK, Align::Left, &rate);
    y += 17.0;
    c.text(MARGIN, y, 10.0, false, MUTED, Align::Left, w.incidents);
    c.text(
        MARGIN + 200.0,
        y,
        10.0,
        true,
        INK,
        Align::Left,
        &w.count(h.incidents as i64),
    );
    y += 20.0;
    let tz = data.scope.tz;
    for i in &h.latest_incidents {
        let when = i.at.with_timezone(&tz).format("%d.%m %H:%M").to_string();
        let what = format!(
            "{when}  {} {}  {}",
            i.kind.as_str(),
            i.account.as_deref().unwrap_or(""),
            i.message
        );
        c.text(
            MARGIN,
            y,
            8.5,
            false,
            INK,
            Align::Left,
            &c.fonts.fit(&what, 8.5, PAGE_W - 2.0 * MARGIN),
        );
        y += 13.0;
    }
    if h.latest_incidents.is_empty() {
        c.text(MARGIN, y, 9.0, false, MUTED, Align::Left, w.no_incidents);
        y += 13.0;
    }
    y += 12.0;
    c.text(MARGIN, y, 10.0, true, INK, Align::Left, w.last_syncs);
    y += 16.0;
    for s in h.last_syncs.iter().take(12) {
        let when = s
            .last_success_at
            .with_timezone(&tz)
            .format("%d.%m.%Y %H:%M")
            .to_string();
        c.text(
            MARGIN,
            y,
            9.0,
            false,
            INK,
            Align::Left,
            &format!("{} · {}", s.account, s.resource),
        );
        c.text(MARGIN + 200.0, y, 9.0, false, INK, Align::Left, &when);
        y += 13.0;
    }
}
