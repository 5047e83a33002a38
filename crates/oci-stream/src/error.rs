//! The one error type of this crate.

/// Errors of this crate: options that cannot be used.
///
/// Errors while the layer is streamed come out of its compressed reader as `std::io::Error`,
/// and the [`oci_partial::Layer`] methods return [`oci_partial::Error`] (this type converts
/// into it, as [`oci_partial::Error::Source`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option is out of its range.
    #[error("invalid stream layer option {option} = {value}: {allowed}")]
    InvalidOption {
        /// The option: `"level"`, `"threads"`, `"block_size"` or `"compression"`.
        option: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
}

impl From<Error> for oci_partial::Error {
    fn from(e: Error) -> Self {
        oci_partial::Error::source(e)
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
