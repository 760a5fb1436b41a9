//! A minimal blocking HTTP/1.1 client for the Docker Engine API.
//!
//! The Engine API is plain HTTP/1.1 over a unix socket (or, rarely, plain TCP), and
//! Customs needs four GET requests from it. A general HTTP stack (hyper + an async
//! runtime + a unix-socket connector) would bring a runtime and several crates into a
//! host that is otherwise synchronous, and would still leave the things that matter
//! here to us: a total deadline per request, an idle timeout on the export stream,
//! and bounds on everything the daemon sends. So this module speaks exactly the
//! subset needed: one request per connection (`Connection: close`), responses with
//! `Content-Length`, `Transfer-Encoding: chunked` or close-delimited bodies, and
//! interim `1xx` responses skipped.
//!
//! Every read and write goes through [`Conn`], which re-arms the socket timeout before
//! each call to `min(idle, time left until the deadline)`: a daemon that stops
//! answering fails after `idle`, and one that trickles bytes forever fails at the
//! deadline. Header sections, chunk-size lines and trailers are read through bounded
//! buffers, so a hostile peer cannot make us allocate without limit.
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Largest response head (status line and headers) accepted.
const MAX_HEAD: u64 = 64 * 1024;
/// Most header lines accepted in one response head.
const MAX_HEADERS: usize = 200;
/// Longest chunk-size line (with extensions) or trailer line accepted.
const MAX_CHUNK_LINE: u64 = 4096;
/// Most interim (1xx) responses skipped before the real one.
const MAX_INTERIM: usize = 8;

/// Where a daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    /// `host:port`, plain HTTP.
    Tcp(String),
}

/// A connected socket whose every read and write is bounded by an idle timeout and an
/// absolute deadline.
pub struct Conn {
    stream: Stream,
    idle: Duration,
    deadline: Instant,
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    /// Connects to `addr`. A TCP connect is bounded by `idle`; a unix-socket connect
    /// to a listening socket completes at once (or is refused).
    pub fn connect(addr: &Address, idle: Duration, deadline: Instant) -> io::Result<Conn> {
        let stream = match addr {
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Address::Tcp(hostport) => {
                let mut last = None;
                let mut found = None;
                for sa in hostport.to_socket_addrs()? {
                    match TcpStream::connect_timeout(&sa, idle) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                match found {
                    Some(s) => {
                        let _ = s.set_nodelay(true);
                        Stream::Tcp(s)
                    }
                    None => {
                        return Err(last.unwrap_or_else(|| {
                            io::Error::new(io::ErrorKind::NotFound, "host name has no address")
                        }));
                    }
                }
            }
        };
        Ok(Conn {
            stream,
            idle,
            deadline,
        })
    }

    /// The timeout for the next socket call, or a `TimedOut` error past the deadline.
    fn arm(&self) -> io::Result<Duration> {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "deadline exceeded"))?;
        // A zero timeout means "block forever" to the OS; never pass one.
        Ok(left.min(self.idle).max(Duration::from_millis(1)))
    }
}

/// Socket timeouts surface as `WouldBlock` on Linux; report them as what they are.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut {
        io::Error::new(io::ErrorKind::TimedOut, "no data within the timeout")
    } else {
        e
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let t = self.arm()?;
        match &mut self.stream {
            Stream::Unix(s) => {
                s.set_read_timeout(Some(t))?;
                s.read(buf)
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(t))?;
                s.read(buf)
            }
        }
        .map_err(timed_out)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let t = self.arm()?;
        match &mut self.stream {
            Stream::Unix(s) => {
                s.set_write_timeout(Some(t))?;
                s.write(buf)
            }
            Stream::Tcp(s) => {
                s.set_write_timeout(Some(t))?;
                s.write(buf)
            }
        }
        .map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a request failed at the HTTP level.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The peer answered something that is not HTTP/1.x, or broke its framing.
    #[error("{0}")]
    Protocol(String),
}

impl HttpError {
    fn protocol(msg: impl Into<String>) -> HttpError {
        HttpError::Protocol(msg.into())
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, HttpError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
    }
}

/// A response whose head has been read; the body streams from `body`.
pub struct Response {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads the whole body, failing if it exceeds `limit` bytes.
    pub fn read_body(&mut self, limit: u64) -> Result<Vec<u8>, HttpError> {
        let mut out = Vec::new();
        (&mut self.body)
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(HttpError::protocol(format!(
                "response body larger than {limit} bytes"
            )));
        }
        Ok(out)
    }
}

