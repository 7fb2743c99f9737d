//! Sending one message over SMTP, one command at a time (lettre's connection), so a
//! refusal is known by the step it came at. Only the server's refusal of the recipient's
//! mailbox (550, 551 or 553 to `RCPT TO`) is about the address; a refused login,
//! STARTTLS, sender or message is about magflow's mail settings, and suppresses no one.

use std::time::Duration;

use lettre::{
    Message,
    address::Address,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::{Credentials, Mechanism},
        client::{AsyncSmtpConnection, TlsParameters},
        commands::{Data, Mail, Rcpt},
        extension::ClientId,
    },
};

use super::templates::Rendered;
use crate::config::SecretUrl;

const TIMEOUT: Duration = Duration::from_secs(30);

/// How one delivery ended.
#[derive(Debug)]
pub enum Delivery {
    Sent,
    /// The server refused this recipient's mailbox for good: do not try it again.
    Rejected(String),
    /// Not an address at all: counted as refused, suppressed nowhere.
    Invalid(String),
    /// Worth another try later (4xx, connection trouble).
    Deferred(String),
    /// The mail settings are wrong (login, TLS, sender, message): the run fails as
    /// `smtp_config` and no recipient is blamed.
    Config(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Security {
    Plain,
    /// STARTTLS, refusing a server without it (`?tls=starttls` or `?tls=required`).
    StartTls,
    /// STARTTLS when offered (`?tls=opportunistic`).
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
}

/// What is wrong with `MAGFLOW_SMTP_URL`: never the URL itself (it may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum SmtpUrlError {
    #[error("MAGFLOW_SMTP_URL: not a URL ({0})")]
    NotAUrl(url::ParseError),
    #[error("MAGFLOW_SMTP_URL: no host")]
    NoHost,
    #[error("MAGFLOW_SMTP_URL: use smtp://, smtp://…?tls=starttls or smtps://")]
    Scheme,
    #[error("MAGFLOW_SMTP_URL: the user or password is not valid UTF-8")]
    NotUtf8,
}

/// `MAGFLOW_SMTP_URL`, read: `smtp://[user:pass@]host:port` (plain),
/// `…?tls=starttls`, or `smtps://…` (TLS).
pub struct Smtp {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
}

impl Smtp {
    pub fn from_url(url: &SecretUrl) -> Result<Smtp, SmtpUrlError> {
        // Errors name the problem, never the URL (it may hold a password).
        let parsed = url::Url::parse(url.expose()).map_err(SmtpUrlError::NotAUrl)?;
        let host = parsed
            .host_str()
            .ok_or(SmtpUrlError::NoHost)?
            .trim_matches(['[', ']'])
            .to_owned();
        let tls_param = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (security, default_port) = match (parsed.scheme(), tls_param.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some("starttls" | "required")) => (Security::StartTls, 587),
            ("smtp", Some("opportunistic")) => (Security::Opportunistic, 587),
            ("smtps", None) => (Security::Wrapper, 465),
            _ => {
                return Err(SmtpUrlError::Scheme);
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| SmtpUrlError::NotUtf8)
        };
        let credentials = if parsed.username().is_empty() {
            None
        } else {
            Some(Credentials::new(
                decode(parsed.username())?,
                decode(parsed.password().unwrap_or_default())?,
            ))
        };
        Ok(Smtp {
            host,
            port: parsed.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }

    pub async fn send(&self, from: &Mailbox, to: &str, message: &Rendered) -> Delivery {
        let to: Mailbox = match to.parse() {
            Ok(m) => m,
            Err(e) => return Delivery::Invalid(format!("not an e-mail address: {e}")),
        };
        let address: Address = to.email.clone();
        let email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(body(message));
        let email = match email {
            Ok(e) => e.formatted(),
            Err(e) => return Delivery::Config(format!("cannot build the message: {e}")),
        };
        match self.deliver(from, address, &email).await {
            Ok(()) => Delivery::Sent,
            Err(d) => d,
        }
    }

    async fn deliver(&self, from: &Mailbox, to: Address, email: &[u8]) -> Result<(), Delivery> {
        let hello = ClientId::default();
        let tls = || {
            TlsParameters::new(self.host.clone())
                .map_err(|e| Delivery::Config(format!("TLS settings: {e}")))
        };
        let wrapper = match self.security {
            Security::Wrapper => Some(tls()?),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(TIMEOUT),
            &hello,
            wrapper,
            None,
        )
        .await
        .map_err(|e| at_connect("connecting", &e))?;
        let outcome = self.converse(&mut conn, &hello, from, to, email).await;
        if outcome.is_ok() {
            let _ = conn.quit().await;
        } else {
            conn.abort().await;
        }
        outcome
    }

    async fn converse(
        &self,
        conn: &mut AsyncSmtpConnection,
        hello: &ClientId,
        from: &Mailbox,
        to: Address,
        email: &[u8],
    ) -> Result<(), Delivery> {
        match self.security {
            Security::StartTls | Security::Opportunistic if conn.can_starttls() => {
                let params = TlsParameters::new(self.host.clone())
                    .map_err(|e| Delivery::Config(format!("TLS settings: {e}")))?;
                conn.starttls(params, hello)
                    .await
                    .map_err(|e| at_connect("STARTTLS", &e))?;
            }
            Security::StartTls => {
                return Err(Delivery::Config(
                    "the mail server does not offer STARTTLS, which MAGFLOW_SMTP_URL requires"
                        .into(),
                ));
            }
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| at_connect("the login", &e))?;
        }
        conn.command(Mail::new(Some(from.email.clone()), Vec::new()))
            .await
            .map_err(|e| at_connect("the sender (MAIL FROM)", &e))?;
        if let Err(e) = conn.command(Rcpt::new(to, Vec::new())).await {
            let code = e.status().map(u16::from);
            return Err(if e.is_transient() || !e.is_permanent() {
                Delivery::Deferred(e.to_string())
            } else if matches!(code, Some(550 | 551 | 553)) {
                Delivery::Rejected(e.to_string())
            } else {
                // 554 relay denied and the like: the server will not take mail from us.
                Delivery::Config(format!("the server refused the recipient step: {e}"))
            });
        }
        conn.command(Data)
            .await
            .map_err(|e| at_connect("DATA", &e))?;
        conn.message(email)
            .await
            .map_err(|e| at_connect("the message", &e))?;
        Ok(())
    }
}

/// A failure before the recipient was named: passing trouble, or the mail settings.
fn at_connect(step: &str, e: &lettre::transport::smtp::Error) -> Delivery {
    if e.is_permanent() || e.is_tls() {
        Delivery::Config(format!("the mail server refused {step}: {e}"))
    } else {
        Delivery::Deferred(format!("{step}: {e}"))
    }
}

/// The text and HTML alternatives, and the attachment after them if there is one.
fn body(message: &Rendered) -> MultiPart {
    let alternatives =
        MultiPart::alternative_plain_html(message.text.clone(), message.html.clone());
    let Some(file) = &message.attachment else {
        return alternatives;
    };
    let content_type = lettre::message::header::ContentType::parse(file.content_type)
        .unwrap_or(lettre::message::header::ContentType::TEXT_PLAIN);
    MultiPart::mixed().multipart(alternatives).singlepart(
        lettre::message::Attachment::new(file.name.clone()).body(file.bytes.clone(), content_type),
    )
}
