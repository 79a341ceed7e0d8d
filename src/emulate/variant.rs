//! Segmentation variants: the same client bytes cut differently, applied to any profile (what
//! Autobahn calls "chopped" cases).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Variant {
    /// The profile's own segmentation.
    Default,
    /// C0+C1 in one write, and C2 with connect in one write.
    Coalesced,
    /// C0 alone, then C1.
    SplitC0,
    /// The first 1536 bytes of C0+C1, then the last byte of C1.
    Split1536,
    /// One byte per write (TCP_NODELAY) for C0, C1 and C2.
    Bytewise,
    /// C2 and connect in one write.
    C2WithConnect,
    /// C0, then up to 2 s waiting for S0 before C1. A server that waits for C1 is within the
    /// specification: the case is then INFORMATIONAL.
    C0WaitS0,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant::Default,
        Variant::Coalesced,
        Variant::SplitC0,
        Variant::Split1536,
        Variant::Bytewise,
        Variant::C2WithConnect,
        Variant::C0WaitS0,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Default => "default",
            Variant::Coalesced => "coalesced",
            Variant::SplitC0 => "split-c0",
            Variant::Split1536 => "split-1536",
            Variant::Bytewise => "bytewise",
            Variant::C2WithConnect => "c2-with-connect",
            Variant::C0WaitS0 => "c0-wait-s0",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
