//! How many partitions the related rows are grouped by profile and joined to the profiles in.
//!
//! DataFusion splits every stage into as many partitions as the machine has cores. For the
//! grouping of a related table by profile that is too few: the grouping of 50,000,000 orders
//! into the measures of 7,850,000 customers in two partitions probes two hash tables of
//! hundreds of megabytes at random, one cache miss per order, and spent 3.9 s of CPU there even
//! when nothing spilled. Split finer, each partition's table stays small enough for the cache
//! (the idea of DuckDB's radix-partitioned aggregation): in 32 partitions the same grouping
//! took 2.1 s with spilling, and the whole count 3.9 s instead of 7.2 s. The scans of such a
//! query are split as finely, and each partition's reader keeps buffers of its own — the reason
//! segments over the profiles' own columns never take more than the cores' count (16 partitions took 210 MB
//! instead of 125 MB there, no faster) — but over related rows the smaller tables more than
//! make up for it (723 MB against 877 MB at its peak).
//!
//! Finer partitions need a floor of memory each (each grouping, buffer and sort keeps some for
//! itself), so their number is bounded by the memory limit; joins by sorting keep the cores'
//! count, since every partition then holds two sorts with a merge reservation of their own.
//! So do member streams: they read every mapped column, each partition's Parquet reader holds
//! its row group's columns whole, and the API paces an export far below what the engine does.

use bytesize::ByteSize;

/// About how many profiles' measures a partition's hash table holds: a few megabytes of keys
/// and aggregate states, within the processor's cache.
const PROFILES_PER_PARTITION: usize = 250_000;

/// The memory limit a partition needs beside the others: its partial and final grouping, the
/// repartitioning buffers and its part of the join's table keep at least a few megabytes each.
const LIMIT_PER_PARTITION: ByteSize = ByteSize::mib(32);

/// The most partitions a count is split into, however large the data.
const MOST_PARTITIONS: usize = 64;

/// The partitions to group and join the related rows of `profile_rows` profiles in, within
/// `memory_limit`, on a session that uses `cores` partitions. Without a row count from the
/// source's statistics, the cores' count.
pub(crate) fn grouping_partitions(
    cores: usize,
    profile_rows: Option<usize>,
    memory_limit: ByteSize,
) -> usize {
    let Some(rows) = profile_rows else {
        return cores;
    };
    let wanted = rows.div_ceil(PROFILES_PER_PARTITION);
    let affordable =
        usize::try_from(memory_limit.as_u64() / LIMIT_PER_PARTITION.as_u64()).unwrap_or(usize::MAX);
    wanted.min(affordable).min(MOST_PARTITIONS).max(cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_per_quarter_million_profiles_up_to_what_the_limit_affords() {
        let gib = ByteSize::gib(1);
        assert_eq!(grouping_partitions(2, Some(1_000_000), gib), 4);
        assert_eq!(
            grouping_partitions(2, Some(10_000_000), gib),
            32,
            "1 GiB affords 32"
        );
        assert_eq!(
            grouping_partitions(2, Some(10_000_000), ByteSize::gib(4)),
            40
        );
        assert_eq!(
            grouping_partitions(2, Some(100_000_000), ByteSize::gib(16)),
            64
        );
    }

    #[test]
    fn never_fewer_than_the_cores() {
        assert_eq!(grouping_partitions(2, Some(1_000), ByteSize::gib(1)), 2);
        assert_eq!(grouping_partitions(8, Some(1_000_000), ByteSize::gib(1)), 8);
        assert_eq!(
            grouping_partitions(2, Some(10_000_000), ByteSize::mib(16)),
            2
        );
        assert_eq!(
            grouping_partitions(2, None, ByteSize::gib(4)),
            2,
            "rows unknown"
        );
    }
}
