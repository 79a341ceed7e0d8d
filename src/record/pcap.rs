//! What a driver read and wrote, as a pcap file that Wireshark and tshark open.
//!
//! The frames are synthetic (Ethernet/IP/TCP built around each read or write, with consistent
//! sequence numbers and real timestamps): one frame per `read` or `write` call, so the file shows
//! the segmentation the application saw, which is what RTMP handshake problems are about. Many
//! connections can share one file, each as its own TCP flow.

use crate::transcript::Direction;
use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest TCP payload one synthetic IPv4 frame carries (65535 - 20 IP - 20 TCP); a larger
/// read or write becomes several frames.
const MAX_PAYLOAD: usize = 65_495;

/// A pcap file shared by every flow recorded into it.
pub struct PcapRecorder<W: Write> {
    writer: Mutex<Option<PcapWriter<W>>>,
}

impl<W: Write> std::fmt::Debug for PcapRecorder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapRecorder").finish_non_exhaustive()
    }
}

fn pcap_error(e: pcap_file::PcapError) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write> PcapRecorder<W> {
    pub fn new(out: W) -> io::Result<Arc<Self>> {
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::MicroSecond,
            snaplen: 262_144,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(out, header).map_err(pcap_error)?;
        Ok(Arc::new(Self {
            writer: Mutex::new(Some(writer)),
        }))
    }

    fn write_frame(&self, at: SystemTime, frame: &[u8]) -> io::Result<()> {
        let ts = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| io::Error::other("pcap writer poisoned"))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| io::Error::other("pcap recorder closed"))?;
        writer
            .write_packet(&PcapPacket::new(ts, frame.len() as u32, frame))
            .map(|_| ())
            .map_err(pcap_error)
    }

    /// Flushes and returns the underlying writer; later frames are refused.
    pub fn finish(&self) -> io::Result<Option<W>> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| io::Error::other("pcap writer poisoned"))?;
        Ok(guard.take().map(PcapWriter::into_writer))
    }
}

/// A pcap file that many connections record into, each as its own flow (`matrix --pcap`,
/// `load --pcap`): made by [`PcapFile::create`], finished once by [`PcapFile::close`] when
/// every connection is done.
pub type PcapFile = PcapRecorder<io::BufWriter<std::fs::File>>;

impl PcapFile {
    /// Creates (truncates) the file at `path` with the pcap header.
    pub fn create(path: &std::path::Path) -> io::Result<Arc<Self>> {
        PcapRecorder::new(io::BufWriter::new(std::fs::File::create(path)?))
    }

    /// Writes out what is buffered; later frames are refused.
    pub fn close(&self) -> io::Result<()> {
        match self.finish()? {
            Some(mut out) => out.flush(),
            None => Ok(()),
        }
    }
}

/// One connection written into a pcap file by the driver that made it, its frames stamped on
/// the connection's own clock (the time since `started`, as its transcript is), so that the
/// file and the transcript of one run agree. A failed write stops the recording and is kept as
/// the error to report; the connection goes on without it.
#[derive(Debug)]
pub struct FlowRecording {
    /// When the connection's clock started, on the wall clock the file keeps.
    started: SystemTime,
    flow: Option<TcpFlow<io::BufWriter<std::fs::File>>>,
    /// The file holds other connections too: ending this flow leaves it open.
    shared: bool,
    error: Option<String>,
}

impl FlowRecording {
    /// Nothing recorded yet; times given later count from `started`.
    pub fn new(started: SystemTime) -> Self {
        Self {
            started,
            flow: None,
            shared: false,
            error: None,
        }
    }

    /// Creates `path` holding this connection alone, made `at`.
    pub fn create(
        &mut self,
        path: &std::path::Path,
        local: SocketAddr,
        server: SocketAddr,
        at: Duration,
    ) {
        let opened = PcapFile::create(path)
            .and_then(|file| TcpFlow::open(file, local, server, self.started + at));
        match opened {
            Ok(flow) => self.flow = Some(flow),
            Err(e) => self.error = Some(format!("{}: {e}", path.display())),
        }
    }

