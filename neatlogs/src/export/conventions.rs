//! Which attribute vocabularies go on the wire ([`Conventions`]), and how
//! request bodies are compressed ([`Compression`]).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use crate::error::ParseError;

/// The attribute vocabularies written on each span, chosen per destination.
/// The hot path records each fact once; the vocabularies are applied when
/// a batch is encoded, on the export thread. Several can be combined (a key
/// two of them share is written once).
///
/// | vocabulary | read by | the end-user | the session |
/// |---|---|---|---|
/// | [`NEATLOGS`](Conventions::NEATLOGS) (default) | the Neatlogs backend, `neatlogs serve` | `neatlogs.end_user.id`, `enduser.id` | `neatlogs.session.id` |
/// | [`OPENINFERENCE`](Conventions::OPENINFERENCE) | Arize Phoenix, Arize | `user.id` | `session.id` |
/// | [`GENAI`](Conventions::GENAI) | Langfuse, Datadog, other OpenTelemetry backends | `enduser.id`, `langfuse.user.id` | `gen_ai.conversation.id`, `langfuse.session.id` |
///
/// Identity is written on the trace root only. `docs/wire.md` lists every
/// key. Also `NEATLOGS_CONVENTIONS=neatlogs,openinference,genai` (any
/// subset, any order).
///
/// ```
/// use neatlogs::export::Conventions;
/// let both = Conventions::NEATLOGS | Conventions::OPENINFERENCE;
/// assert_eq!("openinference,neatlogs".parse::<Conventions>().unwrap(), both);
/// assert!(both.contains(Conventions::OPENINFERENCE));
/// assert_eq!(both.to_string(), "neatlogs,openinference");
/// assert!("phoenix".parse::<Conventions>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conventions(u8);

impl Conventions {
    /// The Neatlogs vocabulary (`neatlogs.*`, as the official Python SDK
    /// writes it).
    pub const NEATLOGS: Conventions = Conventions(1);
    /// OpenInference (`llm.*`, `user.id`, `session.id`), read by Phoenix.
    pub const OPENINFERENCE: Conventions = Conventions(2);
    /// The OpenTelemetry GenAI semantic conventions (`gen_ai.*`) plus the
    /// trace-level keys Langfuse reads (`langfuse.*`).
    pub const GENAI: Conventions = Conventions(4);
    /// Every vocabulary.
    pub const ALL: Conventions = Conventions(7);

    const NAMES: [(Conventions, &'static str); 3] = [
        (Conventions::NEATLOGS, "neatlogs"),
        (Conventions::OPENINFERENCE, "openinference"),
        (Conventions::GENAI, "genai"),
    ];

    /// Whether every vocabulary of `other` is in `self`.
    pub const fn contains(self, other: Conventions) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Default for Conventions {
    /// [`Conventions::NEATLOGS`].
    fn default() -> Self {
        Conventions::NEATLOGS
    }
}

impl BitOr for Conventions {
    type Output = Conventions;
    fn bitor(self, rhs: Conventions) -> Conventions {
        Conventions(self.0 | rhs.0)
    }
}

impl BitOrAssign for Conventions {
    fn bitor_assign(&mut self, rhs: Conventions) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Conventions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (c, name) in Conventions::NAMES {
            if self.contains(c) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Conventions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Conventions({self})")
    }
}

impl FromStr for Conventions {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Conventions(0);
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = part.to_ascii_lowercase();
            let (c, _) = Conventions::NAMES
                .into_iter()
                .find(|(_, name)| *name == lower)
                .ok_or_else(|| ParseError::new("vocabulary", part, VOCABULARIES))?;
            out |= c;
        }
        if out.0 == 0 {
            return Err(ParseError::new("vocabulary", s, VOCABULARIES));
        }
        Ok(out)
    }
}

/// How OTLP/HTTP request bodies are compressed. Also
/// `NEATLOGS_COMPRESSION` and `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`
/// (`gzip`, `none`, and `zstd` with the `zstd` feature).
///
/// | encoding | CPU per 11-span trace | bytes per trace | share of the protobuf |
/// |---|---|---|---|
/// | [`Gzip`](Compression::Gzip) (default, level 1) | ~5 µs | ~490 | 11.5 % |
/// | `Zstd` (feature `zstd`, level -1) | ~2.6 µs | ~315 | 7.4 % |
/// | [`None`](Compression::None) | ~0.1 µs | ~4,240 | 100 % |
///
/// (batches of 512 spans, as the exporter sends them, measured by
/// `benches/benches/compression.rs`; a request of a single trace compresses
/// to ~1/4 whatever the encoding, in ~11 µs with gzip and ~7 µs with zstd.)
/// gzip is the default: every OTLP/HTTP receiver and the Neatlogs backend
/// accept it, and level 1 is its cheapest level (3 and 6 cost two and four
/// times as much for a fifth to a quarter fewer bytes). zstd costs about half as much
/// and sends a third fewer bytes, for receivers that accept
/// `Content-Encoding: zstd` (the OpenTelemetry Collector, `neatlogs
/// serve`); it needs the `zstd` cargo feature, which builds libzstd's C
/// sources. `None` is for a receiver on the same machine, where bytes cost
/// less than CPU.
///
/// ```
/// use neatlogs::export::Compression;
/// assert_eq!("gzip".parse::<Compression>().unwrap(), Compression::Gzip);
/// assert_eq!("none".parse::<Compression>().unwrap(), Compression::None);
/// assert!("brotli".parse::<Compression>().is_err());
/// // Without the `zstd` feature, `zstd` is refused with a reason that names it.
/// # #[cfg(not(feature = "zstd"))]
/// assert!("zstd".parse::<Compression>().unwrap_err().to_string().contains("feature"));
/// # #[cfg(feature = "zstd")]
/// # assert_eq!("zstd".parse::<Compression>().unwrap(), Compression::Zstd);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`Content-Encoding: gzip`) at level 1, the default: every
    /// OTLP/HTTP receiver accepts it.
    #[default]
    Gzip,
    /// No compression.
    None,
    /// zstd (`Content-Encoding: zstd`) at level -1 (a fast level): less
    /// CPU and fewer bytes than gzip, for receivers that accept it (the OpenTelemetry
    /// Collector and `neatlogs serve` do). Needs the `zstd` feature.
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Compression {
    /// The name used by `NEATLOGS_COMPRESSION` and
    /// `OTEL_EXPORTER_OTLP_COMPRESSION`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::None => "none",
            #[cfg(feature = "zstd")]
            Compression::Zstd => "zstd",
        }
    }
}

const VOCABULARIES: &str = "a comma-separated list of neatlogs, openinference, genai";

/// The names [`Compression`] parses, as its errors list them.
#[cfg(feature = "zstd")]
const COMPRESSIONS: &str = "gzip, zstd or none";
/// The names [`Compression`] parses, as its errors list them.
#[cfg(not(feature = "zstd"))]
const COMPRESSIONS: &str = "gzip or none";

impl FromStr for Compression {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gzip" => Ok(Compression::Gzip),
            "none" => Ok(Compression::None),
            #[cfg(feature = "zstd")]
            "zstd" => Ok(Compression::Zstd),
            #[cfg(not(feature = "zstd"))]
            "zstd" => Err(ParseError::new(
                "compression",
                s,
                "gzip or none: zstd needs neatlogs' cargo feature `zstd`",
            )),
            _ => Err(ParseError::new("compression", s, COMPRESSIONS)),
        }
    }
}
