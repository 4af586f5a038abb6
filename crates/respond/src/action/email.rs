//! The e-mail connector: one plain-text message per step through the configured SMTP
//! relay (`lettre`, blocking).
//!
//! - STARTTLS (required) by default, or TLS from the first byte; plain SMTP only to a
//!   loopback relay. Certificates verified as for HTTP (web PKI roots plus `ca_file`).
//! - SMTP AUTH from a secret holding `user:password`.
//! - The `Message-ID` is `<KEY@rampart>`, KEY the idempotency key: a message sent again
//!   after a crash is recognisably the same message.
//! - A transient (4xx) reply, a timeout or a broken connection may pass and is
//!   retried; a permanent (5xx) reply or a TLS failure fails the step.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};

use super::{Connector, HttpConfig, Outcome, OutcomeStatus, PreparedRequest, RequestDetail};
use super::{Secrets, SmtpConfig, SmtpTls};
use crate::RespondError;

/// The domain part of every `Message-ID`.
pub const MESSAGE_ID_DOMAIN: &str = "rampart";

/// Sends e-mail through one relay.
pub struct EmailConnector {
    config: SmtpConfig,
    tls: Option<TlsParameters>,
    secrets: Arc<Secrets>,
}

impl std::fmt::Debug for EmailConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConnector")
            .field("relay", &self.config.target())
            .field("tls", &self.config.tls)
            .finish_non_exhaustive()
    }
}

impl EmailConnector {
    /// A connector for `config`, trusting what `trust` says for TLS (its `ca_file`
    /// and `insecure`), putting in `secrets` when it sends.
    pub fn new(
        config: &SmtpConfig,
        trust: &HttpConfig,
        secrets: Arc<Secrets>,
    ) -> Result<EmailConnector, RespondError> {
        let bad = |message: String| RespondError::Config {
            message: format!("SMTP: {message}"),
        };
        config
            .from
            .parse::<Mailbox>()
            .map_err(|error| bad(format!("from {:?}: {error}", config.from)))?;
        let tls = match config.tls {
            SmtpTls::None => {
                if !is_loopback(&config.relay) {
                    return Err(bad(format!(
                        "plain SMTP to {} would send mail and credentials in clear; \
                         only a loopback relay may use tls: none",
                        config.relay
                    )));
                }
                None
            }
            SmtpTls::Starttls | SmtpTls::Tls => {
                let mut builder = TlsParameters::builder(config.relay.clone())
                    .certificate_store(CertificateStore::WebpkiRoots)
                    .dangerous_accept_invalid_certs(trust.insecure);
                if let Some(path) = &trust.ca_file {
                    let pem = std::fs::read(path).map_err(|source| RespondError::ReadConfig {
                        path: path.clone(),
                        source,
                    })?;
                    let certificate = Certificate::from_pem(&pem)
                        .map_err(|error| bad(format!("CA file {}: {error}", path.display())))?;
                    builder = builder.add_root_certificate(certificate);
                }
                Some(
                    builder
                        .build_rustls()
                        .map_err(|error| bad(error.to_string()))?,
                )
            }
        };
        Ok(EmailConnector {
            config: config.clone(),
            tls,
            secrets,
        })
    }

    fn attempt(&self, request: &PreparedRequest, timeout: Duration) -> Result<Outcome, String> {
        let message = message(request)?;
        let mut builder = SmtpTransport::builder_dangerous(self.config.relay.clone())
            .port(self.config.port())
            .timeout(Some(timeout));
        builder = match (&self.tls, self.config.tls) {
            (Some(params), SmtpTls::Tls) => builder.tls(Tls::Wrapper(params.clone())),
            (Some(params), _) => builder.tls(Tls::Required(params.clone())),
            (None, _) => builder.tls(Tls::None),
        };
        if let Some(name) = &self.config.auth_secret {
            let value = self
                .secrets
                .get(name)
                .ok_or_else(|| format!("secret {name:?} is not defined"))?;
            let (user, password) = value
                .split_once(':')
                .ok_or_else(|| format!("secret {name:?} is not user:password"))?;
            builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
        }
        let transport = builder.build();
        Ok(match transport.send(&message) {
            Ok(response) => Outcome {
                status: OutcomeStatus::Done,
                summary: format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                ),
                response: None,
                retry_after: None,
            },
            Err(error) => {
                let tls = error.is_tls() || super::http::caused_by_tls(&error);
                let again = error.is_transient()
                    || error.is_timeout()
                    || (!error.is_permanent() && !tls && !error.is_client());
                Outcome {
                    status: if again {
                        OutcomeStatus::Retry
                    } else {
                        OutcomeStatus::Failed
                    },
                    summary: rampart_event::error_chain(&error),
                    response: None,
                    retry_after: None,
                }
            }
        })
    }
}

impl Connector for EmailConnector {
    fn send(&self, request: &PreparedRequest, timeout: Duration) -> Outcome {
        let outcome = self
            .attempt(request, timeout)
            .unwrap_or_else(|message| Outcome {
                status: OutcomeStatus::Failed,
                summary: message,
                response: None,
                retry_after: None,
            });
        Outcome {
            summary: self.secrets.redact(&outcome.summary),
            ..outcome
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The `Message-ID` of a request: `<KEY@rampart>`.
pub fn message_id(idempotency_key: &str) -> String {
    format!("<{idempotency_key}@{MESSAGE_ID_DOMAIN}>")
}

/// The message of an e-mail request.
fn message(request: &PreparedRequest) -> Result<Message, String> {
    let RequestDetail::Email {
        from,
        to,
        subject,
        body,
    } = &request.detail
    else {
        return Err("not an e-mail request".to_owned());
    };
    let mut builder = Message::builder()
        .from(
            from.parse::<Mailbox>()
                .map_err(|error| format!("from {from:?}: {error}"))?,
        )
        .subject(subject)
        .message_id(Some(message_id(&request.idempotency_key)));
    for recipient in to {
        builder = builder.to(recipient
            .parse::<Mailbox>()
            .map_err(|error| format!("recipient {recipient:?}: {error}"))?);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(body.clone())
        .map_err(|error| error.to_string())
}

/// The SMTP envelope and the message as it would go over the wire (for a dry run).
pub(crate) fn envelope_and_message(request: &PreparedRequest) -> String {
    match message(request) {
        Err(error) => format!("(cannot build the message: {error})\n"),
        Ok(message) => {
            let envelope = message.envelope();
            let mut out = String::new();
            if let Some(from) = envelope.from() {
                out.push_str(&format!("MAIL FROM:<{from}>\n"));
            }
            for to in envelope.to() {
                out.push_str(&format!("RCPT TO:<{to}>\n"));
            }
            out.push_str("DATA\n");
            out.push_str(&String::from_utf8_lossy(&message.formatted()).replace("\r\n", "\n"));
            out.push('\n');
            out
        }
    }
}