    /// Starts this connection, made `at`, in a file other connections share.
    pub fn join(
        &mut self,
        file: &Arc<PcapFile>,
        local: SocketAddr,
        server: SocketAddr,
        at: Duration,
    ) {
        self.shared = true;
        match TcpFlow::open(file.clone(), local, server, self.started + at) {
            Ok(flow) => self.flow = Some(flow),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// One write or read, made `at`, as one frame.
    pub fn record(&mut self, direction: Direction, at: Duration, bytes: &[u8]) {
        if let Some(flow) = self.flow.as_mut() {
            if let Err(e) = flow.record(direction, self.started + at, bytes) {
                self.error = Some(e.to_string());
                self.flow = None;
            }
        }
    }

    /// Ends the flow `at` (with a reset from `reset_by` when one side reset it) and says what
    /// went wrong, if anything did.
    pub fn finish(mut self, at: Duration, reset_by: Option<Direction>) -> Option<String> {
        if let Some(mut flow) = self.flow.take() {
            if let Err(e) = flow.close(self.started + at, reset_by) {
                self.error.get_or_insert(e.to_string());
            }
            if !self.shared {
                if let Err(e) = flow.finish() {
                    self.error.get_or_insert(e.to_string());
                }
            }
        }
        self.error
    }
}

/// One TCP connection inside a [`PcapRecorder`].
pub struct TcpFlow<W: Write> {
    recorder: Arc<PcapRecorder<W>>,
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number of each side.
    client_seq: u32,
    server_seq: u32,
}

/// The flow's endpoints and sequence numbers; the shared recorder is left out.
impl<W: Write> std::fmt::Debug for TcpFlow<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpFlow")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("client_seq", &self.client_seq)
            .field("server_seq", &self.server_seq)
            .finish_non_exhaustive()
    }
}

impl<W: Write> TcpFlow<W> {
    /// Starts a flow with a three-way handshake at `at`.
    pub fn open(
        recorder: Arc<PcapRecorder<W>>,
        client: SocketAddr,
        server: SocketAddr,
        at: SystemTime,
    ) -> io::Result<Self> {
        let mut flow = Self {
            recorder,
            client,
            server,
            client_seq: 1_000,
            server_seq: 500_000,
        };
        flow.frame(Direction::ClientToServer, at, Flags::SYN, &[])?;
        flow.client_seq = flow.client_seq.wrapping_add(1);
        flow.frame(Direction::ServerToClient, at, Flags::SYN_ACK, &[])?;
        flow.server_seq = flow.server_seq.wrapping_add(1);
        flow.frame(Direction::ClientToServer, at, Flags::ACK, &[])?;
        Ok(flow)
    }

    /// One read (client to server) or write (server to client) of `bytes`.
    pub fn record(&mut self, direction: Direction, at: SystemTime, bytes: &[u8]) -> io::Result<()> {
        for part in bytes.chunks(MAX_PAYLOAD) {
            self.frame(direction, at, Flags::PSH_ACK, part)?;
            let seq = match direction {
                Direction::ClientToServer => &mut self.client_seq,
                Direction::ServerToClient => &mut self.server_seq,
            };
            *seq = seq.wrapping_add(part.len() as u32);
        }
        Ok(())
    }

    /// Ends the flow: FIN from each side, or a RST from `by` when the connection was reset.
    pub fn close(&mut self, at: SystemTime, reset_by: Option<Direction>) -> io::Result<()> {
        if let Some(by) = reset_by {
            return self.frame(by, at, Flags::RST, &[]);
        }
        for direction in [Direction::ServerToClient, Direction::ClientToServer] {
            self.frame(direction, at, Flags::FIN_ACK, &[])?;
            match direction {
                Direction::ClientToServer => self.client_seq = self.client_seq.wrapping_add(1),
                Direction::ServerToClient => self.server_seq = self.server_seq.wrapping_add(1),
            }
        }
        self.frame(Direction::ServerToClient, at, Flags::ACK, &[])
    }

    /// Flushes the file this flow writes to (for a file that holds this one flow).
    pub fn finish(&self) -> io::Result<()> {
        match self.recorder.finish()? {
            Some(mut out) => out.flush(),
            None => Ok(()),
        }
    }

