//! Comparisons with umoci on the repository's fixtures.
