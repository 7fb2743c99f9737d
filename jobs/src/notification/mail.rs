//! Sending one message over SMTP with lettre.

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

use super::templates::Rendered;
use crate::config::SecretUrl;

/// How one delivery ended.
#[derive(Debug)]
pub enum Delivery {
    Sent,
    /// The server refused this recipient for good (5xx): do not try again.
    Rejected(String),
    /// Worth another try later (4xx, connection trouble).
    Deferred(String),
}

/// The transport for `MAGFLOW_SMTP_URL`. `?tls=starttls` is accepted as lettre's
/// `tls=required` (STARTTLS, refusing a server without it).
pub fn transport(url: &SecretUrl) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let url = url.expose().replace("tls=starttls", "tls=required");
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map(|b| b.timeout(Some(std::time::Duration::from_secs(30))).build())
        // lettre's error names the problem, never the URL's password.
        .map_err(|e| format!("MAGFLOW_SMTP_URL: {e}"))
}

pub async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    to: &str,
    message: &Rendered,
) -> Delivery {
    let to: Mailbox = match to.parse() {
        Ok(m) => m,
        Err(e) => return Delivery::Rejected(format!("not an e-mail address: {e}")),
    };
    let email = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            message.html.clone(),
        ));
    let email = match email {
        Ok(e) => e,
        Err(e) => return Delivery::Rejected(format!("cannot build the message: {e}")),
    };
    match transport.send(email).await {
        Ok(_) => Delivery::Sent,
        Err(e) if e.is_permanent() => Delivery::Rejected(e.to_string()),
        Err(e) => Delivery::Deferred(e.to_string()),
    }
}
