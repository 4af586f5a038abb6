//! The connectors' configuration, the registry the engine prepares and sends through,
//! and the dry-run rendering of a prepared request.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::command::CommandConnector;
use super::email::EmailConnector;
use super::http::HttpConnector;
use super::template::{fill_secrets, SecretForm};
use super::{Connector, ConnectorKind, Outcome, OutcomeStatus, PreparedRequest, RenderContext};
use super::{RequestDetail, Secrets, IDEMPOTENCY_ENV};
use crate::playbook::ActionSpec;
use crate::RespondError;

/// What the connectors need besides a playbook: where secrets are, TLS trust, the SMTP
/// relay, the command allow-list. Read from the responder's configuration file:
///
/// ```yaml
/// secrets_file: /etc/rampart/secrets.yml     # owner-only; name: value
/// http:
///   ca_file: /etc/rampart/private-ca.pem     # trusted besides the web PKI roots
/// smtp:
///   relay: mail.corp.example
///   from: Rampart <rampart@corp.example>
///   tls: starttls                            # or tls; none only to a loopback relay
///   auth_secret: smtp                        # a secret holding user:password
/// commands:                                  # the allow-list: name → absolute path
///   edr-isolate: /opt/edr/bin/isolate
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// The secrets file (YAML `name: value`, owner-only); `RAMPART_SECRET_<NAME>`
    /// variables add to it and win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_file: Option<PathBuf>,
    /// HTTP(S).
    #[serde(default)]
    pub http: HttpConfig,
    /// The SMTP relay; without it e-mail steps fail to prepare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    /// The command allow-list: name a playbook uses → absolute program path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, PathBuf>,
}

/// HTTP(S) settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM CA certificates trusted besides the web PKI's roots (a private CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. Never the default; only for a lab.
    #[serde(default)]
    pub insecure: bool,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP, then STARTTLS, required (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// No TLS at all (port 25 by default): only to a loopback relay.
    None,
}

/// The SMTP relay e-mail steps go through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name or address.
    pub relay: String,
    /// Port; by default 587, 465 or 25 after `tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The sender address.
    pub from: String,
    /// Connection protection.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A secret holding `user:password` for SMTP AUTH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret: Option<String>,
}

impl SmtpConfig {
    /// The port used.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }

    /// `smtp://relay:port`, what concurrency limits count against.
    pub fn target(&self) -> String {
        format!("smtp://{}:{}", self.relay, self.port())
    }
}

/// Every connector, built from one [`ConnectorConfig`]: the engine prepares a step
/// and sends it through here.
#[derive(Debug)]
pub struct Connectors {
    config: ConnectorConfig,
    secrets: Arc<Secrets>,
    http: HttpConnector,
    email: Option<EmailConnector>,
    command: CommandConnector,
}

impl Connectors {
    /// The connectors of `config`, with `secrets` (see [`Secrets::load`]).
    pub fn new(config: ConnectorConfig, secrets: Secrets) -> Result<Connectors, RespondError> {
        let secrets = Arc::new(secrets);
        let http = HttpConnector::new(&config.http, Arc::clone(&secrets))?;
        let email = match &config.smtp {
            None => None,
            Some(smtp) => Some(EmailConnector::new(
                smtp,
                &config.http,
                Arc::clone(&secrets),
            )?),
        };
        let command = CommandConnector::new(&config.commands, Arc::clone(&secrets))?;
        Ok(Connectors {
            config,
            secrets,
            http,
            email,
            command,
        })
    }

    /// The connectors of `config`, with the secrets of its secrets file and of this
    /// process's `RAMPART_SECRET_*` variables.
    pub fn from_config(config: ConnectorConfig) -> Result<Connectors, RespondError> {
        let secrets = Secrets::load(config.secrets_file.as_deref(), std::env::vars())?;
        Connectors::new(config, secrets)
    }

    /// The configuration.
    pub fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    /// The secrets (for redaction).
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Prepares step `step` of playbook `playbook` (see [`super::prepare()`]).
    pub fn prepare(
        &self,
        playbook: &str,
        step: &str,
        action: &ActionSpec,
        context: &RenderContext,
    ) -> Result<PreparedRequest, RespondError> {
        super::prepare(playbook, step, action, context, &self.config)
    }