/// Sends `GET path` on `conn` and reads the response head.
pub fn get(mut conn: Conn, host_header: &str, path: &str) -> Result<Response, HttpError> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: customs/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    conn.write_all(request.as_bytes())?;
    let mut reader = BufReader::with_capacity(64 * 1024, conn);
    for _ in 0..=MAX_INTERIM {
        let (status, headers) = read_head(&mut reader)?;
        if (100..200).contains(&status) {
            continue;
        }
        let kind = body_kind(status, &headers)?;
        return Ok(Response {
            status,
            headers,
            body: Body {
                reader,
                kind,
                read: 0,
            },
        });
    }
    Err(HttpError::protocol(format!(
        "more than {MAX_INTERIM} interim 1xx responses"
    )))
}

/// Reads one line (through `\n`) of at most `limit` bytes; EOF before the newline is
/// reported as `eof_msg`.
fn read_line(
    r: &mut impl BufRead,
    limit: u64,
    what: &str,
    eof_msg: &str,
) -> Result<Vec<u8>, HttpError> {
    let mut line = Vec::new();
    r.take(limit).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        if (line.len() as u64) >= limit {
            return Err(HttpError::protocol(format!(
                "{what} longer than {limit} bytes"
            )));
        }
        return Err(HttpError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            eof_msg.to_string(),
        )));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Parses a status line and headers.
fn read_head(r: &mut impl BufRead) -> Result<(u16, Vec<(String, String)>), HttpError> {
    let mut budget = MAX_HEAD;
    let status_line = read_line(
        r,
        budget,
        "response head",
        "connection closed before a complete response head",
    )?;
    budget = budget.saturating_sub(status_line.len() as u64 + 2);
    let status_line = String::from_utf8_lossy(&status_line).into_owned();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::protocol(format!(
            "not an HTTP/1.x response: {}",
            printable(status_line.as_bytes(), 60)
        )));
    }
    let status = match code.parse::<u16>() {
        Ok(s) if (100..600).contains(&s) && code.len() == 3 => s,
        _ => {
            return Err(HttpError::protocol(format!(
                "invalid HTTP status line: {}",
                printable(status_line.as_bytes(), 60)
            )));
        }
    };
    let mut headers = Vec::new();
    loop {
        if budget == 0 {
            return Err(HttpError::protocol(format!(
                "response head longer than {MAX_HEAD} bytes"
            )));
        }
        let line = read_line(
            r,
            budget,
            "response head",
            "connection closed in the middle of the response headers",
        )?;
        budget = budget.saturating_sub(line.len() as u64 + 2);
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(HttpError::protocol(format!(
                "more than {MAX_HEADERS} response headers"
            )));
        }
        let line = String::from_utf8_lossy(&line);
        let (name, value) = line.split_once(':').ok_or_else(|| {
            HttpError::protocol(format!(
                "malformed response header: {}",
                printable(line.as_bytes(), 60)
            ))
        })?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(HttpError::protocol(format!(
                "malformed response header name: {}",
                printable(name.as_bytes(), 60)
            )));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok((status, headers))
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Length(u64),
    Chunked(ChunkState),
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk, with this many data bytes left.
    Data(u64),
    /// After the last chunk and its trailers.
    Done,
}

fn body_kind(status: u16, headers: &[(String, String)]) -> Result<BodyKind, HttpError> {
    if status == 204 || status == 304 {
        return Ok(BodyKind::Empty);
    }
    let mut chunked = false;
    let mut length: Option<u64> = None;
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("transfer-encoding") {
            let last = v.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else {
                return Err(HttpError::protocol(format!(
                    "unsupported transfer encoding {}",
                    printable(v.as_bytes(), 40)
                )));
            }
        } else if k.eq_ignore_ascii_case("content-length") {
            let n = v
                .parse::<u64>()
                .ok()
                .filter(|_| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    HttpError::protocol(format!(
                        "invalid Content-Length {}",
                        printable(v.as_bytes(), 40)
                    ))
                })?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::protocol("conflicting Content-Length headers"));
            }
            length = Some(n);
        }
    }
    Ok(if chunked {
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3 item 3).
        BodyKind::Chunked(ChunkState::Size)
    } else if let Some(n) = length {
        BodyKind::Length(n)
    } else {
        BodyKind::Close
    })
}

/// A response body: de-chunked, and failing with `UnexpectedEof` when the connection
/// closes before the framing says the body ends.
pub struct Body {
    reader: BufReader<Conn>,
    kind: BodyKind,
    read: u64,
}

impl Body {
    /// Whether the end of the body can be told from a truncation (it cannot for a
    /// close-delimited body).
    pub fn is_delimited(&self) -> bool {
        !matches!(self.kind, BodyKind::Close)
    }

