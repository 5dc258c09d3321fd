//! Entry points for the fuzz targets in `fuzz/` and the property tests: thin, public wrappers
//! around private parsing functions of the gateway. Not an API: hidden from the docs and free
//! to change with the functions it wraps.
#![doc(hidden)]

/// The callback's strict query parsing ([`crate::login`]): the decoded pairs in order, or
/// `None` when a parameter name is repeated.
pub fn callback_params(query: Option<&str>) -> Option<Vec<(String, String)>> {
    crate::login::strict_params(query)
}
