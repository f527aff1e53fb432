//! Our own pool of SMTP connections. lettre's pooled transport (0.11) leaves Nagle's
//! algorithm on and sends a NOOP on every checkout, which holds a loopback connection to
//! about 22 messages a second (PERFORMANCE.md); here each connection is a TCP_NODELAY
//! socket handed to lettre, reused while healthy and dropped after any error.

use std::sync::Mutex;
use std::time::Duration;

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::Error;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use tidings_core::deliveries::Outcome;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::email::{OutgoingEmail, Security, SmtpConfig};

pub struct SmtpMailer {
    config: SmtpConfig,
    idle: Mutex<Vec<Connection>>,
    slots: Semaphore,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("host", &self.config.host).field("port", &self.config.port).finish()
    }
}

impl SmtpMailer {
    pub fn new(config: SmtpConfig) -> Self {
        let slots = Semaphore::new(config.connections.max(1));
        Self { config, idle: Mutex::new(Vec::new()), slots }
    }

    /// Sends one email. A refused connection or a 4xx answer is transient; a 5xx answer
    /// is permanent; a connection that breaks once the message is being handed over
    /// leaves the outcome unknown (it may have arrived).
    pub async fn send(&self, email: OutgoingEmail) -> Outcome {
        let provider_id = email.message_id.clone();
        let message = match email.to_message() {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(e.to_string()),
        };
        let Ok(_slot) = self.slots.acquire().await else {
            return Outcome::Transient("the mailer is shutting down".into());
        };
        let pooled = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let timeout = Duration::from_secs(self.config.timeout_secs.max(1));
        let mut connection = match pooled {
            Some(c) => c,
            // The greeting, EHLO, STARTTLS and AUTH each wait on the server: one deadline
            // for all of them, so a server that accepts and then says nothing cannot hold
            // a connection slot (and the worker's round) forever.
            None => match tokio::time::timeout(timeout, self.connect()).await {
                Ok(Ok(c)) => c,
                // The server's outage, not the recipient's failure.
                Ok(Err(e)) => {
                    let reason = format!("cannot connect to {}:{}: {e}", self.config.host, self.config.port);
                    return Outcome::ProviderDown { reason, retry_after_ms: 0 };
                }
                Err(_) => {
                    let reason = format!(
                        "no greeting from {}:{} within {} s",
                        self.config.host,
                        self.config.port,
                        timeout.as_secs()
                    );
                    return Outcome::ProviderDown { reason, retry_after_ms: 0 };
                }
            },
        };
        let sent = tokio::time::timeout(timeout, connection.transfer(message.envelope(), &message.formatted())).await;
        match sent {
            Ok(Ok(_)) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(connection);
                }
                Outcome::Sent { provider_id: Some(provider_id) }
            }
            Ok(Err(e)) if e.is_permanent() => Outcome::Permanent(describe(&e)),
            Ok(Err(e)) if e.is_transient() => Outcome::Transient(describe(&e)),
            Ok(Err(e)) => Outcome::Unknown(format!("the connection failed during the send: {e}")),
            Err(_) => {
                connection.inner.abort().await;
                Outcome::Unknown(format!("no answer within {} s during the send", timeout.as_secs()))
            }
        }
    }

    async fn connect(&self) -> Result<Connection, String> {
        let c = &self.config;
        let hello = ClientId::Domain(c.hello_name.clone());
        let timeout = Duration::from_secs(c.timeout_secs.max(1));
        let mut connection = match c.security {
            Security::Tls => {
                let tls = TlsParameters::new(c.host.clone()).map_err(|e| e.to_string())?;
                AsyncSmtpConnection::connect_tokio1((c.host.as_str(), c.port), Some(timeout), &hello, Some(tls), None)
                    .await
                    .map_err(|e| e.to_string())?
            }
            Security::None | Security::StartTls => {
                let stream = tokio::time::timeout(timeout, TcpStream::connect((c.host.as_str(), c.port)))
                    .await
                    .map_err(|_| format!("no connection within {} s", timeout.as_secs()))?
                    .map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                    .await
                    .map_err(|e| e.to_string())?;
                if c.security == Security::StartTls {
                    let tls = TlsParameters::new(c.host.clone()).map_err(|e| e.to_string())?;
                    connection.starttls(tls, &hello).await.map_err(|e| e.to_string())?;
                }
                connection
            }
        };
        // lettre does not keep PIPELINING from its own EHLO; asking again is allowed at any
        // point outside a mail transaction, and must come before AUTH, which some servers
        // forget on a new EHLO.
        let ehlo = connection.command(Ehlo::new(hello)).await.map_err(|e| e.to_string())?;
        let pipelining = ehlo.message().any(|line| {
            line.split_whitespace().next().is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
        });
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &Credentials::new(user.clone(), password.clone()))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Connection { inner: connection, pipelining })
    }

    /// Closes idle connections politely, waiting at most the configured time for each.
    pub async fn close(&self) {
        let idle: Vec<Connection> = self.idle.lock().map(|mut i| i.drain(..).collect()).unwrap_or_default();
        let timeout = Duration::from_secs(self.config.timeout_secs.max(1));
        for mut c in idle {
            let _ = tokio::time::timeout(timeout, c.inner.quit()).await;
        }
    }
}

struct Connection {
    inner: AsyncSmtpConnection,
    /// The server announced PIPELINING (RFC 2920).
    pipelining: bool,
}

impl Connection {
    /// Hands one message over. Where the server pipelines, MAIL, RCPT and DATA go out in
    /// one write and their three answers are read after it: one round trip instead of
    /// three, which on a fast link is most of what an email costs both ends.
    async fn transfer(&mut self, envelope: &Envelope, email: &[u8]) -> Result<Response, Error> {
        let [recipient] = envelope.to() else {
            return self.inner.send(envelope, email).await;
        };
        // Anything needing SMTPUTF8 or 8BITMIME goes the way lettre checks for them.
        let ascii = |address: &Address| AsRef::<str>::as_ref(address).is_ascii();
        let ascii_addresses = ascii(recipient) && envelope.from().is_none_or(ascii);
        if !self.pipelining || !ascii_addresses || !email.is_ascii() {
            return self.inner.send(envelope, email).await;
        }
        let mail = Mail::new(envelope.from().cloned(), Vec::new());
        let rcpt = Rcpt::new(recipient.clone(), Vec::new());
        // `command` writes all three and reads the first answer; the other two wait in
        // the connection's read buffer.
        let mail_answer = self.inner.command(format!("{mail}{rcpt}{Data}")).await;
        if let Err(e) = &mail_answer
            && e.status().is_none()
        {
            return mail_answer;
        }
        let rcpt_answer = self.inner.read_response().await;
        let data_answer = self.inner.read_response().await;
        match (mail_answer, rcpt_answer, data_answer) {
            (Ok(_), Ok(_), Ok(_)) => self.inner.message(email).await,
            // The server refused the transaction: its first refusal says why. A server
            // that still took DATA now waits for a message, so the caller's dropping the
            // connection (as after any error) is what ends it.
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        }
    }
}

fn describe(e: &Error) -> String {
    match e.status() {
        Some(code) => format!("the server answered {code}: {e}"),
        None => e.to_string(),
    }
}
