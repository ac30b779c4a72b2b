//! A minimal HTTP/1.1 keep-alive client: requests are serialized once, before the run; each round
//! trip is one write and reads until the response's `Content-Length` is in.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A serialized `POST` with a body.
pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A serialized `GET`.
pub fn get(addr: SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

/// One keep-alive connection.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    buffer: BytesMut,
    /// Bytes of the previous response still at the front of the buffer.
    consumed: usize,
    body: (usize, usize),
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

impl Connection {
    /// Connects (with `TCP_NODELAY`).
    ///
    /// # Errors
    ///
    /// The connection fails.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buffer: BytesMut::with_capacity(16 * 1024), consumed: 0, body: (0, 0) })
    }

    /// Connects, retrying for up to `patience` while the server starts.
    ///
    /// # Errors
    ///
    /// The last connection error.
    pub async fn connect_patiently(addr: SocketAddr, patience: Duration) -> io::Result<Self> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match Self::connect(addr).await {
                Ok(connection) => return Ok(connection),
                Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Sends a serialized request and reads its response: the status; the body is then
    /// [`body`](Self::body).
    ///
    /// # Errors
    ///
    /// I/O errors, a closed connection, a response without `Content-Length`.
    pub async fn round_trip(&mut self, request: &[u8]) -> io::Result<u16> {
        self.buffer.advance(self.consumed);
        self.consumed = 0;
        self.stream.write_all(request).await?;
        loop {
            if let Some(status) = self.parse()? {
                return Ok(status);
            }
            self.buffer.reserve(4096);
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by the server"));
            }
        }
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        &self.buffer[self.body.0..self.body.1]
    }

    fn parse(&mut self) -> io::Result<Option<u16>> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&self.buffer) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(error) => return Err(invalid(format!("bad response: {error}"))),
        };
        let length = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
            .ok_or_else(|| invalid("response without Content-Length"))?;
        let status = response.code.ok_or_else(|| invalid("response without status"))?;
        if self.buffer.len() < head + length {
            return Ok(None);
        }
        self.body = (head, head + length);
        self.consumed = head + length;
        Ok(Some(status))
    }
}
