//! A real SMTP server for tests (mailin, a protocol implementation, not a mock of the
//! client): it records what arrives and can be told to answer slowly, with 4xx or with
//! 5xx, so tests see the mailer's real behaviour on the wire.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mailin_embedded::response::{NO_MAILBOX, OK};
use mailin_embedded::{Handler, Response, Server};

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Accept,
    /// Waits this long before answering the end of each message, then accepts it.
    Slow(Duration),
    /// 451 for every recipient.
    Transient,
    /// 550 for every recipient.
    Permanent,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    fn parsed(&self) -> mail_parser::Message<'_> {
        match mail_parser::MessageParser::default().parse(&self.data) {
            Some(m) => m,
            None => panic!("the server received something that is not an email"),
        }
    }

    /// A header's raw value, trimmed (`None` when absent).
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_owned())
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The decoded text part.
    pub fn text(&self) -> String {
        self.parsed().body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    /// The decoded HTML part.
    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|t| t.into_owned()).unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    mode: Mode,
    received: Vec<Received>,
    /// Messages answered with an error, by mode.
    refused: usize,
}

#[derive(Clone)]
struct Recorder {
    state: Arc<Mutex<State>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Handler for Recorder {
    fn rcpt(&mut self, _to: &str) -> Response {
        let mut state = lock(&self.state);
        match state.mode {
            Mode::Permanent => {
                state.refused += 1;
                NO_MAILBOX
            }
            // mailin keeps a session in its data state after an error at the end of the
            // data, so the 4xx comes where greylisting puts it: at the recipient.
            Mode::Transient => {
                state.refused += 1;
                Response::custom(451, "4.7.1 Greylisted, try again later".into())
            }
            Mode::Accept | Mode::Slow(_) => OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::START_DATA
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mode = lock(&self.state).mode;
        if let Mode::Slow(wait) = mode {
            std::thread::sleep(wait);
        }
        let mail = Received { from: self.from.clone(), to: self.to.clone(), data: std::mem::take(&mut self.data) };
        lock(&self.state).received.push(mail);
        OK
    }
}

/// A running server on a free loopback port; it lives until the test process ends.
#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// On a given port (to bring a server up where a mailer already points).
    pub fn start_on(port: u16) -> Self {
        let listener = match TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => l,
            Err(e) => panic!("cannot bind the test SMTP server: {e}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let state = Arc::new(Mutex::new(State::default()));
        let recorder = Recorder { state: state.clone(), from: String::new(), to: Vec::new(), data: Vec::new() };
        let mut server = Server::new(recorder);
        server.with_name("smtp.test").with_num_threads(32).with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, state }
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).mode = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    pub fn received_count(&self) -> usize {
        lock(&self.state).received.len()
    }

    /// Messages refused with a 4xx or 5xx answer.
    pub fn refused_count(&self) -> usize {
        lock(&self.state).refused
    }

    /// Waits until at least `n` messages arrived, or `within` passed; returns what arrived.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = std::time::Instant::now() + within;
        while self.received_count() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.received()
    }
}