    /// `text` with every secret redacted.
    pub fn redact(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    /// The request as it would be sent, secrets redacted (see [`dry_run`]); a command
    /// is shown with the program path its allow-list entry names.
    pub fn dry_run(&self, request: &PreparedRequest) -> String {
        let shown = dry_run(request, &self.secrets);
        match &request.detail {
            RequestDetail::Command { program, .. } => match self.config.commands.get(program) {
                Some(path) => shown.replacen(
                    &format!("exec {program}\n"),
                    &format!("exec {program} = {}\n", path.display()),
                    1,
                ),
                None => shown,
            },
            _ => shown,
        }
    }

    /// The connector of `kind`, when configured.
    pub fn connector(&self, kind: ConnectorKind) -> Option<&dyn Connector> {
        match kind {
            ConnectorKind::Http => Some(&self.http),
            ConnectorKind::Email => self.email.as_ref().map(|email| email as &dyn Connector),
            ConnectorKind::Command => Some(&self.command),
        }
    }
}

impl Connector for Connectors {
    fn send(&self, request: &PreparedRequest, timeout: Duration) -> Outcome {
        match self.connector(request.connector) {
            Some(connector) => connector.send(request, timeout),
            None => Outcome {
                status: OutcomeStatus::Failed,
                summary: "no SMTP relay is configured".to_owned(),
                response: None,
                retry_after: None,
            },
        }
    }
}

/// `request` as it would be sent, with every secret shown as `[secret:NAME]`: an HTTP
/// request line, headers and body; an e-mail's envelope and message; a command's
/// program, argument vector (each argument quoted) and environment. The text holds
/// event values as they are: a terminal shows it through `event::terminal`.
pub fn dry_run(request: &PreparedRequest, secrets: &Secrets) -> String {
    // Each secret is filled in and then redacted, so that what is shown is what the
    // redaction of the real request would give; an undefined one is named as such.
    let show = |text: &str| {
        let filled = fill_secrets(text, |form, name| {
            Ok(match (secrets.get(name), form) {
                (Some(_), _) => format!("[secret:{}]", name.to_ascii_lowercase()),
                (None, SecretForm::Plain | SecretForm::Basic) => {
                    format!("[secret:{name} is not defined]")
                }
            })
        })
        .unwrap_or_else(|message| message);
        secrets.redact(&filled)
    };
    let mut out = String::new();
    match &request.detail {
        RequestDetail::Http {
            method,
            url,
            headers,
            body,
        } => {
            out.push_str(&format!("{method} {} HTTP/1.1\n", show(url)));
            for (name, value) in headers {
                out.push_str(&format!("{name}: {}\n", show(value)));
            }
            if let Some(body) = body {
                // A body is sent as prepared, never filled: text in it that reads like a
                // reference (from an event) is shown as the text it is.
                out.push_str(&format!("Content-Length: {}\n\n", body.len()));
                out.push_str(&secrets.redact(body));
                out.push('\n');
            }
        }
        RequestDetail::Email { .. } => {
            out.push_str(&format!("SMTP {}\n", request.target));
            out.push_str(&secrets.redact(&super::email::envelope_and_message(request)));
        }
        RequestDetail::Command { program, args } => {
            out.push_str(&format!("exec {program}\n"));
            for (n, arg) in args.iter().enumerate() {
                out.push_str(&format!(
                    "argv[{}] = {}\n",
                    n + 1,
                    secrets.redact(&format!("{arg:?}"))
                ));
            }
            out.push_str(&format!(
                "env {IDEMPOTENCY_ENV}={} PATH={}\n",
                request.idempotency_key,
                super::command::COMMAND_PATH
            ));
            out.push_str("stdin /dev/null\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_documented_configuration_reads() {
        let text = r#"
secrets_file: /etc/rampart/secrets.yml
http:
  ca_file: /etc/rampart/private-ca.pem
smtp:
  relay: mail.corp.example
  from: Rampart <rampart@corp.example>
  tls: starttls
  auth_secret: smtp
commands:
  edr-isolate: /opt/edr/bin/isolate
"#;
        let config: ConnectorConfig = serde_yaml::from_str(text).unwrap();
        let smtp = config.smtp.as_ref().unwrap();
        assert_eq!(smtp.target(), "smtp://mail.corp.example:587");
        assert!(!config.http.insecure);
        assert_eq!(
            config.commands["edr-isolate"],
            PathBuf::from("/opt/edr/bin/isolate")
        );
        assert!(serde_yaml::from_str::<ConnectorConfig>("http: { verify: false }").is_err());
    }
}
