/// Switches that make the simulated Longhorn fail the way a real one can, for tests that must see FAIL.
public actor LonghornFaults {
    /// Backups end in state Error with this message.
    public var backupError: String?
    /// Snapshots never become readyToUse.
    public var snapshotNeverReady = false
    /// Restores start and never finish.
    public var restoreStalls = false
    /// Restores end with the volume faulted (condition Restore, reason RestoreFailure).
    public var restoreFaults = false
    /// The backup store cannot be reached: targets become unavailable.
    public var storeUnreachable = false
    /// Snapshots capture the volume as it was before the latest writes reached it (an empty
    /// filesystem here): the backup completes and verifies, yet lacks the data just written.
    public var staleSnapshots = false
    /// A completed backup's first block is damaged in the store right after the upload (one
    /// byte flipped), as bit rot or a bad upload would: the backup says Completed, the store
    /// check must say otherwise.
    public var corruptUploadedBlock = false

    public init() {}

    public func set(backupError: String?) { self.backupError = backupError }
    public func set(snapshotNeverReady: Bool) { self.snapshotNeverReady = snapshotNeverReady }
    public func set(restoreStalls: Bool) { self.restoreStalls = restoreStalls }
    public func set(restoreFaults: Bool) { self.restoreFaults = restoreFaults }
    public func set(storeUnreachable: Bool) { self.storeUnreachable = storeUnreachable }
    public func set(staleSnapshots: Bool) { self.staleSnapshots = staleSnapshots }
    public func set(corruptUploadedBlock: Bool) { self.corruptUploadedBlock = corruptUploadedBlock }
}
