//! Turns CRLF line ends into LF before the CSV parser sees them. The csv crate accepts
//! CRLF, but then counts a record's line from where the previous record's `\n` ends,
//! which puts every reported line number one too low.

use std::io::{self, Read};

pub(super) struct CrlfToLf<R> {
    inner: R,
    /// A `\r` read at the end of the last chunk, not yet known to be followed by `\n`.
    pending_cr: bool,
}

impl<R: Read> CrlfToLf<R> {
    pub(super) fn new(inner: R) -> Self {
        Self { inner, pending_cr: false }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Leave room to put back a held `\r` that turns out not to precede `\n`.
        let mut chunk = vec![0u8; buf.len().saturating_sub(1).max(1)];
        let n = self.inner.read(&mut chunk)?;
        let mut out = 0;
        if self.pending_cr {
            self.pending_cr = false;
            if n == 0 || chunk[0] != b'\n' {
                buf[out] = b'\r';
                out += 1;
            }
        }
        if n == 0 {
            return Ok(out);
        }
        for i in 0..n {
            let byte = chunk[i];
            if byte == b'\r' {
                match chunk.get(i + 1).filter(|_| i + 1 < n) {
                    Some(b'\n') => continue,
                    Some(_) => {}
                    None => {
                        self.pending_cr = true;
                        continue;
                    }
                }
            }
            buf[out] = byte;
            out += 1;
        }
        if out == 0 && self.pending_cr {
            // Only a held `\r` so far; read on rather than signal the end of the input.
            return self.read(buf);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(input: &[u8], chunk: usize) -> Vec<u8> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        let mut reader = CrlfToLf::new(Trickle(input, chunk));
        let mut buf = [0u8; 3];
        loop {
            let n = reader.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn crlf_becomes_lf_wherever_reads_split_it_and_lone_cr_stays() {
        for chunk in 1..6 {
            assert_eq!(convert(b"a,b\r\nc,d\r\n", chunk), b"a,b\nc,d\n", "chunk {chunk}");
            assert_eq!(convert(b"a\rb\r", chunk), b"a\rb\r", "chunk {chunk}");
            assert_eq!(convert(b"\r\r\n", chunk), b"\r\n", "chunk {chunk}");
        }
    }
}
