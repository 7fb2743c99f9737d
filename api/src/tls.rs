//! Optional HTTPS (`MAGFLOW_TLS_CERT`, `MAGFLOW_TLS_KEY`): rustls with ring, like the
//! rest of magflow. poem's own `rustls` feature would pull a second crypto provider
//! (aws-lc) through tokio-rustls' defaults, so the acceptor is ours: TLS handshakes run
//! on tasks of their own, so a slow or silent client never holds up the next connection.

use std::{path::Path, sync::Arc, time::Duration};

use poem::{
    http::uri::Scheme,
    listener::{Acceptor, TcpAcceptor},
    web::{LocalAddr, RemoteAddr},
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{net::TcpStream, sync::mpsc};
use tokio_rustls::{TlsAcceptor as Handshaker, rustls::ServerConfig, server::TlsStream};
use tokio_util::task::AbortOnDropHandle;

/// A client has this long to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS handshakes in progress at once; a connection past this is closed unanswered.
const MAX_HANDSHAKES: usize = 256;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("MAGFLOW_TLS_CERT: cannot read a PEM certificate chain from {path}: {reason}")]
    Cert { path: String, reason: String },
    #[error("MAGFLOW_TLS_KEY: cannot read a PEM private key from {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("MAGFLOW_TLS_CERT/MAGFLOW_TLS_KEY: the key does not fit the certificate: {0}")]
    Mismatch(String),
}

/// The server's TLS settings from a PEM chain and key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let shown = |p: &Path| p.display().to_string();
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert {
            path: shown(cert),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Cert {
            path: shown(cert),
            reason: "no certificate in the file".into(),
        });
    }
    // The error names the file, never its contents.
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: shown(key),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Mismatch(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsError::Mismatch(e.to_string()))?;
    // HTTP/2 when the client offers it: the body limits hold on both (see body_limit).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

type Accepted = (TlsStream<TcpStream>, LocalAddr, RemoteAddr);

/// Accepts TCP connections and hands poem only those whose handshake succeeded.
pub struct TlsAcceptor {
    local: Vec<LocalAddr>,
    ready: mpsc::Receiver<Accepted>,
    _accepting: AbortOnDropHandle<()>,
}

impl TlsAcceptor {
    pub fn new(mut tcp: TcpAcceptor, config: Arc<ServerConfig>) -> TlsAcceptor {
        let local = tcp.local_addr();
        let (tx, ready) = mpsc::channel(64);
        let handshaker = Handshaker::from(config);
        let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, local, remote, _) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                // A flood of half-open handshakes costs a task and a buffer each: past the
                // cap, new connections are closed at once.
                let Ok(turn) = handshakes.clone().try_acquire_owned() else {
                    tracing::debug!("too many TLS handshakes in progress; connection closed");
                    drop(stream);
                    continue;
                };
                let (tx, handshaker) = (tx.clone(), handshaker.clone());
                tokio::spawn(async move {
                    let _turn = turn;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshaker.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, local, remote)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        TlsAcceptor {
            local,
            ready,
            _accepting: AbortOnDropHandle::new(accepting),
        }
    }
}

impl Acceptor for TlsAcceptor {
    type Io = TlsStream<TcpStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.local.clone()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        match self.ready.recv().await {
            Some((io, local, remote)) => Ok((io, local, remote, Scheme::HTTPS)),
            None => Err(std::io::Error::other("the TLS acceptor stopped")),
        }
    }
}
