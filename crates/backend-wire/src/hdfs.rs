//! What the provider reads back of an HDFS path, whichever client asked: the answer types of
//! the provider's `Hdfs` trait, made by [`crate::webhdfs`] from the NameNode's answers.

/// A file or directory as read back (GETFILESTATUS, LISTSTATUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    /// Owning user.
    pub owner: String,
    /// Owning group.
    pub group: String,
    /// Permission bits in octal, without a leading zero: `750`.
    pub permission: String,
    /// A directory (else a file or a symlink).
    pub is_dir: bool,
}

/// A directory's quotas and what counts against them (GETQUOTAUSAGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    /// Most names (files and directories, itself included); None: no quota.
    pub namespace_quota: Option<i64>,
    /// Most raw bytes (replication included); None: no quota.
    pub space_quota: Option<i64>,
    /// Names in use.
    pub file_and_directory_count: i64,
    /// Raw bytes in use.
    pub space_consumed: i64,
}