    fn truncated(&self, detail: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "truncated response: connection closed {detail} after {} body bytes",
                self.read
            ),
        )
    }

    fn chunk_size(&mut self) -> io::Result<u64> {
        let line = read_line(
            &mut self.reader,
            MAX_CHUNK_LINE,
            "chunk-size line",
            "connection closed before a chunk-size line",
        )
        .map_err(|e| match e {
            HttpError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.truncated("before the final chunk")
            }
            HttpError::Io(e) => e,
            HttpError::Protocol(m) => io::Error::new(io::ErrorKind::InvalidData, m),
        })?;
        let text = String::from_utf8_lossy(&line);
        let hex = text.split(';').next().unwrap_or("").trim();
        if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "invalid chunk-size line in chunked response: {}",
                    printable(&line, 40)
                ),
            ));
        }
        u64::from_str_radix(hex, 16)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("chunk size: {e}")))
    }

    fn expect_crlf(&mut self) -> io::Result<()> {
        let line =
            read_line(&mut self.reader, 3, "chunk terminator", "eof").map_err(|e| match e {
                HttpError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.truncated("inside a chunk")
                }
                HttpError::Io(e) => e,
                HttpError::Protocol(_) => io::Error::new(
                    io::ErrorKind::InvalidData,
                    "malformed chunked response: chunk data not followed by CRLF",
                ),
            })?;
        if !line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed chunked response: chunk data not followed by CRLF",
            ));
        }
        Ok(())
    }

    fn skip_trailers(&mut self) -> io::Result<()> {
        for _ in 0..MAX_HEADERS {
            let line = read_line(&mut self.reader, MAX_CHUNK_LINE, "trailer", "eof").map_err(
                |e| match e {
                    HttpError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        self.truncated("inside the trailers")
                    }
                    HttpError::Io(e) => e,
                    HttpError::Protocol(m) => io::Error::new(io::ErrorKind::InvalidData, m),
                },
            )?;
            if line.is_empty() {
                return Ok(());
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "too many trailer lines in chunked response",
        ))
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.kind {
                BodyKind::Empty | BodyKind::Chunked(ChunkState::Done) => return Ok(0),
                BodyKind::Length(left) => {
                    if left == 0 {
                        return Ok(0);
                    }
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(self.truncated(&format!("{left} bytes before the end")));
                    }
                    self.kind = BodyKind::Length(left - n as u64);
                    self.read = self.read.saturating_add(n as u64);
                    return Ok(n);
                }
                BodyKind::Close => {
                    let n = self.reader.read(buf)?;
                    self.read = self.read.saturating_add(n as u64);
                    return Ok(n);
                }
                BodyKind::Chunked(ChunkState::Size) => {
                    let size = self.chunk_size()?;
                    if size == 0 {
                        self.skip_trailers()?;
                        self.kind = BodyKind::Chunked(ChunkState::Done);
                    } else {
                        self.kind = BodyKind::Chunked(ChunkState::Data(size));
                    }
                }
                BodyKind::Chunked(ChunkState::Data(left)) => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(self.truncated("inside a chunk"));
                    }
                    let left = left - n as u64;
                    self.read = self.read.saturating_add(n as u64);
                    if left == 0 {
                        self.expect_crlf()?;
                        self.kind = BodyKind::Chunked(ChunkState::Size);
                    } else {
                        self.kind = BodyKind::Chunked(ChunkState::Data(left));
                    }
                    return Ok(n);
                }
            }
        }
    }
}

/// `bytes` as one printable line of at most `max` characters, for error messages.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if text.chars().count() > max {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn head_parsing_and_bounds() {
        let mut r =
            Cursor::new(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\n\r\nabc".to_vec());
        let (status, headers) = read_head(&mut r).unwrap();
        assert_eq!(status, 200);
        assert_eq!(body_kind(status, &headers).unwrap(), BodyKind::Length(3));
        let mut r = Cursor::new(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec());
        assert!(matches!(read_head(&mut r), Err(HttpError::Protocol(_))));
        let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 100_000));
        assert!(matches!(
            read_head(&mut Cursor::new(long)),
            Err(HttpError::Protocol(_))
        ));
        let h = vec![
            ("Content-Length".to_string(), "1".to_string()),
            ("content-length".to_string(), "2".to_string()),
        ];
        assert!(body_kind(200, &h).is_err());
        let h = vec![("Content-Length".to_string(), "+1".to_string())];
        assert!(body_kind(200, &h).is_err());
    }

    #[test]
    fn printable_is_one_line() {
        assert_eq!(printable(b"a\nb\r\n", 10), "\"a b\"");
        assert_eq!(printable(b"abcdef", 3), "\"abc…\"");
    }
}
