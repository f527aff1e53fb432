//! A mail catcher: a real SMTP server on a loopback port (mailin's protocol state
//! machine) that keeps what arrives instead of delivering it, like Mailpit. The demo sends
//! its email there when no SMTP server is configured, and the console shows what it
//! caught; tests use it as the mailer's real peer on the wire, and can make it answer
//! slowly, with 4xx or with 5xx. It announces PIPELINING (RFC 2920) unless started
//! without, and like a real server it sends the answers to pipelined commands together,
//! only flushing once it has read all the input it has.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mailin::response::{NO_MAILBOX, OK, START_DATA};
use mailin::{Action, Handler, Response, SessionBuilder};

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
    /// 1 for the first message caught, counting up.
    pub number: u64,
    /// Milliseconds since the Unix epoch.
    pub received_at: i64,
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

    /// The `To` header as written (name and address).
    pub fn to_header(&self) -> String {
        self.header("To").unwrap_or_else(|| self.to.join(", "))
    }

    /// The decoded HTML part.
    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|t| t.into_owned()).unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    mode: Mode,
    /// Oldest first; at most `keep` of them.
    received: VecDeque<Received>,
    /// How many messages are kept (the oldest go first); `None` keeps all.
    keep: Option<usize>,
    caught: u64,
    /// Messages answered with an error, by mode.
    refused: usize,
    /// MAIL commands that arrived with more commands behind them (pipelined).
    pipelined: usize,
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
        START_DATA
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
        let received_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut state = lock(&self.state);
        state.caught += 1;
        let mail = Received {
            number: state.caught,
            received_at,
            from: self.from.clone(),
            to: self.to.clone(),
            data: std::mem::take(&mut self.data),
        };
        state.received.push_back(mail);
        if state.keep.is_some_and(|keep| state.received.len() > keep) {
            state.received.pop_front();
        }
        OK
    }
}

/// A running server on a loopback port; it lives until the process ends.
#[derive(Clone)]
pub struct MailCatcher {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl MailCatcher {
    pub fn start() -> Self {
        Self::start_with(0, true)
    }

    /// On a given port (to bring a server up where a mailer already points).
    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, true)
    }

    /// A server that does not announce PIPELINING, as many small relays do not.
    pub fn start_without_pipelining() -> Self {
        Self::start_with(0, false)
    }

    /// For the demo: on a free loopback port, keeping the latest `keep` messages.
    pub fn for_demo(keep: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        Ok(Self::serve(listener, true, Some(keep)))
    }

    fn start_with(port: u16, pipelining: bool) -> Self {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => Self::serve(listener, pipelining, None),
            Err(e) => panic!("cannot bind the test SMTP server: {e}"),
        }
    }

    fn serve(listener: TcpListener, pipelining: bool, keep: Option<usize>) -> Self {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let state = Arc::new(Mutex::new(State { keep, ..State::default() }));
        let recorder = Recorder { state: state.clone(), from: String::new(), to: Vec::new(), data: Vec::new() };
        std::thread::spawn(move || {
            let sessions = SessionBuilder::new("catcher.tidings.localhost");
            for stream in listener.incoming().flatten() {
                let (sessions, recorder) = (sessions.clone(), recorder.clone());
                std::thread::spawn(move || converse(stream, &sessions, recorder, pipelining));
            }
        });
        Self { port, state }
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).mode = mode;
    }

    /// What is kept, oldest first.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.iter().cloned().collect()
    }

    /// The kept message numbered `number`.
    pub fn get(&self, number: u64) -> Option<Received> {
        lock(&self.state).received.iter().find(|r| r.number == number).cloned()
    }

    /// How many messages arrived since the start, kept or not.
    pub fn received_count(&self) -> usize {
        usize::try_from(lock(&self.state).caught).unwrap_or(usize::MAX)
    }

    /// Messages refused with a 4xx or 5xx answer.
    pub fn refused_count(&self) -> usize {
        lock(&self.state).refused
    }

    /// Transactions whose MAIL command came pipelined with the ones after it.
    pub fn pipelined_count(&self) -> usize {
        lock(&self.state).pipelined
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

/// One client connection, until it quits or goes away.
fn converse(stream: TcpStream, sessions: &SessionBuilder, recorder: Recorder, pipelining: bool) -> std::io::Result<()> {
    let remote = stream.peer_addr()?.ip();
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    let state = recorder.state.clone();
    let mut session = sessions.build(remote, recorder);
    session.greeting().write_to(&mut writer)?;
    writer.flush()?;
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.get(..5).is_some_and(|verb| verb.eq_ignore_ascii_case(b"MAIL ")) && !reader.buffer().is_empty() {
            lock(&state).pipelined += 1;
        }
        let response = session.process(&line);
        if response.action == Action::NoReply {
            continue;
        }
        let mut answer = Vec::new();
        response.write_to(&mut answer)?;
        if pipelining && line.get(..4).is_some_and(|verb| verb.eq_ignore_ascii_case(b"EHLO")) {
            announce_pipelining(&mut answer, &response);
        }
        writer.write_all(&answer)?;
        if reader.buffer().is_empty() || response.action != Action::Reply {
            writer.flush()?;
        }
        if response.action != Action::Reply {
            return Ok(());
        }
    }
}

/// Adds `PIPELINING` to a multi-line EHLO answer (mailin's own list is fixed).
fn announce_pipelining(answer: &mut Vec<u8>, response: &Response) {
    let first_line_end = answer.windows(2).position(|w| w == b"\r\n").map(|i| i + 2);
    if let (Some(end), true) = (first_line_end, response.code == 250 && answer.get(3) == Some(&b'-')) {
        answer.splice(end..end, b"250-PIPELINING\r\n".iter().copied());
    }
}
