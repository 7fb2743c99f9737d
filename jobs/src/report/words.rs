//! The report's words and number formats in Romanian and English.

use rust_decimal::Decimal;

use super::params::ReportLocale;

pub struct Words {
    pub lang: &'static str,
    pub title: &'static str,
    pub all_accounts: &'static str,
    pub account: &'static str,
    pub period: &'static str,
    pub compared_with: &'static str,
    pub generated: &'static str,
    pub key_figures: &'static str,
    pub figure: &'static str,
    pub this_period: &'static str,
    pub previous: &'static str,
    pub change: &'static str,
    pub revenue: &'static str,
    pub sales: &'static str,
    pub units_sold: &'static str,
    pub average_order: &'static str,
    pub orders_placed: &'static str,
    pub cancelled: &'static str,
    pub cancelled_value: &'static str,
    pub sales_chart: &'static str,
    pub sales_chart_week: &'static str,
    pub chart_legend: &'static str,
    pub top_products: &'static str,
    pub product: &'static str,
    pub units: &'static str,
    pub no_sales: &'static str,
    pub running_out: &'static str,
    pub running_out_help: &'static str,
    pub stock: &'static str,
    pub per_day: &'static str,
    pub days_left: &'static str,
    pub none_running_out: &'static str,
    pub sync_health: &'static str,
    pub success_rate: &'static str,
    pub no_syncs: &'static str,
    pub incidents: &'static str,
    pub no_incidents: &'static str,
    pub last_syncs: &'static str,
    pub page: &'static str,
    /// Thousands and decimal separators.
    pub separators: (char, char),
}

const RO: Words = Words {
    lang: "ro",
    title: "Raport de management",
    all_accounts: "Toate conturile",
    account: "Cont",
    period: "Perioada",
    compared_with: "Comparată cu",
    generated: "Generat la",
    key_figures: "Cifre cheie",
    figure: "Indicator",
    this_period: "Perioada",
    previous: "Anterior",
    change: "Variație",
    revenue: "Venituri",
    sales: "Vânzări (comenzi finalizate)",
    units_sold: "Unități vândute",
    average_order: "Valoarea medie a comenzii",
    orders_placed: "Comenzi plasate",
    cancelled: "Comenzi anulate",
    cancelled_value: "Valoarea anulărilor",
    sales_chart: "Venituri pe zi",
    sales_chart_week: "Venituri pe săptămână",
    chart_legend: "bare: perioada; linie punctată: perioada anterioară",
    top_products: "Cele mai vândute 10 produse",
    product: "Produs",
    units: "Unități",
    no_sales: "Nicio comandă finalizată în această perioadă.",
    running_out: "Stoc pe terminate",
    running_out_help: "Oferte active al căror stoc ajunge sub 7 zile în ritmul ultimelor 28 de zile.",
    stock: "Stoc",
    per_day: "Pe zi",
    days_left: "Zile",
    none_running_out: "Nicio ofertă nu rămâne fără stoc în 7 zile.",
    sync_health: "Starea sincronizărilor",
    success_rate: "Sincronizări reușite",
    no_syncs: "nicio sincronizare încheiată în perioadă",
    incidents: "Incidente (rulări eșuate)",
    no_incidents: "Niciun incident în perioadă.",
    last_syncs: "Ultima sincronizare reușită",
    page: "Pagina",
    separators: ('.', ','),
};

const EN: Words = Words {
    lang: "en",
    title: "Management report",
    all_accounts: "All accounts",
    account: "Account",
    period: "Period",
    compared_with: "Compared with",
    generated: "Generated",
    key_figures: "Key figures",
    figure: "Figure",
    this_period: "Period",
    previous: "Before",
    change: "Change",
    revenue: "Revenue",
    sales: "Sales (finalised orders)",
    units_sold: "Units sold",
    average_order: "Average order value",
    orders_placed: "Orders placed",
    cancelled: "Cancelled orders",
    cancelled_value: "Cancelled value",
    sales_chart: "Revenue by day",
    sales_chart_week: "Revenue by week",
    chart_legend: "bars: the period; dashed line: the period before",
    top_products: "Top 10 products",
    product: "Product",
    units: "Units",
    no_sales: "No finalised orders in this period.",
    running_out: "Running out",
    running_out_help: "Active offers whose stock lasts under 7 days at the pace of the last 28 days.",
    stock: "Stock",
    per_day: "A day",
    days_left: "Days",
    none_running_out: "No offer runs out within 7 days.",
    sync_health: "Sync health",
    success_rate: "Syncs that succeeded",
    no_syncs: "no sync ended in the period",
    incidents: "Incidents (failed runs)",
    no_incidents: "No incident in the period.",
    last_syncs: "Last successful sync",
    page: "Page",
    separators: (',', '.'),
};

impl Words {
    pub fn of(locale: ReportLocale) -> &'static Words {
        match locale {
            ReportLocale::Ro => &RO,
            ReportLocale::En => &EN,
        }
    }

    /// `n` with thousands separated.
    pub fn count(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.separators.0);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// An amount with two decimals and its currency.
    pub fn money(&self, d: Decimal, currency: &str) -> String {
        let d = d.round_dp(2);
        let whole = d.trunc();
        let cents = ((d - whole).abs() * Decimal::from(100)).round();
        let whole = i64::try_from(whole.mantissa() / 10i128.pow(whole.scale())).unwrap_or(0);
        let sign = if d.is_sign_negative() && whole == 0 && !cents.is_zero() {
            "-"
        } else {
            ""
        };
        format!(
            "{sign}{}{}{cents:02} {currency}",
            self.count(whole),
            self.separators.1
        )
        .trim_end()
        .to_owned()
    }

    /// A number with one decimal.
    pub fn decimal(&self, v: f64) -> String {
        format!("{v:.1}").replace('.', &self.separators.1.to_string())
    }

    /// A change as a signed percentage with one decimal.
    pub fn percent(&self, ratio: f64) -> String {
        let sign = if ratio >= 0.0 { "+" } else { "" };
        format!("{sign}{}%", self.decimal(ratio * 100.0))
    }

    pub fn day(&self, d: chrono::NaiveDate) -> String {
        d.format("%d.%m.%Y").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_the_romanian_and_english_way() {
        let ro = Words::of(ReportLocale::Ro);
        let en = Words::of(ReportLocale::En);
        assert_eq!(ro.count(1_234_567), "1.234.567");
        assert_eq!(en.count(-1_234), "-1,234");
        let amount: Decimal = "12345.678".parse().expect("decimal");
        assert_eq!(ro.money(amount, "RON"), "12.345,68 RON");
        assert_eq!(en.money(amount, "RON"), "12,345.68 RON");
        assert_eq!(en.money("-0.5".parse().expect("d"), ""), "-0.50");
        assert_eq!(ro.percent(0.125), "+12,5%");
    }
}
