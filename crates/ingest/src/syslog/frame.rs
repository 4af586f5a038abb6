//! Syslog over TCP (RFC 6587): messages are framed by octet counting (`LEN SP MSG`,
//! what rsyslog's RFC 5424 forwarding sends) or end with LF (the older
//! "non-transparent" framing most senders use). Both are read from one stream, frame
//! by frame, and a frame longer than the cap is cut, its excess skipped as it arrives:
//! memory stays within the cap plus one read.

/// One message cut from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message, at most the framer's cap.
    pub bytes: Vec<u8>,
    /// Whether the message was longer than the cap and is cut.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a frame boundary.
    Ready,
    /// Skipping the rest of an octet-counted frame that was cut: bytes left.
    Discard(usize),
    /// Skipping the rest of an LF-terminated frame that was cut.
    DiscardLine,
}

/// Splits a byte stream into syslog frames; push bytes as they arrive, then take
/// frames until there are none.
#[derive(Debug)]
pub struct Framer {
    buffer: Vec<u8>,
    /// Where the unread bytes of `buffer` begin: frames are consumed by moving this,
    /// and the buffer is compacted once per push (a drain per frame moved the rest of
    /// a 64 KiB read once for each of its thousand lines).
    start: usize,
    max: usize,
    state: State,
}

/// The longest length prefix read as octet counting (10 digits: over 4 GB).
const MAX_COUNT_DIGITS: usize = 10;

enum Count {
    /// Not octet counting: an LF-terminated frame that starts with a digit.
    No,
    /// Not decidable yet.
    NeedMore,
    /// `length` bytes of message after a prefix of `prefix` bytes.
    Octets { length: usize, prefix: usize },
}

impl Framer {
    /// A framer cutting messages at `max` bytes.
    pub fn new(max: usize) -> Self {
        Framer {
            buffer: Vec::new(),
            start: 0,
            max: max.max(1),
            state: State::Ready,
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, if the bytes pushed hold one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Discard(left) => {
                    let take = left.min(self.unread().len());
                    self.start += take;
                    if take < left {
                        self.state = State::Discard(left - take);
                        return None;
                    }
                    self.state = State::Ready;
                }
                State::DiscardLine => match memchr::memchr(b'\n', self.unread()) {
                    Some(end) => {
                        self.start += end + 1;
                        self.state = State::Ready;
                    }
                    None => {
                        self.clear();
                        return None;
                    }
                },
                State::Ready => return self.frame_at_boundary(),
            }
        }
    }

    /// What is left when the stream ends: an unterminated last message (cut at the
    /// cap), if any.
    pub fn finish(&mut self) -> Option<Frame> {
        if self.state != State::Ready {
            self.clear();
            return None;
        }
        self.skip_separators();
        if self.unread().is_empty() {
            return None;
        }
        let mut bytes = self.unread().to_vec();
        self.clear();
        let truncated = bytes.len() > self.max;
        bytes.truncate(self.max);
        Some(Frame { bytes, truncated })
    }

    fn unread(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    fn clear(&mut self) {
        self.buffer.clear();
        self.start = 0;
    }

    fn skip_separators(&mut self) {
        let separators = self
            .unread()
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r' | b'\0'))
            .count();
        self.start += separators;
    }

    fn frame_at_boundary(&mut self) -> Option<Frame> {
        self.skip_separators();
        let first = *self.unread().first()?;
        if first.is_ascii_digit() {
            match octet_count(self.unread()) {
                Count::NeedMore => return None,
                Count::Octets { length, prefix } => {
                    let kept = length.min(self.max);
                    if self.unread().len() < prefix + kept {
                        return None;
                    }
                    let bytes = self.unread()[prefix..prefix + kept].to_vec();
                    self.start += prefix + kept;
                    if kept < length {
                        self.state = State::Discard(length - kept);
                    }
                    return Some(Frame {
                        bytes,
                        truncated: kept < length,
                    });
                }
                Count::No => {}
            }
        }
        let unread = self.unread();
        match memchr::memchr(b'\n', unread) {
            Some(end) => {
                let mut line = &unread[..end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let truncated = line.len() > self.max;
                let bytes = line[..line.len().min(self.max)].to_vec();
                self.start += end + 1;
                Some(Frame { bytes, truncated })
            }
            None if unread.len() > self.max => {
                let bytes = unread[..self.max].to_vec();
                self.clear();
                self.state = State::DiscardLine;
                Some(Frame {
                    bytes,
                    truncated: true,
                })
            }
            None => None,
        }
    }
}

/// Reads an octet-counting prefix: digits, a space, and a message that starts with
/// `<` (a PRI), so that an LF-terminated message that starts with digits is not
/// taken for a length.
fn octet_count(buffer: &[u8]) -> Count {
    let digits = buffer.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > MAX_COUNT_DIGITS {
        return Count::No;
    }
    match (buffer.get(digits), buffer.get(digits + 1)) {
        (None, _) | (Some(b' '), None) => Count::NeedMore,
        (Some(b' '), Some(b'<')) => {
            let length = buffer[..digits].iter().fold(0usize, |n, d| {
                n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
            });
            Count::Octets {
                length,
                prefix: digits + 1,
            }
        }
        _ => Count::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, input: &[u8], chunk: usize) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            framer.push(piece);
            while let Some(frame) = framer.next_frame() {
                out.push((
                    String::from_utf8_lossy(&frame.bytes).into_owned(),
                    frame.truncated,
                ));
            }
        }
        if let Some(frame) = framer.finish() {
            out.push((
                String::from_utf8_lossy(&frame.bytes).into_owned(),
                frame.truncated,
            ));
        }
        out
    }

    #[test]
    fn both_framings_in_one_stream_at_any_chunk_size() {
        let input = b"11 <13>1 - a b\n<13>plain line\r\n42 is a number\n\n5 <1>xy";
        for chunk in 1..input.len() {
            let got = frames(&mut Framer::new(1024), input, chunk);
            assert_eq!(
                got,
                [
                    ("<13>1 - a b".to_owned(), false),
                    ("<13>plain line".to_owned(), false),
                    ("42 is a number".to_owned(), false),
                    ("<1>xy".to_owned(), false),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn long_frames_are_cut_and_their_rest_skipped() {
        let input = b"20 <13>0123456789abcdefnext\nabcdefghijklmnop\nok\n";
        for chunk in 1..input.len() {
            let got = frames(&mut Framer::new(8), input, chunk);
            assert_eq!(
                got,
                [
                    ("<13>0123".to_owned(), true),
                    ("next".to_owned(), false),
                    ("abcdefgh".to_owned(), true),
                    ("ok".to_owned(), false),
                ],
                "chunk {chunk}"
            );
        }
    }
}