    fn frame(
        &self,
        direction: Direction,
        at: SystemTime,
        flags: Flags,
        payload: &[u8],
    ) -> io::Result<()> {
        let (src, dst, seq, ack) = match direction {
            Direction::ClientToServer => {
                (self.client, self.server, self.client_seq, self.server_seq)
            }
            Direction::ServerToClient => {
                (self.server, self.client, self.server_seq, self.client_seq)
            }
        };
        let mac = |a: &SocketAddr| {
            if *a == self.client {
                [2, 0, 0, 0, 0, 1]
            } else {
                [2, 0, 0, 0, 0, 2]
            }
        };
        let eth = PacketBuilder::ethernet2(mac(&src), mac(&dst));
        let ip = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
            (s, d) => eth.ipv6(v6(s), v6(d), 64),
        };
        let mut tcp = ip.tcp(src.port(), dst.port(), seq, 65_535);
        if flags.syn {
            tcp = tcp.syn();
        }
        if flags.ack {
            // The SYN carries no acknowledgement.
            tcp = tcp.ack(ack);
        }
        if flags.psh {
            tcp = tcp.psh();
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        if flags.rst {
            tcp = tcp.rst();
        }
        let mut frame = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut frame, payload).map_err(io::Error::other)?;
        self.recorder.write_frame(at, &frame)
    }
}

fn v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V6(v6) => v6.octets(),
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
    }
}

#[derive(Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
    rst: bool,
}

impl Flags {
    const SYN: Flags = Flags {
        syn: true,
        ack: false,
        psh: false,
        fin: false,
        rst: false,
    };
    const SYN_ACK: Flags = Flags {
        syn: true,
        ack: true,
        psh: false,
        fin: false,
        rst: false,
    };
    const ACK: Flags = Flags {
        syn: false,
        ack: true,
        psh: false,
        fin: false,
        rst: false,
    };
    const PSH_ACK: Flags = Flags {
        syn: false,
        ack: true,
        psh: true,
        fin: false,
        rst: false,
    };
    const FIN_ACK: Flags = Flags {
        syn: false,
        ack: true,
        psh: false,
        fin: true,
        rst: false,
    };
    const RST: Flags = Flags {
        syn: false,
        ack: false,
        psh: false,
        fin: false,
        rst: true,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;

    #[test]
    fn frames_carry_the_bytes_with_consistent_sequence_numbers() {
        let recorder = PcapRecorder::new(Vec::new()).unwrap();
        let client: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:1935".parse().unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut flow = TcpFlow::open(recorder.clone(), client, server, t).unwrap();
        flow.record(Direction::ClientToServer, t, &[3; 1537])
            .unwrap();
        flow.record(Direction::ServerToClient, t, &[3; 1]).unwrap();
        flow.record(Direction::ServerToClient, t, &vec![7; 100_000])
            .unwrap();
        flow.close(t, None).unwrap();
        let bytes = recorder.finish().unwrap().unwrap();
        let mut reader = PcapReader::new(&bytes[..]).unwrap();
        let mut frames = Vec::new();
        while let Some(p) = reader.next_packet() {
            let p = p.unwrap();
            let sliced = etherparse::SlicedPacket::from_ethernet(&p.data).unwrap();
            let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport else {
                panic!()
            };
            frames.push((
                tcp.source_port(),
                tcp.sequence_number(),
                tcp.payload().len(),
            ));
        }
        // SYN, SYN-ACK, ACK, C0+C1, S0, S1.. split in two frames, FIN, FIN, ACK.
        assert_eq!(frames.len(), 3 + 1 + 1 + 2 + 3);
        assert_eq!(frames[3], (50000, 1001, 1537));
        assert_eq!(frames[4], (1935, 500_001, 1));
        assert_eq!(frames[5], (1935, 500_002, MAX_PAYLOAD));
        assert_eq!(
            frames[6],
            (1935, 500_002 + MAX_PAYLOAD as u32, 100_000 - MAX_PAYLOAD)
        );
        assert_eq!(
            frames[7].1,
            500_002 + 100_000,
            "the server's FIN follows its last byte"
        );
    }
}
