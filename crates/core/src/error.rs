//! Errors are values with a message a person understands.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Everything that can go wrong in the public API.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Two shapes that an op needs to agree do not; names both.
    ShapeMismatch {
        op: &'static str,
        what: String,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },
    /// An argument out of its domain (a label past the class count, a zero stride...).
    InvalidArgument { op: &'static str, message: String },
    /// A file or byte buffer that could not be decoded.
    Decode(String),
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    pub fn shape(op: &'static str, what: impl Into<String>, lhs: &[usize], rhs: &[usize]) -> Self {
        Error::ShapeMismatch {
            op,
            what: what.into(),
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
        }
    }

    pub fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch { op, what, lhs, rhs } => {
                write!(f, "{op}: shape mismatch, {what}: {lhs:?} vs {rhs:?}")
            }
            Error::InvalidArgument { op, message } => write!(f, "{op}: {message}"),
            Error::Decode(message) => write!(f, "cannot decode: {message}"),
        }
    }
}
