//! The domain's messages (a refused field, a bulk row's problem) in the console's
//! language. The domain writes English, as the API answers; `locales/messages.ro.json`
//! lists each message's shape, `{}` standing for what varies, with its Romanian, where
//! `{1}`, `{2}` put back what varied. The first shape that fits wins, so the specific
//! shapes come before the general ones. A message no shape fits stays as written (text
//! that comes from eMAG or a library is shown as it came).

use std::{borrow::Cow, sync::LazyLock};

use super::i18n::Locale;

struct Shape {
    /// The literal text around each `{}`.
    pieces: Vec<String>,
    romanian: String,
}

fn shapes() -> &'static [Shape] {
    static RO: LazyLock<Vec<Shape>> = LazyLock::new(|| {
        let pairs: Vec<(String, String)> =
            serde_json::from_str(include_str!("locales/messages.ro.json")).unwrap_or_default();
        pairs
            .into_iter()
            .map(|(english, romanian)| Shape {
                pieces: english.split("{}").map(str::to_owned).collect(),
                romanian,
            })
            .collect()
    });
    &RO
}

/// `message` in `locale`.
pub fn translate(locale: Locale, message: &str) -> Cow<'_, str> {
    if locale == Locale::En {
        return Cow::Borrowed(message);
    }
    if let Some(found) = romanian(message) {
        return Cow::Owned(found);
    }
    // "template.kind: unknown kind": a field named before the message.
    if let Some((field, rest)) = message.split_once(": ")
        && !field.contains(' ')
        && let Some(found) = romanian(rest)
    {
        return Cow::Owned(format!("{field}: {found}"));
    }
    Cow::Borrowed(message)
}

fn romanian(message: &str) -> Option<String> {
    shapes().iter().find_map(|shape| {
        let varied = fit(&shape.pieces, message)?;
        let mut out = shape.romanian.clone();
        for (i, v) in varied.iter().enumerate() {
            out = out.replace(&format!("{{{}}}", i + 1), v);
        }
        Some(out)
    })
}

/// What each `{}` of a shape stands for in `message`, if the message has that shape.
fn fit<'m>(pieces: &[String], message: &'m str) -> Option<Vec<&'m str>> {
    let (first, rest) = pieces.split_first()?;
    let Some((last, middle)) = rest.split_last() else {
        return (message == first).then(Vec::new);
    };
    let mut left = message.strip_prefix(first.as_str())?;
    let mut varied = Vec::with_capacity(pieces.len() - 1);
    for piece in middle {
        let at = left.find(piece.as_str()).filter(|_| !piece.is_empty())?;
        varied.push(&left[..at]);
        left = &left[at + piece.len()..];
    }
    varied.push(left.strip_suffix(last.as_str())?);
    varied.iter().all(|v| !v.is_empty()).then_some(varied)
}

#[cfg(test)]
mod tests {
    use jobs::schedules::builder::{Builder, Mode};
    use serde_json::json;

    use super::*;

    fn ro(message: &str) -> String {
        translate(Locale::Ro, message).into_owned()
    }

    #[test]
    fn every_shape_puts_back_all_it_takes() {
        assert!(shapes().len() > 50, "the catalogue loads");
        for shape in shapes() {
            let n = shape.pieces.len() - 1;
            for i in 1..=n {
                assert!(
                    shape.romanian.contains(&format!("{{{i}}}")),
                    "{:?} drops {{{i}}}",
                    shape.romanian
                );
            }
            assert!(
                !shape.romanian.contains(&format!("{{{}}}", n + 1)),
                "{:?} uses more than it takes",
                shape.romanian
            );
        }
    }

    #[test]
    fn fills_in_what_varied_and_keeps_the_rest() {
        assert_eq!(
            ro("must be between 0 and 59"),
            "trebuie să fie între 0 și 59"
        );
        assert_eq!(
            ro("offer 17 is already changed in row 3"),
            "oferta 17 este deja schimbată în rândul 3"
        );
        assert_eq!(
            ro("template.kind: unknown kind"),
            "template.kind: tip necunoscut"
        );
        assert_eq!(
            ro("eMAG said: Oferta nu există"),
            "eMAG said: Oferta nu există"
        );
        assert_eq!(
            translate(Locale::En, "must be at most 5"),
            "must be at most 5",
            "English stays"
        );
    }

    /// Messages as the domain writes them today: each has a Romanian shape.
    #[test]
    fn the_domains_messages_are_translated() {
        let mut messages = Vec::new();
        let weekly = Builder {
            mode: Mode::Weekly,
            days: vec![],
            ..Builder::default()
        };
        let every = Builder {
            mode: Mode::EveryMinutes,
            every: 7,
            ..Builder::default()
        };
        let monthly = Builder {
            mode: Mode::Monthly,
            day: 40,
            ..Builder::default()
        };
        for b in [weekly, every, monthly] {
            messages.push(b.to_cron().expect_err("refused").message);
        }
        for params in [
            json!({ "steps": "many" }),
            json!({ "stepz": 1 }),
            json!({ "steps": 0 }),
        ] {
            let refused = jobs::params::parse::<jobs::ping::PingParams>(&params)
                .and_then(|p| p.validate().map(|()| p))
                .expect_err("refused");
            messages.push(refused.message);
        }
        for csv in [&b"account,colour\n"[..], b"account,id\n", b"id\n1\n"] {
            let problems = jobs::bulk_update::input::from_csv(csv).expect_err("refused");
            messages.extend(problems.into_iter().map(|p| p.reason));
        }
        let orders = b"account,order_id,action,invoice_url,reason\n\
            main,x,fly,,\nmain,1,finalised,ftp://a/b.png,2\nmain,1,cancel,,99\nmain,1,cancel,,\n\
            main,1,finalised,,\nmain,1,prepared,https://a/b.pdf,\n";
        let mut items = jobs::bulk_update::input::from_csv(orders).expect("order items");
        assert_eq!(items.len(), 6);
        items.push(jobs::bulk_update::RawItem {
            row: 8,
            fields: vec![
                ("order_id".into(), jobs::bulk_update::Cell::Text("1".into())),
                (
                    "sale_price".into(),
                    jobs::bulk_update::Cell::Text("1".into()),
                ),
            ],
        });
        for item in items {
            let problems = jobs::bulk_update::order_plan::item_problems(&item);
            messages.extend(problems.into_iter().map(|p| p.reason));
        }
        for m in messages {
            assert_ne!(ro(&m), m, "no Romanian for {m:?}");
        }
    }
}
