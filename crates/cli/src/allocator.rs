//! The C library's allocator, told to give memory back sooner.
//!
//! glibc's allocator serves a request of 128 KiB or more with a mapping of its own, but each such
//! block freed raises that threshold to its size (up to 32 MiB), and the memory freed at the top
//! of a heap is returned only past twice the threshold. The grouping of related rows grows and
//! frees hash tables of several megabytes, so after a count those blocks came from the heaps
//! and stayed there: a count of behaviour segments whose live memory peaked at 623 MB (a heap
//! profile) held 780–1,170 MB. Fixed thresholds of 4 MiB map the large tables on their own and
//! trim the heaps as they shrink: the same count peaks at 750–840 MB, counts take as long, and
//! an export keeps about 100 MB instead of 113–118 MB (README, under (f) and (g)).
//!
//! A threshold set in the environment (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) is
//! left as glibc read it.

/// The size from which a block is mapped on its own, and the free memory at the top of a heap
/// past which it is returned.
const THRESHOLD_BYTES: i32 = 4 * 1024 * 1024;

/// The thresholds to set: those the environment does not set already.
fn thresholds_to_set(is_set: impl Fn(&str) -> bool) -> Vec<(&'static str, Threshold)> {
    [
        ("MALLOC_MMAP_THRESHOLD_", Threshold::Mapping),
        ("MALLOC_TRIM_THRESHOLD_", Threshold::Trimming),
    ]
    .into_iter()
    .filter(|(variable, _)| !is_set(variable))
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threshold {
    Mapping,
    Trimming,
}

/// Sets the thresholds the environment leaves unset (glibc only; elsewhere nothing changes).
pub(crate) fn give_memory_back_sooner() {
    for (_, threshold) in thresholds_to_set(|variable| std::env::var_os(variable).is_some()) {
        set(threshold);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set(threshold: Threshold) {
    let parameter = match threshold {
        Threshold::Mapping => libc::M_MMAP_THRESHOLD,
        Threshold::Trimming => libc::M_TRIM_THRESHOLD,
    };
    // SAFETY: `mallopt` takes a parameter and a value and changes only the allocator's
    // settings, under its own lock; both are valid for glibc.
    let accepted = unsafe { libc::mallopt(parameter, THRESHOLD_BYTES) };
    if accepted != 1 {
        tracing::debug!(
            ?threshold,
            "The C library refused the allocator's threshold."
        );
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set(_threshold: Threshold) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_thresholds_are_set_unless_the_environment_sets_them() {
        let thresholds = |set: &[&str]| -> Vec<Threshold> {
            thresholds_to_set(|variable| set.contains(&variable))
                .into_iter()
                .map(|(_, threshold)| threshold)
                .collect()
        };
        assert_eq!(thresholds(&[]), [Threshold::Mapping, Threshold::Trimming]);
        assert_eq!(
            thresholds(&["MALLOC_MMAP_THRESHOLD_"]),
            [Threshold::Trimming]
        );
        assert_eq!(
            thresholds(&["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"]),
            []
        );
    }
}
