//! CSV downloads, streamed to the browser in chunks as the rows are written: from the
//! app's synchronous CSV writers (the directory, read a page at a time) or from an export
//! that sends its chunks itself (the acknowledgment evidence).

use std::future::Future;
use std::io::Write;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

const CHUNK: usize = 64 * 1024;

/// Hands what is written on to the response in chunks of about 64 KiB.
pub struct Chunks {
    buf: Vec<u8>,
    out: UnboundedSender<Result<Vec<u8>, std::io::Error>>,
}

impl Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.out.send(Ok(chunk)).map_err(|_| std::io::Error::other("the download was abandoned"))?;
        }
        Ok(())
    }
}

/// A CSV attachment whose body `write` produces.
pub fn csv<F, Fut>(filename: &str, write: F) -> Response
where
    F: FnOnce(Chunks) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, tidings_app::AppError>> + Send + 'static,
{
    let (sender, receiver) = unbounded_channel();
    let chunks = Chunks { buf: Vec::with_capacity(CHUNK), out: sender.clone() };
    tokio::spawn(async move {
        if let Err(e) = write(chunks).await {
            tracing::error!(error = %e, "a CSV download failed");
            let _ = sender.send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body =
        Body::from_stream(futures_util::stream::unfold(
            receiver,
            |mut r| async move { r.recv().await.map(|c| (c, r)) },
        ));
    attachment(filename, body)
}

/// A CSV attachment whose body is the chunks an app export sends (the acknowledgment
/// evidence), for the console and the API alike.
pub(crate) fn chunks<E>(filename: &str, receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, E>>) -> Response
where
    E: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    let chunks = futures_util::stream::unfold(receiver, |mut r| async move { r.recv().await.map(|c| (c, r)) });
    attachment(filename, Body::from_stream(chunks))
}

/// A CSV file to save, never cached.
fn attachment(filename: &str, body: Body) -> Response {
    let headers = [
        (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        (CACHE_CONTROL, "no-store".to_owned()),
    ];
    (headers, body).into_response()
}
